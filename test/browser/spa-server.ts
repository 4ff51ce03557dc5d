// What the browser tests share: an app server on 127.0.0.1 that serves one page (at `/` and
// `/callback`) and the built pkce bundle from dist/ as it is, and headless Chromium.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { programPath } from '../../scripts/test-prerequisites.mjs';

// CHROMIUM_PATH, else chromium / chromium-browser on PATH (the global setup checked it is there).
const CHROMIUM = programPath('chromium');
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));
/** Where the page imports the bundle from. */
export const BUNDLE = '/dist/pkce/index.js';

export interface SpaServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves `html` at `/` and `/callback`, and the built entry and the chunks it imports relatively. */
export async function startSpaServer(html: string): Promise<SpaServer> {
  if (!existsSync(`${dist}pkce/index.js`)) {
    throw new Error('dist/pkce/index.js is missing: run `npm run build` before this test (CI does)');
  }
  const app: Server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (/^\/dist\/(pkce\/index|chunk-[\w-]+)\.js$/.test(pathname)) {
      const file = await readFile(`${dist}${pathname.slice('/dist/'.length)}`).catch(() => undefined);
      if (file) res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(file);
      else res.writeHead(404).end();
    } else if (pathname === '/' || pathname === '/callback') {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(app.address() as AddressInfo).port}`,
    close: () =>
      new Promise((resolve) => {
        app.closeAllConnections();
        app.close(() => resolve());
      }),
  };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

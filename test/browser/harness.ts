// What the Chromium tests share: a page server on 127.0.0.1 that serves the built bundle
// of oauth-jwt-verify/pkce (dist/pkce/index.js and the chunks it imports, as `npm run build`
// wrote them) next to the test's HTML pages, and headless Chromium launched for CI.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { programPath } from '../../scripts/test-prerequisites.mjs';

/** Where a page imports the bundle from. */
export const BUNDLE = '/dist/pkce/index.js';
const dist = fileURLToPath(new URL('../../dist/', import.meta.url));

export interface AppServer {
  /** `http://127.0.0.1:<port>` */
  origin: string;
  close(): Promise<void>;
}

/**
 * Serves the built bundle under /dist/ and `pages` (path → HTML, read on every request, so
 * a page may be set after the server has started and its origin is known).
 */
export async function serveApp(pages: Record<string, () => string>): Promise<AppServer> {
  if (!existsSync(`${dist}pkce/index.js`)) {
    throw new Error('dist/pkce/index.js is missing: run `npm run build` before this test (CI does)');
  }
  const server: Server = createServer(async (req, res) => {
    const { pathname } = new URL(req.url ?? '/', 'http://127.0.0.1');
    // The built files as they are: the entry and the chunks it imports relatively.
    if (/^\/dist\/(pkce\/index|chunk-[\w-]+)\.js$/.test(pathname)) {
      const file = await readFile(`${dist}${pathname.slice('/dist/'.length)}`).catch(() => undefined);
      if (file) res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(file);
      else res.writeHead(404).end();
    } else if (Object.hasOwn(pages, pathname)) {
      res
        .writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
        .end(pages[pathname]!());
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Headless Chromium: CHROMIUM_PATH, else chromium / chromium-browser on PATH (the global setup checked). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: programPath('chromium'),
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

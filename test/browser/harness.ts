// What the Chromium tests share: a page server on 127.0.0.1 that serves the built bundle
// of oauth-jwt-verify/pkce (dist/pkce/index.js and the chunks it imports, as `npm run build`
// wrote them) next to the test's HTML pages, and headless Chromium launched for CI.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { type Browser, type Page, type Request, type Response, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
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

/**
 * A test SPA page: `<pre id="status">` and `<pre id="result">`, a module script that imports
 * `imports` from the bundle, has `config` and `show(id, value)` (a string as it is, anything
 * else as JSON), runs `script`, and shows whatever it throws as `{ error }` in #result.
 */
export function spaPage(options: {
  title: string;
  imports: string;
  config: unknown;
  script: string;
}): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${options.title}</title></head>
<body>
<pre id="status">loading</pre>
<pre id="result"></pre>
<script type="module">
import { ${options.imports} } from '${BUNDLE}';
const config = ${JSON.stringify(options.config)};
const show = (id, value) => {
  document.getElementById(id).textContent = typeof value === 'string' ? value : JSON.stringify(value);
};
try {
${options.script}
} catch (error) {
  show('status', 'failed');
  show('result', { error: { name: error.name, message: error.message, code: error.code, error: error.error } });
}
</script>
</body></html>`;
}

/** The page of the running test, and what it did. */
export interface ChromiumTab {
  readonly browser: Browser;
  readonly page: Page;
  /** Every request the page made, in order. */
  readonly requests: Request[];
  /** Every response it got, in order. */
  readonly responses: Response[];
  /** The messages of the page's uncaught errors. */
  readonly pageErrors: string[];
}

/**
 * Headless Chromium for a test file: launched in a beforeAll (registered here, so after the
 * file's own servers have started) and closed after all; each test gets a new page in a new
 * context that records its requests, responses and errors, closed after the test.
 * `prepare` runs on every new page before the test (routes, init scripts).
 */
export function useChromium(prepare?: (page: Page) => Promise<unknown>): ChromiumTab {
  let browser: Browser | undefined;
  let page: Page | undefined;
  const tab = {
    get browser() {
      if (!browser) throw new Error('Chromium is not running: use the tab inside a test');
      return browser;
    },
    get page() {
      if (!page) throw new Error('no page: use the tab inside a test');
      return page;
    },
    requests: [] as Request[],
    responses: [] as Response[],
    pageErrors: [] as string[],
  };
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    tab.requests.length = 0;
    tab.responses.length = 0;
    tab.pageErrors.length = 0;
    const opened = await tab.browser.newPage();
    opened.on('request', (request) => tab.requests.push(request));
    opened.on('response', (response) => tab.responses.push(response));
    opened.on('pageerror', (error) => tab.pageErrors.push(error.message));
    await prepare?.(opened);
    page = opened;
  });
  afterEach(async () => {
    await page?.context().close();
    page = undefined;
  });
  return tab;
}

/** Waits (across navigations) until the page has written its #result, and reads it as JSON. */
export async function readResult<T>(page: Page, timeout = 15_000): Promise<T> {
  await page.locator('#result:not(:empty)').waitFor({ timeout });
  return JSON.parse((await page.locator('#result').textContent())!) as T;
}

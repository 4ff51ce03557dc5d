// Runs a per-runtime bench job (bench/runtimes.mjs) in headless Chromium through
// playwright-core: bench/browser-child.mjs bundled for the browser, served with the job from
// 127.0.0.1, as smoke/run.mjs runs its browser check. Chromium from CHROMIUM_PATH, else PATH.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { locate } from '../scripts/test-prerequisites.mjs';

const entry = fileURLToPath(new URL('browser-child.mjs', import.meta.url));
const tokens = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

async function bundle() {
  const { build } = await import('esbuild');
  const output = await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'error',
    // The bench's copy of the built package, resolved with the browser conditions.
    alias: { 'oauth-jwt-verify': join(process.env.BENCH_PACKAGE_DIR, 'dist/index.js') },
  });
  return output.outputFiles[0].text;
}

let script;
/** The job's result, as runtime-child.mjs prints it for the command-line runtimes. */
export async function runInChromium(job, timeoutMs) {
  const chromium = locate('chromium');
  if (!chromium.path) throw new Error(`Chromium: ${chromium.problem}`);
  script ??= await bundle();
  const body = JSON.stringify({ ...job, tokens: tokens(job.tokensFile ?? job.memoryFile) });
  const html =
    '<!doctype html><meta charset="utf-8"><pre id="result"></pre><script type="module" src="/bench.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/bench.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else if (req.url === '/job.json') res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise((done) => server.listen(0, '127.0.0.1', done));
  const { chromium: playwright } = await import('playwright-core');
  const browser = await playwright.launch({
    executablePath: chromium.path,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-background-timer-throttling',
      '--disable-renderer-backgrounding',
      // window.gc and unrounded performance.memory, for the heap figure.
      '--js-flags=--expose-gc',
      '--enable-precise-memory-info',
    ],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    await page.locator('#result:not(:empty)').waitFor({ timeout: timeoutMs });
    return JSON.parse(await page.locator('#result').textContent());
  } finally {
    await browser.close();
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
  }
}

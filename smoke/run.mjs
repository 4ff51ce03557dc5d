#!/usr/bin/env node
// Smoke suite of the built, packed package in every runtime we claim: installs the tarball
// into a fresh temp folder (as a user would), starts the stub issuer from the installed
// `oauth-jwt-verify/testing` on 127.0.0.1, signs a token, and runs smoke/smoke.mjs in
// each runtime: every Node binary given, headless Chromium, Deno, Bun and workerd.
//
//   node smoke/run.mjs [--tarball path.tgz] [--strict]
//
// Without --tarball, `npm pack` of the current build (run `npm run build` first).
// Runtimes come from the environment; one that is not set is reported NOT RUN, which fails
// the run only with --strict (as .ci/run does):
//   SMOKE_NODE_BINS  Node binaries, separated by ':'   (default: this Node)
//   CHROMIUM_PATH    Chromium                          (default: chromium or chromium-browser on PATH)
//   DENO_BIN, BUN_BIN
//   MINIFLARE_DIR    a folder whose node_modules holds miniflare (npm install --prefix DIR miniflare)
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { packTarball } from '../scripts/ci-entries.mjs';
import { locate } from '../scripts/test-prerequisites.mjs';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));
const here = fileURLToPath(new URL('.', import.meta.url));
const RUNTIME_TIMEOUT_MS = 120_000;
const AUDIENCE = 'https://api.smoke.test';

const argv = process.argv.slice(2);
const option = (name) => {
  const index = argv.indexOf(name);
  return index === -1 ? undefined : argv[index + 1];
};
const strict = argv.includes('--strict');
const tarball = option('--tarball')
  ? resolve(option('--tarball'))
  : await packTarball(root, join(root, '.tmp', 'smoke'));

// A user's project: the tarball and its dependencies, nothing from this repository.
const project = await mkdtemp(join(tmpdir(), 'oauth-jwt-verify-smoke-'));
await writeFile(
  join(project, 'package.json'),
  JSON.stringify({ name: 'smoke-consumer', private: true, type: 'module' }),
);
await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball], {
  cwd: project,
});
for (const file of ['smoke.mjs', 'main.mjs', 'worker.mjs', 'browser.mjs']) {
  await copyFile(join(here, file), join(project, file));
}

const testing = await import(
  pathToFileURL(join(project, 'node_modules/oauth-jwt-verify/dist/testing/index.js')).href
);
const issuer = await testing.createTestIssuer({ listen: true, audience: AUDIENCE });
const config = {
  issuer: issuer.issuer,
  audience: AUDIENCE,
  token: await issuer.sign({ sub: 'smoke-user' }),
  clientId: 'smoke-client',
  redirectUri: 'http://127.0.0.1/callback',
};

/** Parses the `SMOKE_RESULT {json}` line a command-line runtime prints. */
function resultLine(stdout) {
  const line = stdout.split('\n').find((l) => l.startsWith('SMOKE_RESULT '));
  if (!line) throw new Error(`no SMOKE_RESULT line in output:\n${stdout}`);
  return JSON.parse(line.slice('SMOKE_RESULT '.length));
}

async function runCommand(command, args) {
  const { stdout } = await run(command, args, {
    cwd: project,
    timeout: RUNTIME_TIMEOUT_MS,
    env: { ...process.env, NO_COLOR: '1' },
  });
  return resultLine(stdout);
}

async function esbuildBundle(entry, options) {
  const { build } = await import('esbuild');
  const output = await build({
    entryPoints: [join(project, entry)],
    absWorkingDir: project,
    bundle: true,
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'error',
    ...options,
  });
  return output.outputFiles[0].text;
}

async function runChromium(executablePath) {
  const { chromium } = await import('playwright-core');
  const script = await esbuildBundle('browser.mjs', { platform: 'browser' });
  const html = `<!doctype html><meta charset="utf-8"><pre id="result"></pre>
<script>window.SMOKE_CONFIG = ${JSON.stringify(config)};</script>
<script type="module" src="/smoke.js"></script>`;
  const app = createServer((req, res) => {
    if (req.url === '/smoke.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    else res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
  });
  await new Promise((done) => app.listen(0, '127.0.0.1', done));
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  try {
    const page = await browser.newPage();
    const pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(`http://127.0.0.1:${app.address().port}/`);
    await page.locator('#result:not(:empty)').waitFor({ timeout: RUNTIME_TIMEOUT_MS });
    const result = JSON.parse(await page.locator('#result').textContent());
    if (pageErrors.length > 0)
      return { ...result, ok: false, error: `page errors: ${pageErrors.join('; ')}` };
    return result;
  } finally {
    await browser.close();
    app.closeAllConnections();
    await new Promise((done) => app.close(done));
  }
}

async function runWorkerd(miniflareDir) {
  const { Miniflare } = await import(
    pathToFileURL(join(miniflareDir, 'node_modules/miniflare/dist/src/index.js')).href
  );
  // Bundled as wrangler does for Workers: the `workerd`/`worker`/`browser` export conditions.
  const script = await esbuildBundle('worker.mjs', {
    platform: 'neutral',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
  });
  const mf = new Miniflare({
    modules: true,
    script,
    compatibilityDate: '2025-01-01',
    bindings: { SMOKE_CONFIG: JSON.stringify(config) },
  });
  try {
    const response = await mf.dispatchFetch('http://localhost/');
    return await response.json();
  } finally {
    await mf.dispose();
  }
}

const env = process.env;
// As the test suite finds it (scripts/test-prerequisites.mjs).
const chromiumPath = env.CHROMIUM_PATH || locate('chromium').path;
const runtimes = [
  ...(env.SMOKE_NODE_BINS ?? process.execPath)
    .split(':')
    .filter(Boolean)
    .map((bin) => ({
      name: 'node',
      available: bin,
      start: () => runCommand(bin, ['main.mjs', JSON.stringify(config)]),
    })),
  {
    name: 'chromium',
    variable: 'CHROMIUM_PATH',
    available: chromiumPath,
    start: () => runChromium(chromiumPath),
  },
  {
    name: 'deno',
    variable: 'DENO_BIN',
    available: env.DENO_BIN,
    // node_modules=manual: resolve from the project's node_modules, never from a registry.
    start: () =>
      runCommand(env.DENO_BIN, [
        'run',
        '--quiet',
        '--no-prompt',
        '--node-modules-dir=manual',
        '--allow-net=127.0.0.1',
        '--allow-read',
        '--allow-env',
        'main.mjs',
        JSON.stringify(config),
      ]),
  },
  {
    name: 'bun',
    variable: 'BUN_BIN',
    available: env.BUN_BIN,
    start: () => runCommand(env.BUN_BIN, ['main.mjs', JSON.stringify(config)]),
  },
  {
    name: 'workerd',
    variable: 'MINIFLARE_DIR',
    available: env.MINIFLARE_DIR,
    start: () => runWorkerd(env.MINIFLARE_DIR),
  },
];

const rows = [];
try {
  for (const runtime of runtimes) {
    if (!runtime.available) {
      rows.push({ name: runtime.name, status: 'NOT RUN', detail: `set ${runtime.variable}` });
      continue;
    }
    issuer.reset();
    let result;
    try {
      result = await runtime.start();
    } catch (error) {
      result = { ok: false, error: String(error?.stack ?? error) };
    }
    const detail = result.ok
      ? `${result.runtime}: verified sub=${result.sub} (${result.alg}), tampered → ${result.tampered}, PKCE ${result.codeChallengeMethod} URL for ${result.authorize}; issuer saw metadata=${issuer.requests.metadata} jwks=${issuer.requests.jwks}`
      : `${result.runtime ?? runtime.name}: ${result.error}`;
    rows.push({ name: runtime.name, status: result.ok ? 'PASS' : 'FAIL', detail });
  }
} finally {
  await issuer.close();
  await rm(project, { recursive: true, force: true });
}

console.log(`\nSmoke suite of ${tarball}`);
for (const row of rows) console.log(`  ${row.status.padEnd(7)} ${row.name.padEnd(10)} ${row.detail}`);
const failed = rows.filter((row) => row.status === 'FAIL' || (strict && row.status === 'NOT RUN'));
console.log(
  `smoke: ${rows.filter((row) => row.status === 'PASS').length} runtimes passed, ${failed.length} failed`,
);
process.exitCode = failed.length === 0 ? 0 : 1;

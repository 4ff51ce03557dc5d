#!/usr/bin/env node
// The size of the oauth-jwt-verify/pkce entry as a browser app ships it: bundled with
// esbuild for the browser (ESM, minified), then gzipped. Prints bytes, gzip bytes and what
// each source file contributes; exits 1 over the budget, or when the entry pulls in jose,
// a Node built-in or the verifier. test/pkce/size.test.ts runs the same measurement.
//
//   node scripts/size.mjs          (npm run size)
//   node scripts/size.mjs --json
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

/** The issue 4 budget for the browser bundle of ./pkce, gzip -9 bytes. */
export const BUDGET_GZIP_BYTES = 3072;
export const ENTRY = 'src/pkce/index.ts';
const FORBIDDEN = /(^|\/)node_modules\/jose\/|^node:|^src\/(verifier|jwks|http\.ts|testing|node)/;

/**
 * Bundles the ./pkce entry the way a browser app would and measures it.
 * @returns {Promise<{ entry: string, bytes: number, gzipBytes: number, budgetGzipBytes: number,
 *   ok: boolean, modules: { path: string, bytes: number }[], forbidden: string[] }>}
 */
export async function measurePkceBundle() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const result = await build({
    entryPoints: [ENTRY],
    absWorkingDir: root,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'error',
  });
  const code = result.outputFiles[0].contents;
  const bytes = code.byteLength;
  const gzipBytes = gzipSync(code, { level: 9 }).byteLength;
  const [output] = Object.values(result.metafile.outputs);
  const modules = Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
    .filter((module) => module.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  // Only what lands in the output counts: a module that is parsed and then tree-shaken
  // away entirely (http.ts's verifier extras, reached through discovery.ts) costs nothing.
  const forbidden = modules.map((module) => module.path).filter((path) => FORBIDDEN.test(path));
  const ok = gzipBytes <= BUDGET_GZIP_BYTES && forbidden.length === 0;
  return { entry: ENTRY, bytes, gzipBytes, budgetGzipBytes: BUDGET_GZIP_BYTES, ok, modules, forbidden };
}

function print(report) {
  const kb = (n) => `${(n / 1024).toFixed(2)} KiB`;
  console.log(`oauth-jwt-verify/pkce (esbuild, browser, ESM, minified)`);
  console.log(`  minified: ${String(report.bytes).padStart(6)} bytes (${kb(report.bytes)})`);
  console.log(`  gzip -9:  ${String(report.gzipBytes).padStart(6)} bytes (${kb(report.gzipBytes)}), budget ${BUDGET_GZIP_BYTES} bytes`);
  console.log('  minified bytes by source file:');
  for (const module of report.modules) console.log(`    ${String(module.bytes).padStart(6)}  ${module.path}`);
  for (const path of report.forbidden) console.error(`  FORBIDDEN import in the browser entry: ${path}`);
  if (report.gzipBytes > BUDGET_GZIP_BYTES) {
    console.error(`  OVER BUDGET by ${report.gzipBytes - BUDGET_GZIP_BYTES} bytes gzip`);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await measurePkceBundle();
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else print(report);
  process.exitCode = report.ok ? 0 : 1;
}

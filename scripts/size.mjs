#!/usr/bin/env node
// The size of the oauth-jwt-verify/pkce entry as a browser app ships it: bundled with
// esbuild for the browser (ESM, minified), then gzipped. Prints bytes, gzip bytes and what
// each source file contributes; exits 1 over the budget, or when the entry pulls in jose,
// a Node built-in or the verifier.
//
//   node scripts/size.mjs          (npm run size)
//   node scripts/size.mjs --json
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const BUDGET_GZIP_BYTES = 3072;
const ENTRY = 'src/pkce/index.ts';
const FORBIDDEN = /(^|\/)node_modules\/jose\/|^node:|^src\/(verifier|jwks)/;

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
const forbidden = Object.keys(result.metafile.inputs).filter((path) => FORBIDDEN.test(path));
const ok = gzipBytes <= BUDGET_GZIP_BYTES && forbidden.length === 0;

if (process.argv.includes('--json')) {
  console.log(JSON.stringify({ entry: ENTRY, bytes, gzipBytes, budgetGzipBytes: BUDGET_GZIP_BYTES, ok, modules, forbidden }, null, 2));
} else {
  const kb = (n) => `${(n / 1024).toFixed(2)} KiB`;
  console.log(`oauth-jwt-verify/pkce (esbuild, browser, ESM, minified)`);
  console.log(`  minified: ${String(bytes).padStart(6)} bytes (${kb(bytes)})`);
  console.log(`  gzip -9:  ${String(gzipBytes).padStart(6)} bytes (${kb(gzipBytes)}), budget ${BUDGET_GZIP_BYTES} bytes`);
  console.log('  minified bytes by source file:');
  for (const module of modules) console.log(`    ${String(module.bytes).padStart(6)}  ${module.path}`);
  for (const path of forbidden) console.error(`  FORBIDDEN import in the browser entry: ${path}`);
  if (gzipBytes > BUDGET_GZIP_BYTES) {
    console.error(`  OVER BUDGET by ${gzipBytes - BUDGET_GZIP_BYTES} bytes gzip`);
  }
}
process.exitCode = ok ? 0 : 1;

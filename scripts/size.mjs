#!/usr/bin/env node
// The size of the oauth-jwt-verify/pkce entry as a browser app ships it: bundled with
// esbuild for the browser (ESM, minified), then gzipped. Prints bytes, gzip bytes and what
// each source file contributes; exits 1 over the budget, or when the entry pulls in jose,
// a Node built-in or the verifier.
//
//   node scripts/size.mjs          (npm run size)
//   node scripts/size.mjs --json
//
// With --entries, a size report of every entry of package.json `exports` as built (dist/),
// each bundled with its dependencies as an app would ship it (peer dependencies left out;
// Node-only entries for Node, the others for the browser), and the import rules per entry:
// `./pkce` pulls in no jose and no Node built-in, `.` no undici and no msw. --root DIR
// measures the package installed at DIR (the packed tarball, in test/package) instead.
//
//   node scripts/size.mjs --entries [--json] [--root DIR]
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { packageEntries } from './ci-entries.mjs';

const BUDGET_GZIP_BYTES = 3072;
const ENTRY = 'src/pkce/index.ts';
const FORBIDDEN = /(^|\/)node_modules\/jose\/|^node:|^src\/(verifier|jwks)/;

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.argv.includes('--entries')) {
  await reportEntries();
  process.exit();
}
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

/** Import rules of the --entries mode, by `exports` subpath. */
function forbiddenFor(subpath) {
  if (subpath === './pkce') return FORBIDDEN;
  if (subpath === '.') return /(^|\/)node_modules\/(undici|msw)\//;
  return undefined;
}

/** The --entries mode: one bundle per entry of package.json `exports`. */
async function reportEntries() {
  const rootIndex = process.argv.indexOf('--root');
  const packageRoot = rootIndex === -1 ? root : resolve(process.argv[rootIndex + 1]);
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  const peers = Object.keys(pkg.peerDependencies ?? {});
  const reports = [];
  // Paths of bundled files, absolute: relative to --root they would not show `node_modules/`.
  const absoluteInputs = (metafile) => Object.keys(metafile.inputs).map((path) => resolve(packageRoot, path));
  const bundle = (entry, platform) =>
    build({
      entryPoints: [join(packageRoot, entry.file)],
      absWorkingDir: packageRoot,
      bundle: true,
      minify: true,
      format: 'esm',
      platform,
      target: 'es2022',
      external: peers,
      write: false,
      metafile: true,
      logLevel: 'error',
    });
  for (const entry of packageEntries(packageRoot)) {
    const platform = entry.browser ? 'browser' : 'node';
    const bundled = await bundle(entry, platform);
    const code = bundled.outputFiles[0].contents;
    const inputs = absoluteInputs(bundled.metafile);
    const rule = forbiddenFor(entry.subpath);
    const forbidden = [];
    if (rule) {
      // A browser entry is also imported by Node apps: its rule holds for both platforms.
      const builds = entry.browser ? [bundled, await bundle(entry, 'node')] : [bundled];
      for (const { metafile } of builds) {
        const imports = Object.values(metafile.outputs).flatMap((output) => output.imports.map((i) => i.path));
        forbidden.push(...[...absoluteInputs(metafile), ...imports].filter((path) => rule.test(path)));
      }
    }
    reports.push({
      entry: entry.specifier,
      platform,
      bytes: code.byteLength,
      gzipBytes: gzipSync(code, { level: 9 }).byteLength,
      packages: [...new Set(inputs.map((path) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]))]
        .filter((name) => name !== undefined && name !== pkg.name)
        .sort(),
      forbidden: [...new Set(forbidden)],
    });
  }
  const ok = reports.every((report) => report.forbidden.length === 0);
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify({ ok, entries: reports }, null, 2));
  } else {
    console.log('Size per entry (dist/, bundled with its dependencies, minified; peers excluded)');
    for (const report of reports) {
      const packages = report.packages.length > 0 ? ` + ${report.packages.join(', ')}` : '';
      console.log(
        `  ${report.entry.padEnd(28)} ${report.platform.padEnd(7)} ${String(report.bytes).padStart(7)} B  gzip ${String(report.gzipBytes).padStart(6)} B${packages}`,
      );
      for (const path of report.forbidden) console.error(`    FORBIDDEN import in ${report.entry}: ${path}`);
    }
  }
  process.exitCode = ok ? 0 : 1;
}

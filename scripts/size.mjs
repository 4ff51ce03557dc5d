#!/usr/bin/env node
// The size of the oauth-jwt-verify/pkce entry as a browser app ships it: bundled with
// esbuild for the browser (ESM, minified), then gzipped. Prints bytes, gzip bytes and what
// each source file contributes; exits 1 over the budget, or when the entry pulls in jose,
// a Node built-in or the verifier. test/pkce/size.test.ts runs the same measurement.
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

/** The issue 4 budget for the browser bundle of ./pkce, gzip -9 bytes. */
export const BUDGET_GZIP_BYTES = 3072;
export const ENTRY = 'src/pkce/index.ts';
// jose, Node built-ins, and the verifier's side of the tree (its transport extras in
// issuer/verifier-http.ts, caches, keys, tokens, servers, the stub issuer).
const FORBIDDEN =
  /(^|\/)node_modules\/jose\/|^node:|^src\/(verify|keys|fleet|token|server|testing|node|dpop|introspection)\/|^src\/issuer\/(verifier-http|cached-resource|freshness)\.ts$/;
/**
 * What an SPA that logs in with PKCE imports (the helpers the entry had before RFC 9728 and
 * MCP came): the modules of the other helpers must tree-shake away from its bundle.
 */
export const SPA_IMPORTS = [
  'discover',
  'createPkcePair',
  'buildAuthorizationUrl',
  'parseAuthorizationResponse',
  'exchangeAuthorizationCode',
  'refreshTokens',
  'revokeToken',
  'TokenEndpointError',
  'AuthorizationResponseError',
  'isJwtVerifyError',
];
/** Modules only the resource-discovery and registration helpers need. */
export const MCP_CLIENT_MODULES = [
  'src/pkce/resource.ts',
  'src/pkce/register.ts',
  'src/issuer/resource-metadata.ts',
];

/**
 * Bundles the ./pkce entry the way a browser app would and measures it: all of it, or only
 * the names in `imports` (what an app that imports those ships).
 * @param {{ imports?: string[] }} [options]
 * @returns {Promise<{ entry: string, bytes: number, gzipBytes: number, budgetGzipBytes: number,
 *   ok: boolean, modules: { path: string, bytes: number }[], forbidden: string[] }>}
 */
export async function measurePkceBundle({ imports } = {}) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const source = imports
    ? {
        stdin: {
          contents: `export { ${imports.join(', ')} } from './${ENTRY}';`,
          resolveDir: root,
          loader: 'ts',
        },
      }
    : { entryPoints: [ENTRY] };
  const result = await build({
    ...source,
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

function print(report, title = 'oauth-jwt-verify/pkce (esbuild, browser, ESM, minified)') {
  const kb = (n) => `${(n / 1024).toFixed(2)} KiB`;
  console.log(title);
  console.log(`  minified: ${String(report.bytes).padStart(6)} bytes (${kb(report.bytes)})`);
  console.log(
    `  gzip -9:  ${String(report.gzipBytes).padStart(6)} bytes (${kb(report.gzipBytes)}), budget ${BUDGET_GZIP_BYTES} bytes`,
  );
  console.log('  minified bytes by source file:');
  for (const module of report.modules) console.log(`    ${String(module.bytes).padStart(6)}  ${module.path}`);
  for (const path of report.forbidden) console.error(`  FORBIDDEN import in the browser entry: ${path}`);
  if (report.gzipBytes > BUDGET_GZIP_BYTES) {
    console.error(`  OVER BUDGET by ${report.gzipBytes - BUDGET_GZIP_BYTES} bytes gzip`);
  }
}

/** Import rules of the --entries mode, by `exports` subpath. */
function forbiddenFor(subpath) {
  if (subpath === './pkce') return FORBIDDEN;
  if (subpath === '.') return /(^|\/)node_modules\/(undici|msw)\//;
  return undefined;
}

/**
 * The --entries mode: bundles every entry of package.json `exports` of the package at
 * `packageRoot` (built, or installed from the tarball) and measures it.
 * @returns {Promise<{ ok: boolean, entries: { entry: string, platform: string, bytes: number,
 *   gzipBytes: number, packages: string[], forbidden: string[] }[] }>}
 */
export async function measureEntries(packageRoot) {
  const pkg = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8'));
  const peers = Object.keys(pkg.peerDependencies ?? {});
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
  // What lands in the output, as absolute paths (relative to --root they would not show
  // `node_modules/`), and the external imports it keeps (`node:` built-ins).
  const shipped = (metafile) =>
    Object.values(metafile.outputs).flatMap((output) => [
      ...Object.entries(output.inputs)
        .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
        .map(([path]) => resolve(packageRoot, path)),
      ...output.imports.map((i) => i.path),
    ]);
  const entries = [];
  for (const entry of packageEntries(packageRoot)) {
    const platform = entry.browser ? 'browser' : 'node';
    const bundled = await bundle(entry, platform);
    const code = bundled.outputFiles[0].contents;
    const rule = forbiddenFor(entry.subpath);
    const forbidden = [];
    if (rule) {
      // A browser entry is also imported by Node apps: its rule holds for both platforms.
      const builds = entry.browser ? [bundled, await bundle(entry, 'node')] : [bundled];
      for (const { metafile } of builds)
        forbidden.push(...shipped(metafile).filter((path) => rule.test(path)));
    }
    entries.push({
      entry: entry.specifier,
      platform,
      bytes: code.byteLength,
      gzipBytes: gzipSync(code, { level: 9 }).byteLength,
      packages: [
        ...new Set(
          shipped(bundled.metafile).map((path) => /.*\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]),
        ),
      ]
        .filter((name) => name !== undefined && name !== pkg.name)
        .sort(),
      forbidden: [...new Set(forbidden)],
    });
  }
  return { ok: entries.every((entry) => entry.forbidden.length === 0), entries };
}

function printEntries(report) {
  console.log('Size per entry (dist/, bundled with its dependencies, minified; peers excluded)');
  for (const entry of report.entries) {
    const packages = entry.packages.length > 0 ? ` + ${entry.packages.join(', ')}` : '';
    console.log(
      `  ${entry.entry.padEnd(28)} ${entry.platform.padEnd(7)} ${String(entry.bytes).padStart(7)} B  gzip ${String(entry.gzipBytes).padStart(6)} B${packages}`,
    );
    for (const path of entry.forbidden) console.error(`    FORBIDDEN import in ${entry.entry}: ${path}`);
  }
}

if (
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1] &&
  process.argv.includes('--entries')
) {
  const rootIndex = process.argv.indexOf('--root');
  const packageRoot =
    rootIndex === -1 ? fileURLToPath(new URL('..', import.meta.url)) : resolve(process.argv[rootIndex + 1]);
  const report = await measureEntries(packageRoot);
  if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
  else printEntries(report);
  process.exitCode = report.ok ? 0 : 1;
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const report = await measurePkceBundle();
  const spa = await measurePkceBundle({ imports: SPA_IMPORTS });
  const leaked = spa.modules.map((module) => module.path).filter((path) => MCP_CLIENT_MODULES.includes(path));
  if (process.argv.includes('--json')) console.log(JSON.stringify({ ...report, spa, leaked }, null, 2));
  else {
    print(report);
    print(spa, `\nan SPA importing ${SPA_IMPORTS.join(', ')}`);
    for (const path of leaked) console.error(`  NOT TREE-SHAKEN from the SPA bundle: ${path}`);
  }
  process.exitCode = report.ok && leaked.length === 0 ? 0 : 1;
}

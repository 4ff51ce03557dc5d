#!/usr/bin/env node
// The size of the oauth-jwt-verify/pkce entry as a browser app ships it: bundled with
// esbuild for the browser (ESM, minified), then gzipped. Prints bytes, gzip bytes and what
// each source file contributes, for the whole entry (budget 8 KB), an SPA that imports the
// login helpers (5.5 KB) and the login start (2 KB); exits 1 over any budget, or when the
// entry pulls in jose, a Node built-in or the verifier. test/pkce/size.test.ts runs the same
// measurements (docs/decisions/bundle-budgets.md says why these budgets). Then what the DPoP
// helpers add to an app that uses them, and that they add nothing to one that does not
// (test/pkce/dpop/size.test.ts).
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

/** The budget for the browser bundle of everything ./pkce exports, gzip -9 bytes (8 KB). */
export const BUDGET_GZIP_BYTES = 8192;
/** The budget for an SPA that imports the login helpers ({@link SPA_IMPORTS}), gzip -9 bytes (5.5 KB). */
export const SPA_BUDGET_GZIP_BYTES = 5632;
/** The budget for the login start ({@link LOGIN_START_IMPORTS}), gzip -9 bytes (2 KB). */
export const LOGIN_START_BUDGET_GZIP_BYTES = 2048;
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
/** What a page that starts a login imports, with the metadata at hand: the redirect, nothing more. */
export const LOGIN_START_IMPORTS = ['createPkcePair', 'buildAuthorizationUrl'];
/** Modules only the resource-discovery and registration helpers need. */
export const MCP_CLIENT_MODULES = [
  'src/pkce/resource.ts',
  'src/pkce/register.ts',
  'src/issuer/resource-metadata.ts',
];

/** Bundles for the browser (ESM, minified) and measures: bytes, gzip -9 bytes, bytes by source file. */
async function measureBrowserBundle(input, root) {
  const result = await build({
    ...input,
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
  const [output] = Object.values(result.metafile.outputs);
  const modules = Object.entries(output.inputs)
    .map(([path, { bytesInOutput }]) => ({ path, bytes: bytesInOutput }))
    .filter((module) => module.bytes > 0)
    .sort((a, b) => b.bytes - a.bytes);
  return { code, bytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength, modules };
}

/**
 * Bundles the ./pkce entry the way a browser app would and measures it: all of it, or only
 * the names in `imports` (what an app that imports those ships), against `budgetGzipBytes`.
 * @param {{ imports?: string[], budgetGzipBytes?: number }} [options]
 * @returns {Promise<{ entry: string, bytes: number, gzipBytes: number, budgetGzipBytes: number,
 *   ok: boolean, modules: { path: string, bytes: number }[], forbidden: string[] }>}
 */
export async function measurePkceBundle({ imports, budgetGzipBytes = BUDGET_GZIP_BYTES } = {}) {
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
  const { bytes, gzipBytes, modules } = await measureBrowserBundle(source, root);
  // Only what lands in the output counts: a module that is parsed and then tree-shaken
  // away entirely (http.ts's verifier extras, reached through discovery.ts) costs nothing.
  const forbidden = modules.map((module) => module.path).filter((path) => FORBIDDEN.test(path));
  const ok = gzipBytes <= budgetGzipBytes && forbidden.length === 0;
  return { entry: ENTRY, bytes, gzipBytes, budgetGzipBytes, ok, modules, forbidden };
}

/** What the DPoP helpers may add to an app's bundle, gzip -9 bytes. */
export const DPOP_BUDGET_GZIP_BYTES = 1536;
/** An SPA's whole login flow, without DPoP … */
export const APP_IMPORTS = [
  'discover',
  'buildAuthorizationUrl',
  'parseAuthorizationResponse',
  'exchangeAuthorizationCode',
  'refreshTokens',
  'revokeToken',
];
/** … and what it imports more with DPoP (the key in IndexedDB, API calls). */
export const DPOP_IMPORTS = [
  'createDpopKeyPair',
  'createDpopHandle',
  'createIndexedDbDpopStore',
  'fetchWithDpop',
];
/** Text only DPoP code holds: none of it may be in a bundle that does not import DPoP. */
export const DPOP_ONLY_TEXT = /dpop\+jwt|use_dpop_nonce|dpop-nonce|indexedDB|ECDSA/i;

/**
 * Bundles two small app entries, the flow without and with the DPoP helpers, and measures
 * what DPoP adds when used (`addedGzipBytes`, within DPOP_BUDGET_GZIP_BYTES) and that it
 * adds no module of src/pkce/dpop/ and none of its text when unused (`unusedLeaks` empty).
 * @returns {Promise<{ withoutDpop: { bytes: number, gzipBytes: number }, withDpop: { bytes: number,
 *   gzipBytes: number }, addedBytes: number, addedGzipBytes: number, budgetGzipBytes: number,
 *   dpopModules: { path: string, bytes: number }[], unusedLeaks: string[], ok: boolean }>}
 */
export async function measureDpopHelpers() {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const app = (names) => ({
    stdin: {
      contents: `import { ${names.join(', ')} } from './${ENTRY}';\nglobalThis.app = { ${names.join(', ')} };\n`,
      resolveDir: root,
      loader: 'ts',
    },
  });
  const without = await measureBrowserBundle(app(APP_IMPORTS), root);
  const used = await measureBrowserBundle(app([...APP_IMPORTS, ...DPOP_IMPORTS]), root);
  const isDpop = (module) => module.path.startsWith('src/pkce/dpop/');
  const unusedLeaks = [
    ...without.modules.filter(isDpop).map((module) => module.path),
    ...(DPOP_ONLY_TEXT.exec(new TextDecoder().decode(without.code)) ?? []).map((text) => `text ${text}`),
  ];
  const addedGzipBytes = used.gzipBytes - without.gzipBytes;
  return {
    withoutDpop: { bytes: without.bytes, gzipBytes: without.gzipBytes },
    withDpop: { bytes: used.bytes, gzipBytes: used.gzipBytes },
    addedBytes: used.bytes - without.bytes,
    addedGzipBytes,
    budgetGzipBytes: DPOP_BUDGET_GZIP_BYTES,
    dpopModules: used.modules.filter(isDpop),
    unusedLeaks,
    ok: addedGzipBytes <= DPOP_BUDGET_GZIP_BYTES && unusedLeaks.length === 0,
  };
}

function print(report, title = 'oauth-jwt-verify/pkce (esbuild, browser, ESM, minified)') {
  const kb = (n) => `${(n / 1024).toFixed(2)} KiB`;
  console.log(title);
  console.log(`  minified: ${String(report.bytes).padStart(6)} bytes (${kb(report.bytes)})`);
  console.log(
    `  gzip -9:  ${String(report.gzipBytes).padStart(6)} bytes (${kb(report.gzipBytes)}), budget ${report.budgetGzipBytes} bytes`,
  );
  console.log('  minified bytes by source file:');
  for (const module of report.modules) console.log(`    ${String(module.bytes).padStart(6)}  ${module.path}`);
  for (const path of report.forbidden) console.error(`  FORBIDDEN import in the browser entry: ${path}`);
  if (report.gzipBytes > report.budgetGzipBytes) {
    console.error(`  OVER BUDGET by ${report.gzipBytes - report.budgetGzipBytes} bytes gzip`);
  }
}

function printDpop(report) {
  console.log('DPoP helpers in an app (the flow without them, then with them):');
  console.log(
    `  without: ${report.withoutDpop.bytes} bytes, gzip ${report.withoutDpop.gzipBytes}; with: ${report.withDpop.bytes} bytes, gzip ${report.withDpop.gzipBytes}`,
  );
  console.log(
    `  added when used: ${report.addedBytes} bytes, gzip ${report.addedGzipBytes} bytes, budget ${report.budgetGzipBytes} bytes`,
  );
  for (const module of report.dpopModules)
    console.log(`    ${String(module.bytes).padStart(6)}  ${module.path}`);
  for (const leak of report.unusedLeaks)
    console.error(`  DPoP code in a bundle that does not use it: ${leak}`);
  if (report.addedGzipBytes > report.budgetGzipBytes) {
    console.error(`  DPoP OVER BUDGET by ${report.addedGzipBytes - report.budgetGzipBytes} bytes gzip`);
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
  const dpop = await measureDpopHelpers();
  const spa = await measurePkceBundle({ imports: SPA_IMPORTS, budgetGzipBytes: SPA_BUDGET_GZIP_BYTES });
  const loginStart = await measurePkceBundle({
    imports: LOGIN_START_IMPORTS,
    budgetGzipBytes: LOGIN_START_BUDGET_GZIP_BYTES,
  });
  const leaked = spa.modules.map((module) => module.path).filter((path) => MCP_CLIENT_MODULES.includes(path));
  if (process.argv.includes('--json'))
    console.log(JSON.stringify({ ...report, spa, loginStart, leaked, dpop }, null, 2));
  else {
    print(report);
    print(spa, `\nan SPA importing ${SPA_IMPORTS.join(', ')}`);
    for (const path of leaked) console.error(`  NOT TREE-SHAKEN from the SPA bundle: ${path}`);
    print(loginStart, `\nthe login start: ${LOGIN_START_IMPORTS.join(', ')}`);
    printDpop(dpop);
  }
  process.exitCode = report.ok && spa.ok && loginStart.ok && dpop.ok && leaked.length === 0 ? 0 : 1;
}

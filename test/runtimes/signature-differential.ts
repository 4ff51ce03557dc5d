/**
 * The signature differential (test/token/signature/cases.ts) on the runtime that runs this
 * file, against the BUILT paths (dist/signature-node.js and dist/signature-web.js, so
 * `npm run build` first), and a check that the package's `#signature` import picks the path
 * this runtime is meant to get. Prints one line per check; exits 1 when any fails.
 *
 *   bun test/runtimes/signature-differential.ts
 *   deno run --sloppy-imports --node-modules-dir=manual --allow-read --allow-env \
 *     test/runtimes/signature-differential.ts
 *
 * .ci/run runs it on Bun and Deno; vitest runs the same cases on Node (on source). On Deno
 * the "node" side is signature-deno.js, the path Deno gets: its node:crypto decides one case
 * differently from jose (an off-curve EC key), which is why ECDSA stays on jose there.
 */
import { SEGMENT_CHECKS } from '../token/segment-cases.js';
import { SIGNATURE_CHECKS, type SignaturePath, createDifferential } from '../token/signature/cases.js';

interface RuntimeGlobals {
  Bun?: { version: string };
  Deno?: { version: { deno: string } };
  process?: { version: string; exitCode?: number };
}
const globals = globalThis as RuntimeGlobals;
const runtime = globals.Bun ? 'bun' : globals.Deno ? 'deno' : 'node';
const version = globals.Bun?.version ?? globals.Deno?.version.deno ?? globals.process?.version;

/** Which path package.json `imports["#signature"]` should give each runtime (docs/performance.md). */
const EXPECTED_PATH: Record<string, 'node' | 'web' | 'deno'> = { node: 'node', bun: 'node', deno: 'deno' };

// Specifiers in variables: dist/ has no type declarations for these, and may not exist when tsc runs.
const load = (specifier: string): Promise<SignaturePath> => import(specifier);
const node = await load(new URL('../../dist/signature-node.js', import.meta.url).href);
const web = await load(new URL('../../dist/signature-web.js', import.meta.url).href);
const deno = await load(new URL('../../dist/signature-deno.js', import.meta.url).href);
const chosen = await load('#signature');

let failures = 0;
const report = (ok: boolean, name: string, error?: unknown) => {
  if (!ok) failures++;
  const detail =
    error === undefined
      ? ''
      : `\n      ${String((error as Error)?.message ?? error).replaceAll('\n', '\n      ')}`;
  console.log(`  ${ok ? 'PASS' : 'FAIL'} ${name}${detail}`);
};

console.log(`signature differential on ${runtime} ${version}, built dist`);
const chosenPath =
  chosen.checkSignature === node.checkSignature
    ? 'node'
    : chosen.checkSignature === web.checkSignature
      ? 'web'
      : chosen.checkSignature === deno.checkSignature
        ? 'deno'
        : 'neither';
report(
  chosenPath === EXPECTED_PATH[runtime],
  `#signature resolves to signature-${EXPECTED_PATH[runtime]}.js (found: ${chosenPath})`,
);

// On Deno, the path it gets (node:crypto for RSA and EdDSA, jose for ECDSA) against jose.
const paths = { node: runtime === 'deno' ? deno : node, web };
const differential = await createDifferential(paths);
for (const check of SIGNATURE_CHECKS) {
  try {
    await check.run(differential);
    report(true, `every signature path and jose ${check.name}`);
  } catch (error) {
    report(false, `every signature path and jose ${check.name}`, error);
  }
}
for (const check of SEGMENT_CHECKS) {
  try {
    await check.run(paths);
    report(true, `segment decoders agree ${check.name}`);
  } catch (error) {
    report(false, `segment decoders agree ${check.name}`, error);
  }
}

// The digest both paths export (a proof's ath, its replay key): the same text for the same input.
type Digest = (data: string | Uint8Array) => string | Promise<string>;
const DIGEST_INPUTS: Array<[string, string | Uint8Array]> = [
  ['RFC 9449 §4.2 access token', 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU'],
  ['non-ASCII text', 'jti-é-🔑-\u{10ffff}'],
  ['a lone surrogate', 'a\ud800b'],
  ['bytes', new Uint8Array([0, 255, 48, 130, 1, 10])],
  ['empty', ''],
];
for (const [name, data] of DIGEST_INPUTS) {
  const [fromNode, fromWeb] = await Promise.all([
    (node as unknown as { sha256Base64Url: Digest }).sha256Base64Url(data),
    (web as unknown as { sha256Base64Url: Digest }).sha256Base64Url(data),
  ]);
  report(
    fromNode === fromWeb,
    `sha256Base64Url agrees: ${name}`,
    fromNode === fromWeb ? undefined : `${fromNode} ≠ ${fromWeb}`,
  );
}

const total = 1 + SIGNATURE_CHECKS.length + SEGMENT_CHECKS.length + DIGEST_INPUTS.length;
console.log(`signature differential on ${runtime}: ${total - failures} passed, ${failures} failed`);
// Node, Bun and Deno 2 all have `process` as a global.
if (failures > 0) globals.process!.exitCode = 1;

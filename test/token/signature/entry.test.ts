import { readFileSync } from 'node:fs';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The package chooses its signature path with the `#signature` import (package.json
// `imports`): node:crypto under the `node` and `bun` conditions, Web Crypto on every other runtime.
// Bun gets node:crypto because its `crypto.verify` is several times faster than its Web
// Crypto (RS256 76k/s against 12.5k/s on Bun 1.4.5), and the node path decides as
// jose does there (test/runtimes/signature-differential.ts, run on Bun and Deno by .ci/run).
// Deno gets its own mix (signature-deno.js): node:crypto for RSA and EdDSA, where
// `npm run bench -- --runtime deno` measured it ahead, and Web Crypto for ECDSA.

const root = new URL('../../../', import.meta.url);
const imports = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).imports as Record<
  string,
  Record<string, string>
>;

// What only the Web Crypto path holds: its table of crypto.subtle.verify parameters.
const WEB_PATH = 'RSASSA-PKCS1-v1_5';

/** What a resolver with these conditions picks: the first key that matches, in order (Node's rule). */
function resolveSignature(conditions: readonly string[]): string {
  const map = imports['#signature']!;
  const key = Object.keys(map).find((condition) => condition === 'default' || conditions.includes(condition));
  return map[key!]!;
}

const RUNTIMES: [string, string[], string][] = [
  ['Node (import)', ['node', 'import'], './dist/signature-node.js'],
  ['Node (require)', ['node', 'require'], './dist/signature-node.js'],
  ['a browser bundle', ['browser', 'import'], './dist/signature-web.js'],
  ['Deno', ['deno', 'node', 'import'], './dist/signature-deno.js'],
  ['Bun', ['bun', 'node', 'import'], './dist/signature-node.js'],
  ['Bun (require)', ['bun', 'node', 'require'], './dist/signature-node.js'],
  [
    'a browser bundle that also sets bun (browser comes first)',
    ['browser', 'bun', 'import'],
    './dist/signature-web.js',
  ],
  ['workerd with nodejs_compat', ['workerd', 'worker', 'node', 'import'], './dist/signature-web.js'],
  ['an edge runtime', ['edge-light', 'import'], './dist/signature-web.js'],
  ['a bundler with no conditions', ['import'], './dist/signature-web.js'],
];

/** Bundles the main entry from source, standing `token/signature/*.ts` in for what `#signature` resolves to. */
async function bundleMainEntry(platform: 'browser' | 'node', conditions: string[]): Promise<string> {
  // dist/signature-node.js is built from src/token/signature/node.ts (tsup.config.ts).
  const chosen = resolveSignature(conditions).replace(
    /^\.\/dist\/signature-(\w+)\.js$/,
    'token/signature/$1.ts',
  );
  const result = await build({
    entryPoints: [new URL('src/index.ts', root).pathname],
    bundle: true,
    write: false,
    format: 'esm',
    platform,
    external: ['jose', 'undici', 'node:*'],
    logLevel: 'silent',
    plugins: [
      {
        name: 'signature-condition',
        setup(b) {
          b.onResolve({ filter: /\/token\/signature\/index\.js$/ }, () => ({
            path: new URL(`src/${chosen}`, root).pathname,
          }));
        },
      },
    ],
  });
  return result.outputFiles[0]!.text;
}

describe('#signature', () => {
  it.each(RUNTIMES)('resolves for %s', (_, conditions, expected) => {
    expect(resolveSignature(conditions)).toBe(expected);
  });

  it('keeps node:crypto out of a browser bundle of the main entry', async () => {
    const code = await bundleMainEntry('browser', ['browser', 'import']);
    expect(code).not.toMatch(/node:crypto|from ["']crypto["']/);
    expect(code).toContain(WEB_PATH);
  });

  it.each([
    ['Node', ['node', 'import']],
    ['Bun', ['bun', 'node', 'import']],
  ])('uses node:crypto in a %s bundle of the main entry', async (_, conditions) => {
    const code = await bundleMainEntry('node', conditions);
    expect(code).toMatch(/from ["']node:crypto["']/);
    expect(code).not.toContain(WEB_PATH);
  });

  it('takes both in a Deno bundle of the main entry: node:crypto and jose', async () => {
    const code = await bundleMainEntry('node', ['deno', 'node', 'import']);
    expect(code).toMatch(/from ["']node:crypto["']/);
    expect(code).toContain(WEB_PATH);
  });
});

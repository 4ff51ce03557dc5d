// Gates on the packed tarball, installed as a user installs it: publint, arethetypeswrong,
// every entry imported with ESM `import` and CJS `require()`, Node-only entries refused by
// browser bundlers, and the import rules of scripts/size.mjs --entries.
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { build } from 'esbuild';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { describe, expect, it } from 'vitest';
import { root, run, usePackedPackage } from './packed-package.js';

const packed = usePackedPackage('tarball');

describe('the packed tarball', () => {
  it('passes publint with no errors, warnings or suggestions', async () => {
    const tarball = await readFile(packed.tarball);
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as Record<string, unknown>;
    const { messages } = await publint({
      pack: {
        tarball: tarball.buffer.slice(
          tarball.byteOffset,
          tarball.byteOffset + tarball.byteLength,
        ) as ArrayBuffer,
      },
      level: 'suggestion',
      strict: true,
    });
    expect(messages.map((message) => formatMessage(message, pkg) ?? message.code)).toEqual([]);
  });

  // ESM-only: the node10 resolution (no `exports` support) cannot find any entry, and TypeScript's
  // node16 CJS mode predates require(esm) and reports `cjs-resolves-to-esm`. The `esm-only`
  // profile ignores exactly those two; require() itself is proven by the import test below.
  it('passes arethetypeswrong with the esm-only profile, and fails only node10 and node16-cjs', async () => {
    const cli = join(root, 'node_modules/@arethetypeswrong/cli/dist/index.js');
    const { stdout } = await run(
      process.execPath,
      [cli, packed.tarball, '--profile', 'esm-only', '--format', 'json'],
      {
        cwd: packed.project,
      },
    );
    const report = JSON.parse(stdout) as {
      analysis: { entrypoints: Record<string, unknown> };
      problems: Record<string, { kind: string; entrypoint: string; resolutionKind?: string }[]>;
    };
    expect(Object.keys(report.analysis.entrypoints)).toEqual([
      ...packed.entries.map((e) => e.subpath),
      './package.json',
    ]);
    const notIgnored = Object.values(report.problems)
      .flat()
      .filter((p) => p.resolutionKind !== 'node10' && p.resolutionKind !== 'node16-cjs');
    expect(notIgnored).toEqual([]);
  }, 90_000);

  it('ships dist, README and LICENSE and no sources or tests', async () => {
    const { stdout } = await run('tar', ['-tzf', packed.tarball]);
    const files = stdout
      .trim()
      .split('\n')
      .map((file) => file.replace(/^package\//, ''));
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE']));
    for (const entry of packed.entries)
      expect(files).toEqual(expect.arrayContaining([entry.file, entry.types]));
    expect(files.filter((file) => !/^(dist\/|package\.json$|README\.md$|LICENSE$)/.test(file))).toEqual([]);
  });
});

describe('every entry of the installed package', () => {
  it('imports with ESM import and with CJS require(), giving the same exports', async () => {
    const specifiers = packed.entries.map((entry) => entry.specifier);
    await writeFile(
      join(packed.project, 'import-all.mjs'),
      `const out = {};
for (const specifier of ${JSON.stringify(specifiers)}) out[specifier] = Object.keys(await import(specifier)).sort();
console.log(JSON.stringify(out));`,
    );
    await writeFile(
      join(packed.project, 'require-all.cjs'),
      `const out = {};
for (const specifier of ${JSON.stringify(specifiers)}) out[specifier] = Object.keys(require(specifier)).filter((k) => k !== '__esModule').sort();
console.log(JSON.stringify(out));`,
    );
    const esm = JSON.parse(
      (await run(process.execPath, ['import-all.mjs'], { cwd: packed.project })).stdout,
    ) as Record<string, string[]>;
    const cjs = JSON.parse(
      (await run(process.execPath, ['require-all.cjs'], { cwd: packed.project })).stdout,
    ) as Record<string, string[]>;

    expect(Object.keys(esm)).toEqual(specifiers);
    for (const specifier of specifiers) expect(esm[specifier]!.length, specifier).toBeGreaterThan(0);
    expect(cjs).toEqual(esm);
    expect(esm['oauth-jwt-verify']).toEqual(
      expect.arrayContaining(['JwtVerifier', 'MultiIssuerVerifier', 'JwtVerifyError', 'discover']),
    );
    expect(esm['oauth-jwt-verify/pkce']).toEqual(
      expect.arrayContaining(['createPkcePair', 'buildAuthorizationUrl', 'discover']),
    );
  });

  it('refuses the Node-only entries in a browser bundle and bundles the others', async () => {
    // Server-side entries map the `browser` condition to null; Hono runs on edge runtimes too.
    expect(packed.entries.filter((entry) => !entry.browser).map((entry) => entry.subpath)).toEqual([
      './testing',
      './node',
      './express',
      './fastify',
    ]);
    // Peers are the app's own business (fastify-plugin needs node:path, for one).
    const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as {
      peerDependencies?: Record<string, string>;
    };
    const peers = Object.keys(pkg.peerDependencies ?? {});
    const bundleFor = (specifier: string) =>
      build({
        stdin: { contents: `export * from '${specifier}';`, resolveDir: packed.project, loader: 'js' },
        bundle: true,
        platform: 'browser',
        format: 'esm',
        write: false,
        logLevel: 'silent',
        external: [...peers, ...peers.map((peer) => `${peer}/*`)],
      }).then(
        () => 'bundled',
        (error: Error) => error.message,
      );
    for (const entry of packed.entries) {
      const outcome = await bundleFor(entry.specifier);
      if (entry.browser) expect(outcome, entry.specifier).toBe('bundled');
      else expect(outcome, entry.specifier).toMatch(/explicitly marked as not available|Could not resolve/);
    }
  });

  it('keeps jose out of ./pkce and undici and msw out of ., as bundled by size.mjs --entries', async () => {
    const { stdout } = await run(process.execPath, [
      join(root, 'scripts/size.mjs'),
      '--entries',
      '--json',
      '--root',
      packed.packageDir,
    ]);
    const report = JSON.parse(stdout) as {
      ok: boolean;
      entries: { entry: string; bytes: number; gzipBytes: number; packages: string[]; forbidden: string[] }[];
    };
    expect(report.entries.map((e) => e.entry)).toEqual(packed.entries.map((e) => e.specifier));
    const byName = Object.fromEntries(report.entries.map((e) => [e.entry, e]));
    expect(byName['oauth-jwt-verify/pkce']!.packages).toEqual([]);
    expect(byName['oauth-jwt-verify']!.packages).not.toContain('undici');
    expect(byName['oauth-jwt-verify']!.packages).not.toContain('msw');
    // The report does see packages: the verifier bundles jose and the Node transport undici.
    expect(byName['oauth-jwt-verify']!.packages).toContain('jose');
    expect(byName['oauth-jwt-verify/node']!.packages).toContain('undici');
    expect(report.entries.filter((e) => e.forbidden.length > 0)).toEqual([]);
    expect(report.ok).toBe(true);
    for (const entry of report.entries) expect(entry.gzipBytes, entry.entry).toBeGreaterThan(0);
  });
});

import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));

/** The modules (and bare packages) an entry's bundle takes in, as esbuild resolves them. */
async function bundleInputs(entry: string): Promise<{ inputs: string[]; packages: string[] }> {
  const packages = new Set<string>();
  const result = await build({
    entryPoints: [`${root}${entry}`],
    absWorkingDir: root,
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    metafile: true,
    logLevel: 'silent',
    plugins: [
      {
        name: 'record-packages',
        setup(pluginBuild) {
          pluginBuild.onResolve({ filter: /^[^./]/ }, (args) => {
            packages.add(
              args.path.startsWith('@')
                ? args.path.split('/').slice(0, 2).join('/')
                : args.path.split('/')[0]!,
            );
            return { path: args.path, external: true };
          });
        },
      },
    ],
  });
  return { inputs: Object.keys(result.metafile.inputs), packages: [...packages].sort() };
}

describe('the oauth-jwt-verify/testing entry stays out of the main entry', () => {
  it('the main entry takes in no src/testing module and no msw', async () => {
    const { inputs, packages } = await bundleInputs('src/index.ts');
    expect(inputs.filter((input) => input.startsWith('src/testing/'))).toEqual([]);
    expect(packages).not.toContain('msw');
    expect(inputs).toContain('src/verify/verifier.ts');
  });

  it('the testing entry imports msw only lazily, so listen mode works without it', async () => {
    const { inputs } = await bundleInputs('src/testing/index.ts');
    expect(inputs).toContain('src/testing/issuer.ts');
    const { readFile } = await import('node:fs/promises');
    const sources = await Promise.all(
      inputs
        .filter((input) => input.startsWith('src/testing/'))
        .map((input) => readFile(`${root}${input}`, 'utf8')),
    );
    // A static `import … from 'msw'` would make the entry fail to load without msw.
    expect(sources.filter((source) => /^import (?!type\b)[^;]*from ['"]msw['"]/m.test(source))).toEqual([]);
  });
});

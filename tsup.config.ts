import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'pkce/index': 'src/pkce/index.ts',
    'testing/index': 'src/testing/index.ts',
    'node/index': 'src/node/index.ts',
    'cli/index': 'src/cli/index.ts',
  },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: { entry: ['src/index.ts', 'src/pkce/index.ts', 'src/testing/index.ts', 'src/node/index.ts'] },
  splitting: true,
  treeshake: true,
  clean: true,
  sourcemap: false,
  external: ['jose', 'undici', 'msw', /^node:/],
});

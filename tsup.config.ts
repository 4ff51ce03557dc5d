import type { Plugin } from 'esbuild';
import { defineConfig } from 'tsup';

// src/token/signature/index.ts stands for the package's `#signature` import (package.json `imports`):
// node:crypto under the `node` and `bun` conditions, a mix of both under `deno`, jose everywhere else. The build keeps that
// import conditional instead of bundling one implementation.
const conditionalSignature: Plugin = {
  name: 'conditional-signature',
  setup(build) {
    build.onResolve({ filter: /\/token\/signature\/index\.js$/ }, () => ({
      path: '#signature',
      external: true,
    }));
  },
};

export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'pkce/index': 'src/pkce/index.ts',
    'testing/index': 'src/testing/index.ts',
    'node/index': 'src/node/index.ts',
    'cli/index': 'src/cli/index.ts',
    'express/index': 'src/express/index.ts',
    'fastify/index': 'src/fastify/index.ts',
    'hono/index': 'src/hono/index.ts',
    'mcp/index': 'src/mcp/index.ts',
    'signature-node': 'src/token/signature/node.ts',
    'signature-web': 'src/token/signature/web.ts',
    'signature-deno': 'src/token/signature/deno.ts',
  },
  format: ['esm'],
  target: 'es2022',
  platform: 'neutral',
  dts: {
    entry: [
      'src/index.ts',
      'src/pkce/index.ts',
      'src/testing/index.ts',
      'src/node/index.ts',
      'src/express/index.ts',
      'src/fastify/index.ts',
      'src/hono/index.ts',
      'src/mcp/index.ts',
    ],
  },
  splitting: true,
  treeshake: true,
  clean: true,
  sourcemap: false,
  external: [
    'jose',
    'undici',
    'msw',
    'express',
    'fastify',
    'fastify-plugin',
    'hono',
    /^@modelcontextprotocol\/sdk(\/|$)/,
    /^node:/,
  ],
  esbuildPlugins: [conditionalSignature],
  // Keep `node:crypto` (not bare `crypto`): Deno and bundlers know the prefixed name as built-in.
  removeNodeProtocol: false,
});

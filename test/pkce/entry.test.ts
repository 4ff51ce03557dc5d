import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as pkce from '../../src/pkce/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the oauth-jwt-verify/pkce entry', () => {
  it('bundles for the browser from its own files and the shared errors, HTTP and discovery modules only', async () => {
    const result = await build({
      entryPoints: [`${root}src/pkce/index.ts`],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      metafile: true,
      logLevel: 'silent',
      absWorkingDir: root,
    });
    const inputs = Object.keys(result.metafile.inputs).sort();
    expect(inputs.filter((input) => !/^src\/(pkce\/[\w-]+|errors|http|discovery)\.ts$/.test(input))).toEqual([]);
    expect(inputs).toContain('src/discovery.ts');
    expect(result.outputFiles[0]!.text).not.toMatch(/from ["'](node:|jose)/);
  });

  it('exports the functions, error classes and the shared discover', () => {
    expect(Object.keys(pkce).sort()).toEqual([
      'AuthorizationResponseError',
      'JwtVerifyError',
      'TokenEndpointError',
      'buildAuthorizationUrl',
      'createPkcePair',
      'discover',
      'exchangeAuthorizationCode',
      'isJwtVerifyError',
      'parseAuthorizationResponse',
      'refreshTokens',
      'revokeToken',
    ]);
  });
});

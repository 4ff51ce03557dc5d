import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as pkce from '../../src/pkce/index.js';

const root = fileURLToPath(new URL('../../', import.meta.url));

describe('the oauth-jwt-verify/pkce entry', () => {
  it('bundles for the browser from its own files and the shared errors, option checks, HTTP core and discovery modules only', async () => {
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
    const [output] = Object.values(result.metafile.outputs);
    const bundled = Object.entries(output!.inputs)
      .filter(([, { bytesInOutput }]) => bytesInOutput > 0)
      .map(([input]) => input)
      .sort();
    expect(
      bundled.filter(
        (input) =>
          !/^src\/(pkce\/(dpop\/)?[\w-]+|errors|option-checks|issuer\/(http|discovery|resource-metadata))\.ts$/.test(
            input,
          ),
      ),
    ).toEqual([]);
    // The verifier's transport extras (redirects, Retry-After) stay out of the browser bundle.
    expect(bundled).not.toContain('src/issuer/verifier-http.ts');
    expect(bundled).toContain('src/issuer/discovery.ts');
    expect(result.outputFiles[0]!.text).not.toMatch(/from ["'](node:|jose)/);
  });

  it('exports the functions, error classes and the shared discover', () => {
    expect(Object.keys(pkce).sort()).toEqual([
      'AuthorizationResponseError',
      'ClientRegistrationError',
      'JwtVerifyError',
      'OAuthEndpointError',
      'TokenEndpointError',
      'TokenEndpointRefusedError',
      'buildAuthorizationUrl',
      'createDpopHandle',
      'createDpopKeyPair',
      'createIndexedDbDpopStore',
      'createMemoryDpopStore',
      'createPkcePair',
      'discover',
      'discoverResource',
      'exchangeAuthorizationCode',
      'fetchWithDpop',
      'isJwtVerifyError',
      'parseAuthorizationResponse',
      'parseWwwAuthenticate',
      'refreshTokens',
      'registerClient',
      'resourceMetadataUrl',
      'revokeToken',
    ]);
  });
});

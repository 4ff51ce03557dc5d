// Types of the SPA helpers: what the token endpoint answers, the PKCE pair, the errors.
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AuthorizationRequest,
  AuthorizationResponseError,
  type AuthorizationResponseErrorCode,
  type AuthorizationServerMetadata,
  type PkcePair,
  TokenEndpointError,
  TokenEndpointRefusedError,
  type TokenResponse,
  buildAuthorizationUrl,
  createPkcePair,
  exchangeAuthorizationCode,
  parseAuthorizationResponse,
} from '../../src/pkce/index.js';

declare const metadata: AuthorizationServerMetadata;

describe('oauth-jwt-verify/pkce', () => {
  it('creates an S256 pair', () => {
    expectTypeOf(createPkcePair()).resolves.toEqualTypeOf<PkcePair>();
    expectTypeOf<PkcePair['codeVerifier']>().toEqualTypeOf<string>();
    expectTypeOf<PkcePair['codeChallengeMethod']>().toEqualTypeOf<'S256'>();
  });

  it('builds the authorization URL from metadata and needs clientId and redirectUri', () => {
    expectTypeOf(
      buildAuthorizationUrl(metadata, { clientId: 'spa', redirectUri: 'https://app/cb' }),
    ).resolves.toEqualTypeOf<AuthorizationRequest>();
    // @ts-expect-error: redirectUri is required
    void buildAuthorizationUrl(metadata, { clientId: 'spa' });
  });

  it('keeps the server field names in token responses', async () => {
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: 'spa',
      code: 'c',
      codeVerifier: 'v',
      redirectUri: 'https://app/cb',
    });
    expectTypeOf(tokens).toEqualTypeOf<TokenResponse>();
    expectTypeOf(tokens.access_token).toEqualTypeOf<string>();
  });

  it('returns the code from a callback and types the error fields', () => {
    expectTypeOf(
      parseAuthorizationResponse('https://app/cb?code=c&state=s', { expectedState: 's', metadata }).code,
    ).toEqualTypeOf<string>();
    expectTypeOf<AuthorizationResponseError['error']>().toEqualTypeOf<AuthorizationResponseErrorCode>();
  });

  it('types the token-endpoint errors: a server code on one, none invented on the refusal', () => {
    expectTypeOf<TokenEndpointError['error']>().toEqualTypeOf<string>();
    expectTypeOf<TokenEndpointError['status']>().toEqualTypeOf<number>();
    expectTypeOf<TokenEndpointError['retryAfterSeconds']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<TokenEndpointRefusedError['status']>().toEqualTypeOf<number>();
    expectTypeOf<TokenEndpointRefusedError['bodyExcerpt']>().toEqualTypeOf<string>();
    expectTypeOf<TokenEndpointRefusedError['retryAfterSeconds']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<TokenEndpointRefusedError>().not.toExtend<TokenEndpointError>();
    // @ts-expect-error: a refusal carries no OAuth error code
    type _RefusalCode = TokenEndpointRefusedError['error'];
  });
});

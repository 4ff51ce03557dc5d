import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import {
  TokenEndpointError,
  buildAuthorizationUrl,
  discover,
  exchangeAuthorizationCode,
  parseAuthorizationResponse,
  refreshTokens,
  revokeToken,
} from '../../src/pkce/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { CLIENT_ID, REDIRECT_URI } from './helpers.js';

const API = 'https://api.test';
const CLIENT = { clientId: CLIENT_ID, redirectUri: REDIRECT_URI };

let live: TestIssuer;
beforeAll(async () => {
  live = await createTestIssuer({ listen: true, audience: API, algorithms: ['ES256'] });
});
afterAll(() => live.close());

/** What the browser does at /authorize: the stub redirects straight back with a code. */
async function followAuthorize(url: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  expect(response.status).toBe(302);
  return response.headers.get('location')!;
}

describe('the whole PKCE flow against the stub issuer over real HTTP', () => {
  it('discovers, authorizes, exchanges, verifies with JwtVerifier, refreshes and revokes', async () => {
    const metadata = await discover(live.issuer);
    expect(metadata).toEqual(live.metadata);
    const request = await buildAuthorizationUrl(metadata, {
      ...CLIENT,
      scope: 'openid offline_access',
      audience: API,
    });
    const callback = await followAuthorize(request.url);
    const { code } = parseAuthorizationResponse(callback, { expectedState: request.state, metadata });
    const tokens = await exchangeAuthorizationCode(metadata, {
      ...CLIENT,
      code,
      codeVerifier: request.codeVerifier,
    });
    expect(tokens.token_type).toBe('Bearer');

    const verifier = new JwtVerifier({ issuer: live.issuer, audience: API, typ: 'at+jwt' });
    const { payload, header } = await verifier.verify(tokens.access_token);
    expect(header.typ).toBe('at+jwt');
    expect(payload).toMatchObject({ iss: live.issuer, aud: API, client_id: CLIENT_ID });
    expect(live.requests).toMatchObject({ authorize: 1, token: 1, jwks: 1 });

    const refreshed = await refreshTokens(metadata, { clientId: 'spa', refreshToken: tokens.refresh_token! });
    await expect(verifier.verify(refreshed.access_token)).resolves.toMatchObject({ payload: { aud: API } });
    await revokeToken(metadata, {
      clientId: 'spa',
      token: refreshed.refresh_token!,
      tokenTypeHint: 'refresh_token',
    });
    const error = await refreshTokens(metadata, {
      clientId: 'spa',
      refreshToken: refreshed.refresh_token!,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).error).toBe('invalid_grant');
  });

  it('refuses to exchange a code with another verifier (PKCE checked by the stub)', async () => {
    const metadata = await discover(live.issuer);
    const request = await buildAuthorizationUrl(metadata, CLIENT);
    const { code } = parseAuthorizationResponse(await followAuthorize(request.url), {
      expectedState: request.state,
      metadata,
    });
    const other = await buildAuthorizationUrl(metadata, CLIENT);
    const error = await exchangeAuthorizationCode(metadata, {
      ...CLIENT,
      code,
      codeVerifier: other.codeVerifier,
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect((error as TokenEndpointError).error).toBe('invalid_grant');
  });
});

// The whole authorization-code flow with PKCE against a real authorization server:
// oidc-provider 9 on 127.0.0.1, its development login and consent pages driven over HTTP,
// then the token, refresh and revocation endpoints through oauth-jwt-verify/pkce, the
// JWT access token it issued (typ at+jwt) verified by JwtVerifier, and its ID token by
// verifyIdToken (nonce, at_hash, auth_time with max_age).
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, verifyIdToken } from '../../src/index.js';
import {
  type AuthorizationServerMetadata,
  type ClientMetadata,
  ClientRegistrationError,
  TokenEndpointError,
  buildAuthorizationUrl,
  createPkcePair,
  discover,
  exchangeAuthorizationCode,
  parseAuthorizationResponse,
  refreshTokens,
  registerClient,
  revokeToken,
} from '../../src/pkce/index.js';
import { useFixture } from '../support/fixture.js';
import { startOidcProvider } from './provider.js';
import { expectRejection } from '../support/rejections.js';

const API = 'https://api.example.test';
const CLIENT_ID = 'spa';
const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
const HYBRID_CLIENT_ID = 'hybrid-app';

const provider = useFixture(
  () =>
    startOidcProvider({
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      api: API,
      hybridClientId: HYBRID_CLIENT_ID,
    }),
  (started) => started.close(),
  'oidc-provider',
);
let metadata: AuthorizationServerMetadata;
beforeAll(async () => {
  metadata = await discover(provider.issuer);
});

/** The cookies a browser would keep, by name and path (RFC 6265 path-match, simplified). */
class CookieJar {
  private cookies = new Map<string, { name: string; value: string; path: string }>();

  store(response: Response): void {
    for (const header of response.headers.getSetCookie()) {
      const [pair, ...attributes] = header.split(';').map((part) => part.trim());
      const [name, ...rest] = pair!.split('=');
      const value = rest.join('=');
      const path = attributes.find((a) => /^path=/i.test(a))?.slice(5) ?? '/';
      const expired = attributes.some(
        (a) => /^max-age=0$/i.test(a) || (/^expires=/i.test(a) && Date.parse(a.slice(8)) < Date.now()),
      );
      const key = `${name}|${path}`;
      if (expired || !value) this.cookies.delete(key);
      else this.cookies.set(key, { name: name!, value, path });
    }
  }

  header(url: string): string {
    const { pathname } = new URL(url);
    return [...this.cookies.values()]
      .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
      .map((c) => `${c.name}=${c.value}`)
      .join('; ');
  }
}

/**
 * Follows the authorization request the way a browser would, logging in as `accountId`
 * and consenting, until the server redirects to the client's redirect URI; returns that URL.
 */
async function signIn(authorizationUrl: string, accountId: string): Promise<string> {
  const jar = new CookieJar();
  let url = authorizationUrl;
  let form: URLSearchParams | undefined;
  const pages: string[] = [];
  for (let step = 0; step < 12; step++) {
    const response = await fetch(url, {
      method: form ? 'POST' : 'GET',
      headers: {
        cookie: jar.header(url),
        ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      body: form?.toString(),
      redirect: 'manual',
    });
    jar.store(response);
    form = undefined;
    const location = response.headers.get('location');
    if (location) {
      url = new URL(location, url).href;
      if (url.startsWith(REDIRECT_URI)) return url;
      continue;
    }
    const html = await response.text();
    expect(response.status, html).toBe(200);
    // The development interaction pages: a login form, then a consent form.
    const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
    const prompt = /name="prompt" value="(\w+)"/.exec(html)?.[1];
    expect(action, html).toBeDefined();
    pages.push(prompt!);
    url = new URL(action!.replace(/&amp;/g, '&'), url).href;
    form = new URLSearchParams({ prompt: prompt! });
    if (prompt === 'login') (form.set('login', accountId), form.set('password', 'any'));
  }
  throw new Error(`no redirect to the client after ${pages.join(', ')}`);
}

async function authorize(accountId: string, extraParams?: Record<string, string>, clientId = CLIENT_ID) {
  const request = await buildAuthorizationUrl(metadata, {
    clientId,
    redirectUri: REDIRECT_URI,
    scope: 'openid offline_access api:read',
    resource: API,
    // oidc-provider grants offline_access (a refresh token) only with prompt=consent.
    prompt: 'consent',
    extraParams,
  });
  const callbackUrl = await signIn(request.url, accountId);
  return { request, callbackUrl };
}

/** Exchanges a callback's code with the verifier of its request, for tokens for API. */
function redeem(code: string, codeVerifier: string, clientId = CLIENT_ID) {
  return exchangeAuthorizationCode(metadata, {
    clientId,
    code,
    codeVerifier,
    redirectUri: REDIRECT_URI,
    resource: API,
  });
}

describe('authorization code with PKCE against oidc-provider', () => {
  it('discovers a server that offers S256 and RFC 9207 iss', () => {
    expect(metadata.issuer).toBe(provider.issuer);
    expect(metadata.code_challenge_methods_supported).toContain('S256');
    expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
    expect(metadata.revocation_endpoint).toBe(`${provider.issuer}/token/revocation`);
  });

  it('signs in, exchanges the code, refreshes, verifies the JWT access tokens and revokes', async () => {
    const { request, callbackUrl } = await authorize('alice');
    const response = parseAuthorizationResponse(callbackUrl, { expectedState: request.state, metadata });
    expect(response.iss).toBe(provider.issuer);
    expect(response.state).toBe(request.state);

    const tokens = await redeem(response.code, request.codeVerifier);
    expect(tokens.token_type).toBe('Bearer');
    expect(tokens.expires_in).toBe(300);
    expect(typeof tokens.id_token).toBe('string');
    expect(typeof tokens.refresh_token).toBe('string');

    const verifier = new JwtVerifier({
      issuer: provider.issuer,
      audience: API,
      typ: 'at+jwt',
      discovery: 'oidc',
    });
    const { payload, header } = await verifier.verify(tokens.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: 'rs-1' });
    expect(payload).toMatchObject({
      iss: provider.issuer,
      aud: API,
      sub: 'alice',
      client_id: CLIENT_ID,
      scope: 'api:read',
    });

    // The ID token carries the nonce buildAuthorizationUrl sent (openid was in scope); this
    // server leaves at_hash out in the code flow (Core §3.1.3.6 allows it).
    const idTokens = new JwtVerifier({ issuer: provider.issuer, audience: CLIENT_ID, discovery: 'oidc' });
    const { payload: idClaims } = await verifyIdToken(idTokens, tokens.id_token!, {
      nonce: request.nonce!,
      accessToken: tokens.access_token,
    });
    expect(idClaims).toMatchObject({
      iss: provider.issuer,
      aud: CLIENT_ID,
      sub: 'alice',
      nonce: request.nonce,
    });
    await expectRejection(
      verifyIdToken(idTokens, tokens.id_token!, {
        nonce: 'another-session',
        accessToken: tokens.access_token,
      }),
      'ERR_CLAIM_INVALID',
    );

    const refreshed = await refreshTokens(metadata, {
      clientId: CLIENT_ID,
      refreshToken: tokens.refresh_token!,
      resource: API,
    });
    expect(refreshed.access_token).not.toBe(tokens.access_token);
    expect((await verifier.verify(refreshed.access_token)).payload.sub).toBe('alice');
    // Public clients get rotating refresh tokens: the first one is spent now.
    expect(refreshed.refresh_token).toBeDefined();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);

    await revokeToken(metadata, {
      clientId: CLIENT_ID,
      token: refreshed.refresh_token!,
      tokenTypeHint: 'refresh_token',
    });
    const afterRevoke = await refreshTokens(metadata, {
      clientId: CLIENT_ID,
      refreshToken: refreshed.refresh_token!,
    }).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(afterRevoke).toBeInstanceOf(TokenEndpointError);
    expect(afterRevoke).toMatchObject({ error: 'invalid_grant', status: 400 });
  });

  it('refuses the code with another verifier (invalid_grant from the real PKCE check)', async () => {
    const { request, callbackUrl } = await authorize('bob');
    const { code } = parseAuthorizationResponse(callbackUrl, { expectedState: request.state, metadata });
    const other = await buildAuthorizationUrl(metadata, { clientId: CLIENT_ID, redirectUri: REDIRECT_URI });
    const error = await exchangeAuthorizationCode(metadata, {
      clientId: CLIENT_ID,
      code,
      codeVerifier: other.codeVerifier,
      redirectUri: REDIRECT_URI,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ error: 'invalid_grant', status: 400 });
    // Only the verifier was wrong: the same code with the right one is honoured.
    const tokens = await redeem(code, request.codeVerifier);
    expect(typeof tokens.access_token).toBe('string');
  });

  it('verifies auth_time against max_age in the ID token (verifyIdToken maxAge)', async () => {
    const { request, callbackUrl } = await authorize('dave', { max_age: '300' });
    const { code } = parseAuthorizationResponse(callbackUrl, { expectedState: request.state, metadata });
    const tokens = await redeem(code, request.codeVerifier);
    const idTokens = new JwtVerifier({ issuer: provider.issuer, audience: CLIENT_ID, discovery: 'oidc' });
    const options = { nonce: request.nonce!, accessToken: tokens.access_token, maxAge: 300 };
    const { payload } = await verifyIdToken(idTokens, tokens.id_token!, options);
    expect(payload.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
    const anHourLater = () => Date.now() + 3_600_000;
    await expectRejection(
      verifyIdToken(idTokens, tokens.id_token!, { ...options, now: anHourLater }),
      'ERR_TOKEN_TOO_OLD',
    );
  });

  it('verifies c_hash and at_hash in a hybrid-flow ID token (response_type code id_token token)', async () => {
    const pkce = await createPkcePair();
    const nonce = 'hybrid-nonce-1';
    const url = new URL(metadata.authorization_endpoint!);
    for (const [name, value] of Object.entries({
      client_id: HYBRID_CLIENT_ID,
      redirect_uri: REDIRECT_URI,
      response_type: 'code id_token token',
      scope: 'openid',
      nonce,
      state: 'hybrid-state',
      code_challenge: pkce.codeChallenge,
      code_challenge_method: 'S256',
    }))
      url.searchParams.set(name, value);
    const callback = new URL(await signIn(url.href, 'erin'));
    // Hybrid answers come in the fragment (Core §3.3.2.5).
    const answer = new URLSearchParams(callback.hash.slice(1));
    const code = answer.get('code')!;
    const idToken = answer.get('id_token')!;
    const accessToken = answer.get('access_token')!;
    const idTokens = new JwtVerifier({
      issuer: provider.issuer,
      audience: HYBRID_CLIENT_ID,
      discovery: 'oidc',
    });
    const { payload } = await verifyIdToken(idTokens, idToken, { nonce, code, accessToken });
    expect(payload).toMatchObject({
      sub: 'erin',
      nonce,
      c_hash: expect.any(String),
      at_hash: expect.any(String),
    });
    await expectRejection(verifyIdToken(idTokens, idToken, { nonce, code: `${code}x` }), 'ERR_CLAIM_INVALID');
    await expectRejection(
      verifyIdToken(idTokens, idToken, { nonce, accessToken: `${accessToken}x` }),
      'ERR_CLAIM_INVALID',
    );
  });

  it('refuses a callback from this server with another browser session state', async () => {
    const { callbackUrl } = await authorize('carol');
    expect(() => parseAuthorizationResponse(callbackUrl, { expectedState: 'another-tab', metadata })).toThrow(
      expect.objectContaining({ name: 'AuthorizationResponseError', error: 'state_mismatch' }),
    );
  });
});

describe('dynamic client registration (RFC 7591) against oidc-provider', () => {
  it('registers a public native client that then signs in with PKCE and resource', async () => {
    expect(metadata.registration_endpoint).toBe(`${provider.issuer}/reg`);
    const registration: ClientMetadata = {
      client_name: 'MCP-style desktop client',
      redirect_uris: [REDIRECT_URI],
      application_type: 'native',
    };
    const client = await registerClient(metadata, registration);
    // The server registered what was asked, as a public client.
    expect(client).toMatchObject({
      ...registration,
      client_id: expect.any(String),
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
    });
    expect(client.client_secret).toBeUndefined();

    const { request, callbackUrl } = await authorize('dave', undefined, client.client_id);
    const { code } = parseAuthorizationResponse(callbackUrl, { expectedState: request.state, metadata });
    const tokens = await redeem(code, request.codeVerifier, client.client_id);
    const verifier = new JwtVerifier({
      issuer: provider.issuer,
      audience: API,
      typ: 'at+jwt',
      discovery: 'oidc',
    });
    expect((await verifier.verify(tokens.access_token)).payload).toMatchObject({
      aud: API,
      sub: 'dave',
      client_id: client.client_id,
    });
  });

  it('raises the server’s refusal as a ClientRegistrationError', async () => {
    const error = await registerClient(metadata, {
      redirect_uris: ['https://app.example.test/callback#fragment'],
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ClientRegistrationError);
    expect(error).toMatchObject({ error: 'invalid_redirect_uri', status: 400 });
  });
});

// The SPA's whole DPoP flow in real headless Chromium against OUR stub issuer
// (oauth-jwt-verify/testing, listening on 127.0.0.1 with `requireDpopNonce`), with the
// built bundle of oauth-jwt-verify/pkce (dist/, as `npm run build` wrote it): dpop_jkt on
// the authorization request, the code exchange that meets use_dpop_nonce once, DPoP-bound
// tokens, a refresh that another key cannot use, revocation, and API calls through
// fetchWithDpop to a node:http resource server whose decision is this library's own
// `authenticate()` with a JwtVerifier that requires DPoP and its own nonces. A proof the
// page sent is then replayed from Node and refused (RFC 9449 §4.3, §5, §8, §10, §11.1).
import { EmbeddedJWK, type JWTPayload, calculateJwkThumbprint, jwtVerify } from 'jose';
import type { Browser, Page, Request, Response } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, authenticate } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { type ResourceServer, startResourceServer } from '../support/dpop-resource-server.js';
import { type AppServer, BUNDLE, launchChromium, serveApp } from './harness.js';

const API = 'https://api.example.test';
const CLIENT_ID = 'dpop-stub-spa';

interface ApiCall {
  status: number;
  body: Record<string, unknown>;
}

/** What the flow page reports in #result. */
interface FlowResult {
  error?: { name: string; message: string; code?: string; error?: string };
  jkt: string;
  tokenType: string;
  accessToken: string;
  me: ApiCall;
  otherKeyRefresh: string;
  otherJkt: string;
  refreshedTokenType: string;
  refreshedAccessToken: string;
  meAfterRefresh: ApiCall;
  afterRevoke: string;
}

/** The SPA: one page for both the start of the login (/) and the /callback route. */
function flowPage(config: { issuer: string; api: string }): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>DPoP SPA (stub issuer)</title></head>
<body>
<pre id="status">loading</pre>
<pre id="result"></pre>
<script type="module">
import {
  discover, buildAuthorizationUrl, parseAuthorizationResponse, exchangeAuthorizationCode,
  refreshTokens, revokeToken, createDpopKeyPair, createDpopHandle, createIndexedDbDpopStore,
  fetchWithDpop,
} from '${BUNDLE}';
const config = ${JSON.stringify({ ...config, clientId: CLIENT_ID, resource: API })};
const show = (id, value) => {
  document.getElementById(id).textContent = typeof value === 'string' ? value : JSON.stringify(value);
};
const failure = (error) => error.name + ' ' + error.error;
try {
  const metadata = await discover(config.issuer);
  const redirectUri = location.origin + '/callback';
  // The key lives in IndexedDB: the one made before the redirect signs after it.
  const store = createIndexedDbDpopStore();
  const dpop = await createDpopHandle((await store.get('keyPair')) ?? (await createDpopKeyPair()), { store });
  if (location.pathname === '/callback') {
    const pending = JSON.parse(sessionStorage.getItem('oauth:pending') ?? 'null');
    sessionStorage.removeItem('oauth:pending');
    const { code } = parseAuthorizationResponse(location.href, { expectedState: pending.state, metadata });
    history.replaceState(null, '', '/');
    const client = { clientId: config.clientId, resource: config.resource, dpop };
    const tokens = await exchangeAuthorizationCode(metadata, {
      ...client, code, codeVerifier: pending.codeVerifier, redirectUri,
    });
    const call = async (token) => {
      const response = await fetchWithDpop(dpop, token, config.api + '/me?view=full');
      return { status: response.status, body: await response.json() };
    };
    const me = await call(tokens.access_token);
    // The refresh token is bound to the page's key: a proof of another key cannot use it.
    const otherKey = await createDpopHandle(await createDpopKeyPair());
    const otherKeyRefresh = await refreshTokens(metadata, {
      ...client, dpop: otherKey, refreshToken: tokens.refresh_token,
    }).then(() => 'refreshed', (error) => failure(error) + ': ' + error.message);
    const refreshed = await refreshTokens(metadata, { ...client, refreshToken: tokens.refresh_token });
    const meAfterRefresh = await call(refreshed.access_token);
    await revokeToken(metadata, {
      clientId: config.clientId, dpop, token: refreshed.refresh_token, tokenTypeHint: 'refresh_token',
    });
    const afterRevoke = await refreshTokens(metadata, { ...client, refreshToken: refreshed.refresh_token })
      .then(() => 'refreshed', failure);
    await store.clear();
    show('status', 'done');
    show('result', {
      jkt: dpop.jkt, tokenType: tokens.token_type, accessToken: tokens.access_token, me, otherKeyRefresh,
      otherJkt: otherKey.jkt,
      refreshedTokenType: refreshed.token_type, refreshedAccessToken: refreshed.access_token,
      meAfterRefresh, afterRevoke,
    });
  } else {
    const request = await buildAuthorizationUrl(metadata, {
      clientId: config.clientId, redirectUri, scope: 'openid offline_access api:read',
      resource: config.resource, dpop,
    });
    sessionStorage.setItem('oauth:pending', JSON.stringify({ state: request.state, codeVerifier: request.codeVerifier }));
    show('status', 'redirecting');
    location.assign(request.url);
  }
} catch (error) {
  show('status', 'failed');
  show('result', { error: { name: error.name, message: error.message, code: error.code, error: error.error } });
}
</script>
</body></html>`;
}

let issuer: TestIssuer;
let browser: Browser;
let app: AppServer;
let api: ResourceServer;
let page: Page;
let requests: Request[];
let responses: Response[];
let pageErrors: string[];

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, requireDpopNonce: true, audience: API });
  let html = '';
  app = await serveApp({ '/': () => html, '/callback': () => html });
  const resourceVerifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: API,
    typ: 'at+jwt',
    dpop: { required: true, nonce: { secret: 'the resource server nonce secret, 32+ bytes' } },
  });
  api = await startResourceServer((request) => authenticate(resourceVerifier, request), app.origin);
  html = flowPage({ issuer: issuer.issuer, api: api.origin });
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await api?.close();
  await app?.close();
  await issuer?.close();
});

beforeEach(async () => {
  issuer.reset();
  api.calls.length = 0;
  page = await browser.newPage();
  requests = [];
  responses = [];
  pageErrors = [];
  page.on('request', (request) => requests.push(request));
  page.on('response', (response) => responses.push(response));
  page.on('pageerror', (error) => pageErrors.push(error.message));
});

afterEach(async () => {
  await page.context().close();
});

/** Waits (across navigations) until the flow page has written its result, and reads it. */
async function flowResult(): Promise<FlowResult> {
  await page.locator('#result:not(:empty)').waitFor({ timeout: 20_000 });
  return JSON.parse((await page.locator('#result').textContent())!) as FlowResult;
}

async function proofClaims(request: Request): Promise<JWTPayload> {
  const proof = await request.headerValue('dpop');
  expect(proof).toEqual(expect.any(String));
  return (await jwtVerify(proof!, EmbeddedJWK, { typ: 'dpop+jwt' })).payload;
}

/** The RFC 7638 thumbprint of the key a request's proof names. */
async function proofJkt(request: Request): Promise<string> {
  const { protectedHeader } = await jwtVerify((await request.headerValue('dpop'))!, EmbeddedJWK);
  return calculateJwkThumbprint(protectedHeader.jwk!);
}

describe('DPoP against the stub issuer in Chromium', () => {
  it('binds the code and tokens to the key, follows both nonces, and calls the API with fetchWithDpop', async () => {
    await page.goto(`${app.origin}/`);
    const result = await flowResult();
    expect(result.error).toBeUndefined();
    expect(pageErrors).toEqual([]);
    expect(await page.locator('#status').textContent()).toBe('done');

    // The authorization request carried dpop_jkt, the thumbprint of the page's key (§10).
    const authorize = requests.find((r) => r.url().startsWith(issuer.metadata.authorization_endpoint!));
    expect(new URL(authorize!.url()).searchParams.get('dpop_jkt')).toBe(result.jkt);
    expect(issuer.requests.authorize).toBe(1);

    // The token endpoint: the exchange met use_dpop_nonce once and was retried with the
    // nonce; the other key's refresh met it too (its handle had none) and was refused; the
    // page's own refresh went through with the nonce it had; the refresh after revocation failed.
    const tokenPosts = responses.filter(
      (r) => r.url() === issuer.metadata.token_endpoint && r.request().method() === 'POST',
    );
    // (Chromium does not keep the bodies the page left unread: a use_dpop_nonce refusal is
    // told by its DPoP-Nonce header, the invalid_grant ones by the page's errors below.)
    const answers = await Promise.all(
      tokenPosts.map(async (r) => `${r.status()} ${(await r.headerValue('dpop-nonce')) ? 'nonce' : '-'}`),
    );
    expect(answers).toEqual(['400 nonce', '200 -', '400 nonce', '400 -', '200 -', '400 -']);
    expect(issuer.requests.token).toBe(6);
    const tokenClaims = await Promise.all(tokenPosts.map((r) => proofClaims(r.request())));
    expect(tokenClaims[0]).toMatchObject({ htm: 'POST', htu: issuer.metadata.token_endpoint });
    expect(tokenClaims[0]!.nonce).toBeUndefined();
    const issuedNonce = await tokenPosts[0]!.headerValue('dpop-nonce');
    expect(issuedNonce).toEqual(expect.any(String));
    expect(tokenClaims[1]!.nonce).toBe(issuedNonce);
    expect(tokenClaims[4]!.nonce).toBe(issuedNonce);
    const forms = tokenPosts.map((r) => new URLSearchParams(r.request().postData() ?? ''));
    expect(forms.map((form) => form.get('grant_type'))).toEqual([
      'authorization_code',
      'authorization_code',
      'refresh_token',
      'refresh_token',
      'refresh_token',
      'refresh_token',
    ]);
    expect(result.otherKeyRefresh).toMatch(/^TokenEndpointError invalid_grant: .*bound to another DPoP key/);
    const proofKeys = await Promise.all(tokenPosts.map((r) => proofJkt(r.request())));
    expect(result.otherJkt).not.toBe(result.jkt);
    expect(proofKeys).toEqual([
      result.jkt,
      result.jkt,
      result.otherJkt,
      result.otherJkt,
      result.jkt,
      result.jkt,
    ]);

    // DPoP-bound JWT access tokens, before and after the refresh (§6.1).
    expect(result.tokenType).toBe('DPoP');
    expect(result.refreshedTokenType).toBe('DPoP');
    expect(result.refreshedAccessToken).not.toBe(result.accessToken);
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API, typ: 'at+jwt' });
    for (const token of [result.accessToken, result.refreshedAccessToken]) {
      const { payload } = await verifier.verify(token);
      expect(payload).toMatchObject({
        iss: issuer.issuer,
        aud: API,
        client_id: CLIENT_ID,
        sub: 'test-user',
        cnf: { jkt: result.jkt },
      });
    }

    // The API demanded its own nonce once; fetchWithDpop retried, then kept using it.
    expect(result.me).toEqual({ status: 200, body: expect.objectContaining({ sub: 'test-user' }) });
    expect(result.meAfterRefresh).toEqual({
      status: 200,
      body: expect.objectContaining({ sub: 'test-user' }),
    });
    expect(api.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      'GET /me 401',
      'GET /me 200',
      'GET /me 200',
    ]);
    const apiResponses = responses.filter(
      (r) => r.url().startsWith(`${api.origin}/me`) && r.request().method() === 'GET',
    );
    expect(apiResponses.map((r) => r.status())).toEqual([401, 200, 200]);
    expect(await apiResponses[0]!.headerValue('www-authenticate')).toContain('error="use_dpop_nonce"');
    const apiNonce = await apiResponses[0]!.headerValue('dpop-nonce');
    expect(apiNonce).toEqual(expect.any(String));
    expect(apiNonce).not.toBe(issuedNonce);
    const apiClaims = await Promise.all(apiResponses.map((r) => proofClaims(r.request())));
    expect(apiClaims[0]!.nonce).toBeUndefined();
    expect(apiClaims[1]).toMatchObject({ htm: 'GET', htu: `${api.origin}/me`, nonce: apiNonce });
    // (The value may roll to the next time step between the two calls; one retry only, above.)
    expect(apiClaims[2]!.nonce).toEqual(expect.any(String));

    // A proof the page sent, replayed from Node with the same headers, is refused (§11.1).
    const accepted = apiResponses[1]!.request();
    const replay = await fetch(`${api.origin}/me?view=full`, {
      headers: {
        authorization: (await accepted.headerValue('authorization'))!,
        dpop: (await accepted.headerValue('dpop'))!,
      },
    });
    expect(replay.status).toBe(401);
    const replayBody = (await replay.json()) as { code: string; error: string };
    expect(replayBody.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(replay.headers.get('www-authenticate')).toContain('error="invalid_dpop_proof"');
    expect(api.calls.map((call) => call.status)).toEqual([401, 200, 200, 401]);

    // Revocation took a proof too, and the refresh token is gone.
    expect(result.afterRevoke).toBe('TokenEndpointError invalid_grant');
    expect(issuer.requests.revoke).toBe(1);
    const revocation = responses.find(
      (r) => r.url() === issuer.metadata.revocation_endpoint && r.request().method() === 'POST',
    );
    expect(revocation!.status()).toBe(200);
    expect(await proofClaims(revocation!.request())).toMatchObject({
      htm: 'POST',
      htu: issuer.metadata.revocation_endpoint,
    });
    expect(new URLSearchParams(revocation!.request().postData() ?? '').get('token_type_hint')).toBe(
      'refresh_token',
    );
  });
});

// The SPA's whole DPoP flow in real headless Chromium against OUR stub issuer
// (oauth-jwt-verify/testing, listening on 127.0.0.1 with `requireDpopNonce`), with the
// built bundle of oauth-jwt-verify/pkce (dist/, as `npm run build` wrote it): dpop_jkt on
// the authorization request, the code exchange that meets use_dpop_nonce once, DPoP-bound
// tokens, a refresh that another key cannot use, revocation, and API calls through
// fetchWithDpop to a node:http resource server whose decision is this library's own
// `authenticate()` with a JwtVerifier that requires DPoP and its own nonces. A proof the
// page sent is then replayed from Node and refused (RFC 9449 §4.3, §5, §8, §10, §11.1).
import { EmbeddedJWK, type JWTPayload, calculateJwkThumbprint, jwtVerify } from 'jose';
import type { Request } from 'playwright-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, authenticate } from '../../src/index.js';
import { type ResourceServer, startResourceServer } from '../support/dpop-resource-server.js';
import { useTestIssuer } from '../support/fixture.js';
import { type FlowResult, dpopFlowPage } from './dpop-flow.js';
import { type AppServer, readResult, serveApp, useChromium } from './harness.js';

const API = 'https://api.example.test';
const CLIENT_ID = 'dpop-stub-spa';

const issuer = useTestIssuer({ listen: true, requireDpopNonce: true, audience: API }, { reset: true });
let app: AppServer;
let api: ResourceServer;

beforeAll(async () => {
  let html = '';
  app = await serveApp({ '/': () => html, '/callback': () => html });
  const resourceVerifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: API,
    typ: 'at+jwt',
    dpop: { required: true, nonce: { secret: 'the resource server nonce secret, 32+ bytes' } },
  });
  api = await startResourceServer((request) => authenticate(resourceVerifier, request), app.origin);
  html = dpopFlowPage({
    title: 'DPoP SPA (stub issuer)',
    issuer: issuer.issuer,
    api: api.origin,
    clientId: CLIENT_ID,
    resource: API,
    otherKey: true,
  });
});

afterAll(async () => {
  await api?.close();
  await app?.close();
});

beforeEach(() => {
  api.calls.length = 0;
});

const tab = useChromium();

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
    await tab.page.goto(`${app.origin}/`);
    const result = await readResult<FlowResult>(tab.page, 20_000);
    expect(result.error).toBeUndefined();
    expect(tab.pageErrors).toEqual([]);
    expect(await tab.page.locator('#status').textContent()).toBe('done');

    // The authorization request carried dpop_jkt, the thumbprint of the page's key (§10).
    const authorize = tab.requests.find((r) => r.url().startsWith(issuer.metadata.authorization_endpoint!));
    expect(new URL(authorize!.url()).searchParams.get('dpop_jkt')).toBe(result.jkt);
    expect(issuer.requests.authorize).toBe(1);

    // The token endpoint: the exchange met use_dpop_nonce once and was retried with the
    // nonce; the other key's refresh met it too (its handle had none) and was refused; the
    // page's own refresh went through with the nonce it had; the refresh after revocation failed.
    const tokenPosts = tab.responses.filter(
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
      // The test reads cnf itself: the token is bound, so verify() alone would refuse it.
      const { payload } = await verifier.verify(token, { allowBoundTokens: true });
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
    const apiResponses = tab.responses.filter(
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
    const revocation = tab.responses.find(
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

// DPoP in real headless Chromium, with the built bundle of oauth-jwt-verify/pkce (dist/, as
// `npm run build` wrote it): the key cannot be exported, survives a reload through
// IndexedDB, and signs proofs that jose verifies in Node; then the whole flow against a real
// oidc-provider with DPoP on and nonces required (dpop_jkt, the code exchange that meets
// use_dpop_nonce once, a DPoP-bound JWT access token, refresh, revocation), ending in API
// calls through fetchWithDpop to a node:http resource server that demands its own nonce.
//
// The resource server's decision is this library's own resource-server side:
// `authenticate()` with a JwtVerifier that accepts DPoP and demands its own nonces, so the
// proofs the SPA makes are checked by `verifyRequest` (RFC 9449 §4.3, §7, §9).
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, authenticate } from '../../src/index.js';
import { type OidcProvider, startOidcProvider } from '../oidc-provider/provider.js';
import {
  type RequestCheck,
  type ResourceServer,
  startResourceServer,
} from '../support/dpop-resource-server.js';
import { type FlowResult, dpopFlowPage } from './dpop-flow.js';
import { type AppServer, BUNDLE, readResult, serveApp, useChromium } from './harness.js';

const API = 'https://api.example.test';
const CLIENT_ID = 'dpop-spa';

/** A page that loads the bundle as `window.pkce` (for page.evaluate) and says when it is there. */
const BLANK_PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>loading</title></head><body>
<script type="module">
import * as pkce from '${BUNDLE}';
window.pkce = pkce;
document.title = 'ready';
</script></body></html>`;

let app: AppServer;
let appOrigin: string;
let provider: OidcProvider;
let issuer: string;
let api: ResourceServer;

/** The resource server's check: a DPoP-bound JWT access token for API, with its own nonce. */
let apiCheck: RequestCheck;

beforeAll(async () => {
  let html = '';
  app = await serveApp({ '/': () => html, '/callback': () => html, '/blank': () => BLANK_PAGE });
  appOrigin = app.origin;
  provider = await startOidcProvider({
    clientId: CLIENT_ID,
    redirectUri: `${appOrigin}/callback`,
    api: API,
    dpop: true,
  });
  issuer = provider.issuer;

  const resourceVerifier = new JwtVerifier({
    issuer,
    audience: API,
    typ: 'at+jwt',
    discovery: 'oidc',
    dpop: { required: true, nonce: { secret: 'the resource server nonce secret, 32+ bytes' } },
  });
  apiCheck = (request) => authenticate(resourceVerifier, request);
  api = await startResourceServer((request) => apiCheck(request), appOrigin);
  html = dpopFlowPage({
    title: 'DPoP SPA',
    issuer,
    api: api.origin,
    clientId: CLIENT_ID,
    resource: API,
    discover: { discovery: 'oidc' },
    prompt: 'consent',
  });
});

afterAll(async () => {
  await api?.close();
  await app?.close();
  await provider?.close();
});

beforeEach(() => {
  api.calls.length = 0;
});

// oidc-provider's development pages import a web font; there is no network here.
const tab = useChromium((page) => page.route(/fonts\.googleapis\.com/, (route) => route.abort()));

/** Opens the blank page of the app origin, with the bundle as `window.pkce`. */
async function openBlank(): Promise<void> {
  await tab.page.goto(`${appOrigin}/blank`);
  await tab.page.waitForFunction(() => document.title === 'ready');
}

type Pkce = typeof import('../../src/pkce/index.js');
declare global {
  interface Window {
    pkce: Pkce;
  }
}

describe('DPoP keys in Chromium', () => {
  it('makes a P-256 key pair whose private key no script can export', async () => {
    await openBlank();
    const result = await tab.page.evaluate(async () => {
      const { privateKey, publicKey } = await window.pkce.createDpopKeyPair();
      const refusal = (format: 'jwk' | 'pkcs8') =>
        crypto.subtle.exportKey(format, privateKey).then(
          () => 'exported',
          (error: DOMException) => error.name,
        );
      return {
        extractable: privateKey.extractable,
        algorithm: privateKey.algorithm,
        usages: privateKey.usages,
        jwk: await refusal('jwk'),
        pkcs8: await refusal('pkcs8'),
        publicExtractable: publicKey.extractable,
      };
    });
    expect(result).toEqual({
      extractable: false,
      algorithm: { name: 'ECDSA', namedCurve: 'P-256' },
      usages: ['sign'],
      jwk: 'InvalidAccessError',
      pkcs8: 'InvalidAccessError',
      publicExtractable: true,
    });
    expect(tab.pageErrors).toEqual([]);
  });

  it('signs proofs that jose verifies in Node, with the claims of RFC 9449 §4.2', async () => {
    await openBlank();
    const before = Math.floor(Date.now() / 1000);
    const { proof, jkt } = await tab.page.evaluate(async () => {
      const dpop = await window.pkce.createDpopHandle(await window.pkce.createDpopKeyPair());
      const proof = await dpop.proof('PATCH', 'https://api.example.test/orders/7?expand=items#top', {
        accessToken: 'access-token-from-the-page',
        nonce: 'server-nonce-1',
      });
      return { proof, jkt: dpop.jkt };
    });
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(protectedHeader).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
    });
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(jkt);
    const ath = Buffer.from(
      await crypto.subtle.digest('SHA-256', new TextEncoder().encode('access-token-from-the-page')),
    ).toString('base64url');
    expect(payload).toEqual({
      jti: expect.stringMatching(/^[\w-]{43}$/),
      htm: 'PATCH',
      htu: 'https://api.example.test/orders/7',
      iat: expect.any(Number),
      ath,
      nonce: 'server-nonce-1',
    });
    expect(payload.iat).toBeGreaterThanOrEqual(before - 1);
    expect(payload.iat).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) + 1);
  });

  it('keeps the key pair and the nonces in IndexedDB across a reload, still non-extractable', async () => {
    await openBlank();
    const first = await tab.page.evaluate(async () => {
      const { createIndexedDbDpopStore, createDpopHandle, createDpopKeyPair } = window.pkce;
      const store = createIndexedDbDpopStore();
      const stored = await store.get('keyPair');
      const dpop = await createDpopHandle(stored ?? (await createDpopKeyPair()), { store });
      // An answer that brings a nonce, as a server's would.
      await dpop.withProof('GET', 'https://api.example.test/me', async () => ({
        status: 200,
        headers: new Headers({ 'DPoP-Nonce': 'nonce-before-reload' }),
      }));
      return { hadKey: stored !== undefined, jkt: dpop.jkt };
    });
    expect(first.hadKey).toBe(false);

    await tab.page.reload();
    await tab.page.waitForFunction(() => document.title === 'ready');
    const second = await tab.page.evaluate(async () => {
      const { createIndexedDbDpopStore, createDpopHandle } = window.pkce;
      const store = createIndexedDbDpopStore();
      const keyPair = await store.get('keyPair');
      if (!keyPair) return undefined;
      const dpop = await createDpopHandle(keyPair, { store });
      const exported = await crypto.subtle.exportKey('jwk', keyPair.privateKey).then(
        () => 'exported',
        (error: DOMException) => error.name,
      );
      const proof = await dpop.proof('GET', 'https://api.example.test/me');
      await store.clear();
      return {
        jkt: dpop.jkt,
        extractable: keyPair.privateKey.extractable,
        isCryptoKey: keyPair.privateKey instanceof CryptoKey,
        exported,
        proof,
        afterClear: (await store.get('keyPair')) === undefined && (await store.get('nonces')) === undefined,
      };
    });
    expect(second).toMatchObject({
      jkt: first.jkt,
      extractable: false,
      isCryptoKey: true,
      exported: 'InvalidAccessError',
      afterClear: true,
    });
    // The reloaded key signs, with the nonce the first page load was given.
    const { payload, protectedHeader } = await jwtVerify(second!.proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    expect(await calculateJwkThumbprint(protectedHeader.jwk!)).toBe(first.jkt);
    expect(payload.nonce).toBe('nonce-before-reload');
    expect(tab.pageErrors).toEqual([]);
  });
});

/** The dev login and consent pages of oidc-provider, as a user would go through them. */
async function signInAtProvider(login: string): Promise<void> {
  await tab.page.locator('input[name="login"]').waitFor({ timeout: 15_000 });
  await tab.page.fill('input[name="login"]', login);
  await tab.page.fill('input[name="password"]', 'any');
  await tab.page.click('button[type="submit"]');
  await tab.page
    .locator('input[name="prompt"][value="consent"]')
    .waitFor({ state: 'attached', timeout: 15_000 });
  await tab.page.click('button[type="submit"]');
}

describe('DPoP against oidc-provider in Chromium', () => {
  it('binds the code and tokens to the key, follows both nonces, and calls the API with fetchWithDpop', async () => {
    await tab.page.goto(`${appOrigin}/`);
    await signInAtProvider('alice');
    const result = await readResult<FlowResult>(tab.page, 20_000);
    expect(result.error).toBeUndefined();
    expect(tab.pageErrors).toEqual([]);

    // The authorization request carried dpop_jkt, the thumbprint of the page's key.
    const authorize = tab.requests.find((r) => r.url().startsWith(`${issuer}/auth?`));
    expect(new URL(authorize!.url()).searchParams.get('dpop_jkt')).toBe(result.jkt);

    // The token endpoint demanded a nonce: the exchange was refused once (400
    // use_dpop_nonce), retried with it, and the refresh used the nonce it had then.
    const tokenPosts = tab.responses.filter(
      (r) => r.url() === `${issuer}/token` && r.request().method() === 'POST',
    );
    // (The last one: the refresh after revocation, refused.)
    expect(tokenPosts.map((r) => r.status())).toEqual([400, 200, 200, 400]);
    const proofs = await Promise.all(tokenPosts.map((r) => r.request().headerValue('dpop')));
    const claims = await Promise.all(
      proofs.map(async (proof) => (await jwtVerify(proof!, EmbeddedJWK, { typ: 'dpop+jwt' })).payload),
    );
    expect(claims[0]).toMatchObject({ htm: 'POST', htu: `${issuer}/token` });
    expect(claims[0]!.nonce).toBeUndefined();
    expect(claims[1]!.nonce).toEqual(expect.any(String));

    // DPoP-bound JWT access tokens, token_type as the server sent it.
    expect(result.tokenType).toBe('DPoP');
    expect(result.refreshedTokenType).toBe('DPoP');
    const verifier = new JwtVerifier({ issuer, audience: API, typ: 'at+jwt', discovery: 'oidc' });
    for (const token of [result.accessToken, result.refreshedAccessToken]) {
      // The test reads cnf itself: the token is bound, so verify() alone would refuse it.
      const { payload } = await verifier.verify(token, { allowBoundTokens: true });
      expect(payload).toMatchObject({ iss: issuer, aud: API, sub: 'alice', cnf: { jkt: result.jkt } });
    }

    // The API demanded its own nonce once; fetchWithDpop retried, then kept using it.
    expect(result.me).toEqual({ status: 200, body: expect.objectContaining({ sub: 'alice' }) });
    expect(result.meAfterRefresh).toEqual({ status: 200, body: expect.objectContaining({ sub: 'alice' }) });
    expect(api.calls.map((call) => `${call.method} ${call.path} ${call.status}`)).toEqual([
      'GET /me 401',
      'GET /me 200',
      'GET /me 200',
    ]);
    const apiProofs = await Promise.all(
      tab.requests
        .filter((r) => r.url().startsWith(`${api.origin}/me`) && r.method() === 'GET')
        .map((r) => r.headerValue('dpop')),
    );
    expect(apiProofs).toHaveLength(3);
    const nonces = await Promise.all(
      apiProofs.map(
        async (proof) => (await jwtVerify(proof!, EmbeddedJWK, { typ: 'dpop+jwt' })).payload.nonce,
      ),
    );
    // No nonce at first; then the API's own, remembered (the calls above show one retry only;
    // the value itself may roll to the next time step between the two calls).
    expect(nonces[0]).toBeUndefined();
    expect(nonces.slice(1)).toEqual([expect.any(String), expect.any(String)]);

    // Revocation took the proof too, and the refresh token is gone.
    expect(result.afterRevoke).toBe('TokenEndpointError invalid_grant');
    const revocation = tab.requests.find(
      (r) => r.url() === `${issuer}/token/revocation` && r.method() === 'POST',
    );
    expect(await revocation!.headerValue('dpop')).toEqual(expect.any(String));
  });
});

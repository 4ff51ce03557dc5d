import { createRemoteJWKSet, decodeJwt, errors, jwtVerify } from 'jose';
import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { codeFlow } from './helpers.js';

const OAUTH_METADATA = 'https://issuer.test/.well-known/oauth-authorization-server';
const OIDC_METADATA = 'https://issuer.test/.well-known/openid-configuration';
const JWKS = 'https://issuer.test/jwks';

let issuer: TestIssuer;
const server = setupServer();

beforeAll(async () => {
  issuer = await createTestIssuer();
  server.listen({ onUnhandledRequest: 'error' });
});
beforeEach(() => {
  server.use(...issuer.handlers);
  issuer.reset();
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe('msw handlers', () => {
  it('serve both metadata documents and the JWKS to the global fetch', async () => {
    const oauth = await (await fetch(OAUTH_METADATA)).json();
    const oidc = await (await fetch(OIDC_METADATA)).json();
    expect(oauth.issuer).toBe('https://issuer.test');
    expect(oidc.issuer).toBe('https://issuer.test');
    expect(await (await fetch(oauth.jwks_uri)).json()).toEqual(issuer.jwks());
    expect(issuer.requests).toEqual({
      metadata: 2,
      jwks: 1,
      token: 0,
      authorize: 0,
      revoke: 0,
      register: 0,
      introspect: 0,
      logout: 0,
      userinfo: 0,
    });
  });

  it('are one handler per URL served, so they can be listed and combined', () => {
    expect(issuer.handlers).toHaveLength(10);
    expect(issuer.handlers.map((handler) => handler.info.path).sort()).toEqual(
      [
        OAUTH_METADATA,
        OIDC_METADATA,
        'https://issuer.test/authorize',
        JWKS,
        'https://issuer.test/revoke',
        'https://issuer.test/token',
        'https://issuer.test/register',
        'https://issuer.test/introspect',
        'https://issuer.test/logout',
        'https://issuer.test/userinfo',
      ].sort(),
    );
  });

  it('let a remote JWKS (jose) verify the tokens it signs', async () => {
    const jwks = createRemoteJWKSet(new URL(issuer.metadata.jwks_uri!));
    const { payload } = await jwtVerify(await issuer.sign({ sub: 'user-1' }), jwks, {
      issuer: issuer.issuer,
      audience: 'https://api.test',
    });
    expect(payload.sub).toBe('user-1');
    expect(issuer.requests.jwks).toBe(1);
  });

  it('leave URLs the issuer does not serve to other handlers', async () => {
    server.use(http.get('https://issuer.test/me', () => HttpResponse.json({ sub: 'from-another-handler' })));
    expect(await (await fetch('https://issuer.test/me')).json()).toEqual({
      sub: 'from-another-handler',
    });
  });

  it('let two issuers share an origin under different paths', async () => {
    const a = await createTestIssuer({ issuer: 'https://idp.test/a' });
    const b = await createTestIssuer({ issuer: 'https://idp.test/b' });
    server.use(...a.handlers, ...b.handlers);
    const docA = await (await fetch('https://idp.test/.well-known/oauth-authorization-server/a')).json();
    const docB = await (await fetch('https://idp.test/b/.well-known/openid-configuration')).json();
    expect([docA.issuer, docB.issuer]).toEqual(['https://idp.test/a', 'https://idp.test/b']);
    expect(await (await fetch(docB.jwks_uri)).json()).toEqual(b.jwks());
  });

  it('run the whole authorization-code flow with PKCE through the global fetch', async () => {
    const { tokens, callback } = await codeFlow(fetch, issuer.metadata, {
      scope: 'openid',
      nonce: 'abc',
    });
    expect(callback.searchParams.get('iss')).toBe(issuer.issuer);
    expect(decodeJwt(tokens.id_token as string).nonce).toBe('abc');
    expect(issuer.requests).toMatchObject({ authorize: 1, token: 1 });
  });

  it('serve the keys of a rotation at once, so an unknown kid resolves on refetch', async () => {
    const jwks = createRemoteJWKSet(new URL(JWKS), { cooldownDuration: 0 });
    await jwtVerify(await issuer.sign(), jwks);
    await issuer.rotateKeys();
    await jwtVerify(await issuer.sign(), jwks);
    expect(issuer.requests.jwks).toBe(2);
  });
});

describe('failNext', () => {
  it('fails the next request with 500 and an RFC 6749 error body, then recovers', async () => {
    issuer.failNext('jwks');
    const failed = await fetch(JWKS);
    expect(failed.status).toBe(500);
    expect(await failed.json()).toEqual({
      error: 'server_error',
      error_description: expect.stringContaining("failNext('jwks')"),
    });
    expect((await fetch(JWKS)).status).toBe(200);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('sends the status, headers and JSON body asked for', async () => {
    issuer.failNext('jwks', { status: 503, headers: { 'retry-after': '30' } });
    const unavailable = await fetch(JWKS);
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toBe('30');
    expect((await unavailable.json()).error).toBe('temporarily_unavailable');

    const archeraError = {
      message: 'Failed to load keys',
      timestamp: '2026-01-01T00:00:00Z',
      type: 'internal',
    };
    issuer.failNext('jwks', { status: 500, body: archeraError });
    expect(await (await fetch(JWKS)).json()).toEqual(archeraError);
  });

  it('sends a string body as plain text', async () => {
    issuer.failNext('metadata', { status: 502, body: 'upstream down' });
    const response = await fetch(OAUTH_METADATA);
    expect(response.status).toBe(502);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await response.text()).toBe('upstream down');
  });

  it('malformed: true sends 200 with a body that is not JSON', async () => {
    issuer.failNext('jwks', { malformed: true });
    const response = await fetch(JWKS);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    await expect(response.json()).rejects.toThrow(SyntaxError);
  });

  it("malformed: 'html' sends an HTML error page, with the status asked for", async () => {
    issuer.failNext('metadata', { malformed: 'html' });
    issuer.failNext('metadata', { malformed: 'html', status: 200 });
    const first = await fetch(OIDC_METADATA);
    expect(first.status).toBe(500);
    expect(first.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await first.text()).toMatch(/^<!DOCTYPE html>/);
    expect((await fetch(OIDC_METADATA)).status).toBe(200);
  });

  it('fails `times` requests in a row; queued failures follow in order', async () => {
    issuer.failNext('jwks', { times: 2, status: 500 });
    issuer.failNext('jwks', { status: 503 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await fetch(JWKS)).status);
    expect(statuses).toEqual([500, 500, 503, 200]);
  });

  it('times: Infinity is an outage until reset()', async () => {
    issuer.failNext('jwks', { times: Infinity, status: 503 });
    for (let i = 0; i < 3; i++) expect((await fetch(JWKS)).status).toBe(503);
    expect(issuer.requests.jwks).toBe(3);
    issuer.reset();
    expect(issuer.requests.jwks).toBe(0);
    expect((await fetch(JWKS)).status).toBe(200);
  });

  it('fails only the endpoint named; metadata covers both documents', async () => {
    issuer.failNext('metadata', { times: 2 });
    expect((await fetch(JWKS)).status).toBe(200);
    expect((await fetch(OAUTH_METADATA)).status).toBe(500);
    expect((await fetch(OIDC_METADATA)).status).toBe(500);
    expect((await fetch(OIDC_METADATA)).status).toBe(200);
  });

  it('fails the token endpoint (and keeps CORS headers on the failure)', async () => {
    issuer.failNext('token', { status: 503 });
    const response = await fetch(issuer.metadata.token_endpoint!, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'x' }),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('access-control-allow-origin')).toBe('*');
    expect(
      (
        await fetch(issuer.metadata.token_endpoint!, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'x' }),
        })
      ).status,
    ).toBe(200);
  });

  it('fails authorize and revoke too', async () => {
    issuer.failNext('authorize', { status: 500 });
    issuer.failNext('revoke', { status: 503 });
    expect((await fetch(issuer.metadata.authorization_endpoint!, { redirect: 'manual' })).status).toBe(500);
    expect((await fetch(issuer.metadata.revocation_endpoint!, { method: 'POST' })).status).toBe(503);
  });

  it('makes a remote JWKS (jose) fail during the outage', async () => {
    issuer.failNext('jwks', { status: 500, body: 'Failed to load keys' });
    const jwks = createRemoteJWKSet(new URL(JWKS));
    await expect(jwtVerify(await issuer.sign(), jwks)).rejects.toBeInstanceOf(errors.JOSEError);
  });

  it('sends no body with a null-body status', async () => {
    issuer.failNext('jwks', { status: 204 });
    const response = await fetch(JWKS);
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
  });

  it.each([
    ['an unknown endpoint', 'me', {}],
    ['a status below 200', 'jwks', { status: 101 }],
    ['a status above 599', 'jwks', { status: 600 }],
    ['times 0', 'jwks', { times: 0 }],
    ['a negative delay', 'jwks', { delayMs: -1 }],
    ['an unknown malformed', 'jwks', { malformed: 'xml' }],
  ])('refuses %s with a TypeError', (_name, endpoint, options) => {
    expect(() => issuer.failNext(endpoint as 'jwks', options as object)).toThrow(TypeError);
  });
});

describe('failNext delayMs', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('answers the failure only after the delay', async () => {
    issuer.failNext('jwks', { status: 503, delayMs: 1000 });
    let status: number | undefined;
    const pending = issuer.fetch(JWKS).then((response) => (status = response.status));
    await vi.advanceTimersByTimeAsync(999);
    expect(status).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(status).toBe(503);
  });

  it('with delayMs alone, answers normally but late (a slow issuer)', async () => {
    issuer.failNext('jwks', { delayMs: 5000 });
    let body: unknown;
    const pending = issuer.fetch(JWKS).then(async (response) => (body = await response.json()));
    await vi.advanceTimersByTimeAsync(4999);
    expect(body).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await pending;
    expect(body).toEqual(issuer.jwks());
  });

  it('stops waiting when the client gives up', async () => {
    issuer.failNext('jwks', { delayMs: 60_000 });
    const controller = new AbortController();
    const pending = issuer.fetch(JWKS, { signal: controller.signal });
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    await pending;
    expect(vi.getTimerCount()).toBe(0);
  });
});

import { createRemoteJWKSet, decodeJwt, jwtVerify } from 'jose';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { CLIENT_ID, authorizeCode, codeExchange, codeFlow, pkcePair, postForm } from './helpers.js';
import { expectPreflightAllowed } from './helpers.js';
import { freePort } from '../support/network.js';

let live: TestIssuer;

beforeAll(async () => {
  live = await createTestIssuer({ listen: true, algorithms: ['RS256', 'ES256'] });
});
afterAll(() => live.close());

describe('listen: true', () => {
  it('serves on http://127.0.0.1:<port>, and that is the issuer', async () => {
    expect(live.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const metadata = await (await fetch(`${live.issuer}/.well-known/oauth-authorization-server`)).json();
    expect(metadata).toEqual(live.metadata);
    expect(metadata.issuer).toBe(live.issuer);
    expect(metadata.jwks_uri).toBe(`${live.issuer}/jwks`);
    const oidc = await (await fetch(`${live.issuer}/.well-known/openid-configuration`)).json();
    expect(oidc.issuer).toBe(live.issuer);
  });

  it('serves a JWKS that verifies its tokens over real HTTP (jose, and undici as another client)', async () => {
    const jwks = createRemoteJWKSet(new URL(live.metadata.jwks_uri!));
    for (const alg of ['RS256', 'ES256']) {
      const { payload } = await jwtVerify(await live.sign({ sub: alg }, { alg }), jwks, {
        issuer: live.issuer,
      });
      expect(payload.sub).toBe(alg);
    }
    const { statusCode, body } = await undiciRequest(live.metadata.jwks_uri!);
    expect(statusCode).toBe(200);
    expect(await body.json()).toEqual(live.jwks());
  });

  it('runs the SPA flow over HTTP: authorize → code + PKCE → tokens → refresh → revoke', async () => {
    const { tokens, callback } = await codeFlow(fetch, live.metadata, {
      scope: 'openid offline_access',
      nonce: 'n',
    });
    expect(callback.searchParams.get('iss')).toBe(live.issuer);
    expect(callback.searchParams.get('state')).toBe('state-1');
    const jwks = createRemoteJWKSet(new URL(live.metadata.jwks_uri!));
    const access = await jwtVerify(tokens.access_token as string, jwks, {
      typ: 'at+jwt',
      issuer: live.issuer,
      audience: 'https://api.test',
    });
    expect(access.payload).toMatchObject({
      sub: 'test-user',
      client_id: CLIENT_ID,
      scope: 'openid offline_access',
    });
    expect(decodeJwt(tokens.id_token as string)).toMatchObject({ aud: CLIENT_ID, nonce: 'n' });

    const refreshed = await fetch(
      live.metadata.token_endpoint!,
      postForm({
        grant_type: 'refresh_token',
        client_id: CLIENT_ID,
        refresh_token: tokens.refresh_token as string,
      }),
    );
    const next = await refreshed.json();
    expect(refreshed.status).toBe(200);
    expect(next.refresh_token).not.toBe(tokens.refresh_token);

    const revoked = await fetch(
      live.metadata.revocation_endpoint!,
      postForm({ client_id: CLIENT_ID, token: next.refresh_token }),
    );
    expect(revoked.status).toBe(200);
    const afterRevoke = await fetch(
      live.metadata.token_endpoint!,
      postForm({
        grant_type: 'refresh_token',
        client_id: CLIENT_ID,
        refresh_token: next.refresh_token,
      }),
    );
    expect(await afterRevoke.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('refuses a PKCE mismatch and a reused code with invalid_grant over HTTP', async () => {
    const exchange = (code: string, codeVerifier: string) =>
      fetch(live.metadata.token_endpoint!, postForm(codeExchange(code, codeVerifier)));
    const other = await authorizeCode(fetch, live.metadata);
    const mismatch = await exchange(other.code, (await pkcePair()).verifier);
    expect(mismatch.status).toBe(400);
    expect(await mismatch.json()).toMatchObject({ error: 'invalid_grant' });

    const { code, verifier } = await authorizeCode(fetch, live.metadata);
    expect((await exchange(code, verifier)).status).toBe(200);
    const reused = await exchange(code, verifier);
    expect(reused.status).toBe(400);
    expect(await reused.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('issues client_credentials tokens with client_secret_basic over HTTP', async () => {
    const response = await fetch(live.metadata.token_endpoint!, {
      method: 'POST',
      headers: { authorization: `Basic ${btoa('worker:secret')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'jobs' }),
    });
    expect(response.status).toBe(200);
    expect(decodeJwt((await response.json()).access_token)).toMatchObject({
      sub: 'worker',
      scope: 'jobs',
    });
  });

  it('answers CORS preflights from an SPA on another port', async () => {
    await expectPreflightAllowed(fetch, live.metadata.token_endpoint!, 'content-type');
  });

  it('answers HEAD without a body and unknown paths with 404', async () => {
    const head = await fetch(live.metadata.jwks_uri!, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    expect((await fetch(`${live.issuer}/nowhere`)).status).toBe(404);
  });

  it('reads a request target as a path on its own origin, never as another authority', async () => {
    const response = await fetch(`${live.issuer}//${new URL(live.issuer).host}/jwks`);
    expect(response.status).toBe(404);
  });

  it('injects failures over HTTP: HTML pages and malformed JSON', async () => {
    live.failNext('jwks', { malformed: 'html', status: 502 });
    live.failNext('metadata', { malformed: true });
    const html = await fetch(live.metadata.jwks_uri!);
    expect(html.status).toBe(502);
    expect(await html.text()).toContain('<html>');
    const malformed = await fetch(`${live.issuer}/.well-known/openid-configuration`);
    expect(malformed.status).toBe(200);
    await expect(malformed.json()).rejects.toThrow(SyntaxError);
  });

  it('delays an answer while others go through (ordering, no sleeps)', async () => {
    live.failNext('jwks', { delayMs: 200 });
    const order: string[] = [];
    const slow = fetch(live.metadata.jwks_uri!).then(() => order.push('jwks'));
    // The JWKS request reaches the server first; the metadata answer still comes first.
    await expect.poll(() => live.requests.jwks).toBeGreaterThan(0);
    await fetch(`${live.issuer}/.well-known/openid-configuration`).then(() => order.push('metadata'));
    await slow;
    expect(order).toEqual(['metadata', 'jwks']);
  });

  it('also offers msw handlers when msw is installed', () => {
    expect(live.handlers.length).toBeGreaterThan(0);
  });
});

describe('listen options', () => {
  it('listens on the port and host given', async () => {
    const port = await freePort();
    const issuer = await createTestIssuer({ listen: { port, host: '127.0.0.1' } });
    try {
      expect(issuer.issuer).toBe(`http://127.0.0.1:${port}`);
      expect((await fetch(issuer.metadata.jwks_uri!)).status).toBe(200);
    } finally {
      await issuer.close();
    }
  });

  it('fails to start when the port is taken', async () => {
    const port = Number(new URL(live.issuer).port);
    await expect(createTestIssuer({ listen: { port } })).rejects.toThrow(/EADDRINUSE/);
  });

  it('keeps the path of the configured issuer', async () => {
    const issuer = await createTestIssuer({
      listen: true,
      issuer: 'https://anything.test/tenant-1',
    });
    try {
      expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant-1$/);
      const origin = new URL(issuer.issuer).origin;
      const metadata = await (
        await fetch(`${origin}/.well-known/oauth-authorization-server/tenant-1`)
      ).json();
      expect(metadata.issuer).toBe(issuer.issuer);
    } finally {
      await issuer.close();
    }
  });

  it('auth0 profile: http://127.0.0.1:<port>/ with OIDC discovery and /oauth/token', async () => {
    const issuer = await createTestIssuer({ listen: true, profile: 'auth0' });
    try {
      expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const metadata = await (await fetch(`${issuer.issuer}.well-known/openid-configuration`)).json();
      expect(metadata).toMatchObject({
        issuer: issuer.issuer,
        token_endpoint: `${issuer.issuer}oauth/token`,
      });
      const { tokens } = await codeFlow(fetch, metadata);
      expect(decodeJwt(tokens.access_token as string).iss).toBe(issuer.issuer);
    } finally {
      await issuer.close();
    }
  });

  it('close() ends keep-alive connections at once and can be called twice', async () => {
    const issuer = await createTestIssuer({ listen: true });
    // undici keeps this connection alive after the answer.
    expect((await fetch(issuer.metadata.jwks_uri!)).status).toBe(200);
    await issuer.close();
    await issuer.close();
    await expect(fetch(issuer.metadata.jwks_uri!)).rejects.toThrow();
  });

  it('close() is a no-op without listen', async () => {
    const issuer = await createTestIssuer();
    await expect(issuer.close()).resolves.toBeUndefined();
  });
});

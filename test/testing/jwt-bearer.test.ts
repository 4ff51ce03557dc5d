// RFC 7523 at the stub issuer: the JWT bearer grant and private_key_jwt client authentication
// (token, introspection, revocation), with openid-client 6 as the client, through msw and over
// real HTTP; hand-made hostile assertions refused with the RFC's error and nothing kept.
import { SignJWT } from 'jose';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { AssertionReplayStore } from '../../src/testing/assertion-replay.js';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js';
import { clientKey, configure, useIssuerPair, verifyIssued } from './openid-client.js';

const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const backend = await clientKey('ES256', 'backend-1');
const other = await clientKey('ES256', 'other-1');
const issuers = useIssuerPair({
  clients: [
    { clientId: 'backend', jwks: { keys: [backend.publicJwk] } },
    { clientId: 'other', jwks: { keys: [other.publicJwk] }, tokenEndpointAuthMethod: 'private_key_jwt' },
    { clientId: 'spa' },
  ],
});

/** An assertion signed by `key`, `claims` over sensible defaults (undefined removes one). */
async function assertion(
  issuer: TestIssuer,
  claims: Record<string, unknown> = {},
  key = backend.privateKey,
  header: Record<string, unknown> = { alg: 'ES256', kid: 'backend-1' },
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  const payload = Object.fromEntries(
    Object.entries({
      iss: 'backend',
      sub: 'backend',
      aud: issuer.issuer,
      exp: now + 60,
      iat: now,
      jti: crypto.randomUUID(),
      ...claims,
    }).filter(([, value]) => value !== undefined),
  );
  return new SignJWT(payload).setProtectedHeader(header as { alg: string }).sign(key);
}

async function post(url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(fields) });
  return { status: response.status, body: await response.json().catch(() => undefined) };
}

describe.each(issuers)('RFC 7523 %s', (_how, issuer) => {
  const privateKeyJwt = () => client.PrivateKeyJwt({ key: backend.privateKey, kid: backend.kid });

  it('grants tokens for the assertion’s subject to a client authenticated with private_key_jwt', async () => {
    const config = await configure(issuer, 'backend', privateKeyJwt());
    const grant = await assertion(issuer, { sub: 'alice' });
    const tokens = await client.genericGrantRequest(config, JWT_BEARER, { assertion: grant, scope: 'read' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.scope).toBe('read');
    expect(await verifyIssued(issuer, tokens.access_token, 'https://api.test')).toMatchObject({
      sub: 'alice',
      client_id: 'backend',
      scope: 'read',
    });
    expect(issuer.requests.token).toBe(1);
  });

  it('authenticates private_key_jwt clients at the introspection and revocation endpoints too', async () => {
    const config = await configure(issuer, 'backend', privateKeyJwt());
    const { access_token: token } = await client.clientCredentialsGrant(config, { scope: 'jobs' });
    expect(await verifyIssued(issuer, token)).toMatchObject({ sub: 'backend', scope: 'jobs' });
    if (issuer.metadata.introspection_endpoint) {
      expect(await client.tokenIntrospection(config, token)).toMatchObject({ active: true, sub: 'backend' });
    }
    await expect(client.tokenRevocation(config, token)).resolves.toBeUndefined();
  });

  it('accepts the endpoint URL as aud, and refuses a replayed client assertion with invalid_client', async () => {
    const tokenUrl = issuer.metadata.token_endpoint!;
    const form = async (aud: string) => ({
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(issuer, { aud }),
    });
    expect((await post(tokenUrl, await form(tokenUrl))).status).toBe(200);
    const once = await form(issuer.issuer);
    expect((await post(tokenUrl, once)).status).toBe(200);
    const replay = await post(tokenUrl, once);
    expect(replay).toEqual({
      status: 401,
      body: { error: 'invalid_client', error_description: expect.stringMatching(/used before/) },
    });
  });

  it.each([
    ['another audience', { aud: 'https://elsewhere.test' }],
    ['no exp', { exp: undefined }],
    ['an exp an hour ahead', { exp: Math.floor(Date.now() / 1000) + 3600 }],
    ['an expired exp', { exp: Math.floor(Date.now() / 1000) - 60 }],
    ['no jti', { jti: undefined }],
    ['a sub that is not the client', { sub: 'alice' }],
    ['a future nbf', { nbf: Math.floor(Date.now() / 1000) + 120 }],
  ])('refuses a client assertion with %s: 401 invalid_client', async (_name, claims) => {
    const answer = await post(issuer.metadata.token_endpoint!, {
      grant_type: 'client_credentials',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: await assertion(issuer, claims),
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toBe('invalid_client');
  });

  it('refuses assertions signed by another client’s key, with HMAC or unsigned, and oversized ones', async () => {
    const secret = new TextEncoder().encode('a-secret-of-at-least-thirty-two-bytes!!');
    const forged = [
      await assertion(issuer, {}, other.privateKey, { alg: 'ES256', kid: 'backend-1' }),
      await new SignJWT({
        iss: 'backend',
        sub: 'backend',
        aud: issuer.issuer,
        exp: Math.floor(Date.now() / 1000) + 60,
        jti: 'h',
      })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(secret),
      `${btoa(JSON.stringify({ alg: 'none' })).replace(/=+$/, '')}.${btoa(JSON.stringify({ iss: 'backend', sub: 'backend' })).replace(/=+$/, '')}.`,
      `${(await assertion(issuer)).split('.')[0]}.${'A'.repeat(9000)}.sig`,
    ];
    for (const clientAssertion of forged) {
      const answer = await post(issuer.metadata.token_endpoint!, {
        grant_type: 'client_credentials',
        client_id: 'backend',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: clientAssertion,
      });
      expect(answer.status).toBe(401);
      expect(answer.body.error).toBe('invalid_client');
      expect(answer.body.error_description).not.toContain(clientAssertion);
    }
    const grant = await post(issuer.metadata.token_endpoint!, {
      grant_type: JWT_BEARER,
      client_id: 'spa',
      assertion: `${'A'.repeat(9000)}.x.y`,
    });
    expect(grant.status).toBe(400);
    expect(grant.body.error).toBe('invalid_grant');
  });

  it('refuses a private_key_jwt client that sends only its client_id, or a secret and an assertion', async () => {
    const bare = await post(issuer.metadata.token_endpoint!, {
      grant_type: 'client_credentials',
      client_id: 'other',
    });
    expect(bare.status).toBe(401);
    expect(bare.body.error).toBe('invalid_client');
    const both = await post(
      issuer.metadata.token_endpoint!,
      {
        grant_type: 'client_credentials',
        client_assertion_type: ASSERTION_TYPE,
        client_assertion: await assertion(issuer),
      },
      { authorization: `Basic ${btoa('backend:secret')}` },
    );
    expect(both.status).toBe(401);
    expect(both.body.error).toBe('invalid_client');
  });

  it('refuses a grant assertion of another client, without a sub, or replayed: 400 invalid_grant', async () => {
    const config = await configure(issuer, 'backend', privateKeyJwt());
    const foreign = await assertion(issuer, { iss: 'other', sub: 'alice' }, other.privateKey, {
      alg: 'ES256',
      kid: 'other-1',
    });
    const noSub = await assertion(issuer, { sub: undefined });
    for (const grant of [foreign, noSub]) {
      const error = await client
        .genericGrantRequest(config, JWT_BEARER, { assertion: grant })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(client.ResponseBodyError);
      expect((error as client.ResponseBodyError).error).toBe('invalid_grant');
    }
    const once = await assertion(issuer, { sub: 'alice' });
    await client.genericGrantRequest(config, JWT_BEARER, { assertion: once });
    const replay = await client
      .genericGrantRequest(config, JWT_BEARER, { assertion: once })
      .catch((e: unknown) => e);
    expect((replay as client.ResponseBodyError).error).toBe('invalid_grant');
  });
});

describe('the assertion replay store', () => {
  it('keeps each jti until its exp, never more than its bound, and never forgets an unexpired one to make room', () => {
    let now = 1_000_000;
    const store = new AssertionReplayStore(2, () => now);
    expect(store.remember('a', now + 60_000)).toBe('new');
    expect(store.remember('a', now + 60_000)).toBe('replayed');
    expect(store.remember('b', now + 30_000)).toBe('new');
    expect(store.remember('c', now + 60_000)).toBe('full');
    expect(store.size).toBe(2);
    now += 30_000;
    expect(store.remember('c', now + 60_000)).toBe('new');
    expect(store.size).toBe(2);
    now += 60_000;
    expect(store.remember('d', now + 1)).toBe('new');
    expect(store.size).toBe(1);
  });
});

describe('RFC 7523 in the profiles’ metadata', () => {
  it('announces private_key_jwt with its algorithms (default, auth0) and both grants everywhere', async () => {
    for (const profile of ['default', 'auth0'] as const) {
      const { metadata } = await createTestIssuer({ profile });
      expect(metadata.token_endpoint_auth_methods_supported).toContain('private_key_jwt');
      expect(metadata.token_endpoint_auth_signing_alg_values_supported).toContain('ES256');
      expect(metadata.grant_types_supported).toContain(JWT_BEARER);
    }
    const { metadata } = await createTestIssuer({ profile: 'rfc8414' });
    expect(metadata.grant_types_supported).toContain(JWT_BEARER);
    expect(metadata.token_endpoint_auth_methods_supported).not.toContain('private_key_jwt');
  });
});

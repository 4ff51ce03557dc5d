// The stub issuer's introspection endpoint (RFC 7662, RFC 9701), its opaque tokens and the
// ID token claims of its token endpoint (auth_time, at_hash).
import { createHash } from 'node:crypto';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { codeFlow, postForm } from './helpers.js';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
const RS = { authorization: basic('api', 'api-secret') };
let issuer: TestIssuer;
let clockMs = Date.parse('2031-05-01T00:00:00Z');

beforeAll(async () => {
  issuer = await createTestIssuer({
    clients: [{ clientId: 'api', clientSecret: 'api-secret' }, { clientId: 'spa' }],
    now: () => clockMs,
  });
});

async function introspect(token: string, headers: Record<string, string> = RS) {
  const response = await issuer.fetch(issuer.metadata.introspection_endpoint!, postForm({ token }, headers));
  const text = await response.text();
  return { status: response.status, type: response.headers.get('content-type'), text, body: safeJson(text) };
}
const safeJson = (text: string) => {
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
};

describe('the stub introspection endpoint', () => {
  it('is announced in the default profile metadata and counted', async () => {
    expect(issuer.metadata.introspection_endpoint).toBe('https://issuer.test/introspect');
    issuer.reset();
    await introspect('x');
    expect(issuer.requests.introspect).toBe(1);
    const rfc8414 = await createTestIssuer({ profile: 'rfc8414' });
    expect(rfc8414.metadata).not.toHaveProperty('introspection_endpoint');
  });

  it('answers active with the claims of an opaque token it issued, until its exp', async () => {
    const token = issuer.issueOpaqueToken({ sub: 'alice', scope: 'read' }, { expiresIn: 60 });
    expect(token).toMatch(/^[\w-]{43}$/);
    const now = Math.floor(clockMs / 1000);
    expect((await introspect(token)).body).toEqual({
      active: true,
      token_type: 'Bearer',
      iss: 'https://issuer.test',
      aud: 'https://api.test',
      iat: now,
      exp: now + 60,
      jti: expect.any(String),
      sub: 'alice',
      scope: 'read',
    });
    clockMs += 60_000;
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('answers active for a valid JWT it signed, inactive for an expired or foreign one', async () => {
    expect((await introspect(await issuer.sign({ sub: 'bob' }))).body).toMatchObject({
      active: true,
      sub: 'bob',
    });
    expect((await introspect(await issuer.sign({}, { expiresIn: -10 }))).body).toEqual({ active: false });
    expect((await introspect(await issuer.sign({}, { unpublishedKey: true }))).body).toEqual({
      active: false,
    });
  });

  it('forgets an opaque token revoked by its client (RFC 7009), not by another', async () => {
    const token = issuer.issueOpaqueToken({ client_id: 'spa' });
    const revoke = (clientId: string, headers: Record<string, string> = {}) =>
      issuer.fetch(issuer.metadata.revocation_endpoint!, postForm({ token, client_id: clientId }, headers));
    expect((await revoke('api', { authorization: basic('api', 'api-secret') })).status).toBe(200);
    expect((await introspect(token)).body).toMatchObject({ active: true });
    expect((await revoke('spa')).status).toBe(200);
    expect((await introspect(token)).body).toEqual({ active: false });
  });

  it('needs client authentication and a token', async () => {
    expect((await introspect('x', {})).status).toBe(401);
    expect((await introspect('x', { authorization: basic('api', 'wrong') })).body).toMatchObject({
      error: 'invalid_client',
    });
    const response = await issuer.fetch(issuer.metadata.introspection_endpoint!, postForm({}, RS));
    expect(response.status).toBe(400);
  });

  it('signs its answer when asked for application/token-introspection+jwt (RFC 9701)', async () => {
    const token = issuer.issueOpaqueToken({ sub: 'carol' });
    const answer = await introspect(token, { ...RS, accept: 'application/token-introspection+jwt' });
    expect(answer.type).toBe('application/token-introspection+jwt');
    expect(decodeProtectedHeader(answer.text)).toMatchObject({
      typ: 'token-introspection+jwt',
      kid: issuer.keys[0]!.kid,
    });
    const { payload } = await jwtVerify(answer.text, createLocalJWKSet(issuer.jwks()), {
      issuer: issuer.issuer,
      audience: 'api',
      currentDate: new Date(clockMs),
    });
    expect(payload.token_introspection).toMatchObject({ active: true, sub: 'carol' });
    expect(payload.exp).toBeUndefined();
  });

  it('fails on demand with failNext("introspect")', async () => {
    issuer.failNext('introspect', { status: 503 });
    expect((await introspect('x')).status).toBe(503);
  });
});

describe('the stub token endpoint', () => {
  it('issues opaque access tokens with accessTokenFormat: opaque, introspected as active', async () => {
    const opaque = await createTestIssuer({
      accessTokenFormat: 'opaque',
      clients: [{ clientId: 'api', clientSecret: 'api-secret' }],
    });
    const response = await opaque.fetch(
      opaque.metadata.token_endpoint!,
      postForm({ grant_type: 'client_credentials', scope: 'read' }, RS),
    );
    const { access_token: token } = (await response.json()) as { access_token: string };
    expect(token.includes('.')).toBe(false);
    const answer = await opaque.fetch(opaque.metadata.introspection_endpoint!, postForm({ token }, RS));
    expect(await answer.json()).toMatchObject({ active: true, sub: 'api', client_id: 'api', scope: 'read' });
    await expect(createTestIssuer({ accessTokenFormat: 'jwe' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    });
  });

  it('puts auth_time and the at_hash of the access token in the ID token', async () => {
    const plain = await createTestIssuer({ algorithms: ['ES256'] });
    const { tokens } = await codeFlow(plain.fetch, plain.metadata, { scope: 'openid', nonce: 'n-1' });
    const claims = decodeJwt(tokens.id_token as string);
    const digest = createHash('sha256')
      .update(tokens.access_token as string)
      .digest();
    expect(claims).toMatchObject({
      nonce: 'n-1',
      aud: 'spa',
      at_hash: digest.subarray(0, 16).toString('base64url'),
    });
    expect(claims.auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });
});

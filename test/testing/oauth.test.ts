import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import {
  CLIENT_ID,
  REDIRECT_URI,
  authorize,
  authorizeCode,
  authorizeParams,
  codeExchange,
  codeFlow,
  pkcePair,
  postForm,
} from './helpers.js';
import { expectPreflightAllowed } from './helpers.js';

let issuer: TestIssuer;
const tokenUrl = () => issuer.metadata.token_endpoint!;

async function postToken(fields: Record<string, string>, headers?: Record<string, string>) {
  const response = await issuer.fetch(tokenUrl(), postForm(fields, headers));
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function getCode(extra: Record<string, string> = {}) {
  const { verifier, code } = await authorizeCode(issuer.fetch, issuer.metadata, extra);
  return { verifier, code };
}

const exchange = (code: string, verifier: string, extra: Record<string, string> = {}) =>
  postToken(codeExchange(code, verifier, extra));

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['ES256'] });
});

describe('/authorize', () => {
  it('redirects straight back with a code, the state and the RFC 9207 iss', async () => {
    const { params } = await authorizeParams();
    const before = issuer.requests.authorize;
    const { status, callback } = await authorize(issuer.fetch, issuer.metadata, params);
    expect(status).toBe(302);
    expect(callback!.origin + callback!.pathname).toBe(REDIRECT_URI);
    expect(callback!.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
    expect(callback!.searchParams.get('state')).toBe('state-1');
    expect(callback!.searchParams.get('iss')).toBe('https://issuer.test');
    expect(issuer.requests.authorize).toBe(before + 1);
  });

  it('keeps the query the redirect URI already has', async () => {
    const { params } = await authorizeParams({ redirect_uri: `${REDIRECT_URI}?tenant=7` });
    const { callback } = await authorize(issuer.fetch, issuer.metadata, params);
    expect(callback!.searchParams.get('tenant')).toBe('7');
    expect(callback!.searchParams.has('code')).toBe(true);
  });

  it.each([
    ['without client_id', { client_id: '' }, /client_id is required/],
    ['without redirect_uri', { redirect_uri: '' }, /redirect_uri is required/],
    ['with a relative redirect_uri', { redirect_uri: '/callback' }, /absolute/],
    ['with a fragment in redirect_uri', { redirect_uri: `${REDIRECT_URI}#x` }, /fragment/],
  ])('answers 400 instead of redirecting %s (RFC 6749 §4.1.2.1)', async (_name, extra, description) => {
    const { params } = await authorizeParams(extra);
    const { status, callback, body } = await authorize(issuer.fetch, issuer.metadata, params);
    expect(status).toBe(400);
    expect(callback).toBeUndefined();
    expect(body).toMatchObject({
      error: 'invalid_request',
      error_description: expect.stringMatching(description),
    });
  });

  it.each([
    ['no response_type', { response_type: '' }, 'invalid_request'],
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no code_challenge', { code_challenge: '' }, 'invalid_request'],
    ['code_challenge_method plain', { code_challenge_method: 'plain' }, 'invalid_request'],
    ['no code_challenge_method', { code_challenge_method: '' }, 'invalid_request'],
    ['a challenge that is no SHA-256 hash', { code_challenge: 'short' }, 'invalid_request'],
  ])('redirects back with an error for %s', async (_name, extra, error) => {
    const { params } = await authorizeParams(extra);
    const { status, callback } = await authorize(issuer.fetch, issuer.metadata, params);
    expect(status).toBe(302);
    expect(callback!.searchParams.get('error')).toBe(error);
    expect(callback!.searchParams.get('error_description')).toBeTruthy();
    expect(callback!.searchParams.get('state')).toBe('state-1');
    expect(callback!.searchParams.get('iss')).toBe('https://issuer.test');
    expect(callback!.searchParams.has('code')).toBe(false);
  });
});

describe('/token: authorization_code with PKCE', () => {
  it('exchanges a code for an RFC 9068 access token, a refresh token and an ID token', async () => {
    const { tokens } = await codeFlow(issuer.fetch, issuer.metadata, {
      scope: 'openid profile',
      nonce: 'n-1',
    });
    expect(tokens).toEqual({
      access_token: expect.any(String),
      token_type: 'Bearer',
      expires_in: 3600,
      scope: 'openid profile',
      refresh_token: expect.any(String),
      id_token: expect.any(String),
    });
    const jwks = createLocalJWKSet(issuer.jwks());
    const access = await jwtVerify(tokens.access_token as string, jwks, {
      typ: 'at+jwt',
      issuer: 'https://issuer.test',
      audience: 'https://api.test',
    });
    expect(access.protectedHeader).toMatchObject({
      alg: 'ES256',
      typ: 'at+jwt',
      kid: issuer.keys[0]!.kid,
    });
    expect(access.payload).toEqual({
      iss: 'https://issuer.test',
      sub: 'test-user',
      aud: 'https://api.test',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      client_id: CLIENT_ID,
      scope: 'openid profile',
      // The login time, as in the ID token (RFC 9470 §6.1): step-up checks read it.
      auth_time: access.payload.iat,
    });
    const id = await jwtVerify(tokens.id_token as string, jwks, { audience: CLIENT_ID });
    expect(id.payload).toMatchObject({
      iss: 'https://issuer.test',
      sub: 'test-user',
      nonce: 'n-1',
    });
  });

  it('sends no ID token without the openid scope, and no scope when none was asked for', async () => {
    const { tokens } = await codeFlow(issuer.fetch, issuer.metadata);
    expect(tokens).not.toHaveProperty('id_token');
    expect(tokens).not.toHaveProperty('scope');
    expect(decodeJwt(tokens.access_token as string)).not.toHaveProperty('scope');
    expect(tokens.refresh_token).toEqual(expect.any(String));
  });

  it('answers with Cache-Control: no-store (RFC 6749 §5.1)', async () => {
    const { code, verifier } = await getCode();
    expect((await exchange(code, verifier)).headers.get('cache-control')).toBe('no-store');
  });

  it('takes the audience from resource (RFC 8707) or audience parameters, and the user from login_hint', async () => {
    const one = await codeFlow(issuer.fetch, issuer.metadata, {
      audience: 'https://orders.test',
      login_hint: 'alice',
    });
    expect(decodeJwt(one.tokens.access_token as string)).toMatchObject({
      aud: 'https://orders.test',
      sub: 'alice',
    });
    const { verifier, params } = await authorizeParams();
    const url = new URL(issuer.metadata.authorization_endpoint!);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    url.searchParams.append('resource', 'https://a.test');
    url.searchParams.append('resource', 'https://b.test');
    const location = (await issuer.fetch(url)).headers.get('location')!;
    const code = new URL(location).searchParams.get('code')!;
    const { body } = await exchange(code, verifier);
    expect(decodeJwt(body.access_token as string).aud).toEqual(['https://a.test', 'https://b.test']);
  });

  it('refuses a code_verifier that does not match the challenge with invalid_grant, and spends the code', async () => {
    const { code, verifier } = await getCode();
    const { verifier: other } = await pkcePair();
    expect(await exchange(code, other)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: expect.stringMatching(/code_verifier/) },
    });
    expect((await exchange(code, verifier)).body.error).toBe('invalid_grant');
  });

  it('refuses a code used twice with invalid_grant and revokes the refresh token issued with it', async () => {
    const { code, verifier } = await getCode();
    const first = await exchange(code, verifier);
    expect(first.status).toBe(200);
    expect(await exchange(code, verifier)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    const refresh = await postToken({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: first.body.refresh_token as string,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('refuses another redirect_uri, another client or an unknown code with invalid_grant', async () => {
    const a = await getCode();
    expect(
      (await exchange(a.code, a.verifier, { redirect_uri: 'http://127.0.0.1:5173/other' })).body.error,
    ).toBe('invalid_grant');
    const b = await getCode();
    expect((await exchange(b.code, b.verifier, { client_id: 'someone-else' })).body.error).toBe(
      'invalid_grant',
    );
    expect((await exchange('made-up', b.verifier)).body.error).toBe('invalid_grant');
  });

  it('refuses a missing or malformed code_verifier with invalid_request, leaving the code usable', async () => {
    const { code, verifier } = await getCode();
    expect((await exchange(code, '')).body.error).toBe('invalid_request');
    expect((await exchange(code, 'too-short')).body.error).toBe('invalid_request');
    expect((await exchange(code, verifier)).status).toBe(200);
  });

  it('refuses a code older than ten minutes', async () => {
    let now = 1_800_000_000_000;
    const clocked = await createTestIssuer({ now: () => now });
    const { code, verifier } = await authorizeCode(clocked.fetch, clocked.metadata);
    now += 10 * 60 * 1000 + 1;
    const response = await clocked.fetch(
      clocked.metadata.token_endpoint!,
      postForm(codeExchange(code, verifier)),
    );
    expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
  });

  it('uses the subject and tokenTtlSeconds options', async () => {
    const custom = await createTestIssuer({ subject: 'bob', tokenTtlSeconds: 120 });
    const { tokens } = await codeFlow(custom.fetch, custom.metadata);
    const payload = decodeJwt(tokens.access_token as string);
    expect(tokens.expires_in).toBe(120);
    expect(payload.sub).toBe('bob');
    expect(payload.exp! - payload.iat!).toBe(120);
  });
});

describe('/token: refresh_token', () => {
  it('rotates: a new refresh token each time, the used one refused', async () => {
    const { tokens } = await codeFlow(issuer.fetch, issuer.metadata, { scope: 'openid read' });
    const refresh = (token: unknown) =>
      postToken({
        grant_type: 'refresh_token',
        client_id: CLIENT_ID,
        refresh_token: token as string,
      });
    const second = await refresh(tokens.refresh_token);
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({
      token_type: 'Bearer',
      scope: 'openid read',
      id_token: expect.any(String),
    });
    expect(second.body.refresh_token).not.toBe(tokens.refresh_token);
    expect(decodeJwt(second.body.access_token as string)).toMatchObject({
      sub: 'test-user',
      scope: 'openid read',
    });
    expect(decodeJwt(second.body.id_token as string)).not.toHaveProperty('nonce');
    const third = await refresh(second.body.refresh_token);
    expect(third.status).toBe(200);
    expect(await refresh(tokens.refresh_token)).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant' },
    });
    // Replaying a spent token revoked its whole family, the newest one included.
    expect((await refresh(third.body.refresh_token)).body.error).toBe('invalid_grant');
  });

  it('may narrow the scope, never widen it (RFC 6749 §6); a refused request leaves the token usable', async () => {
    const { tokens } = await codeFlow(issuer.fetch, issuer.metadata, { scope: 'read write' });
    const token = tokens.refresh_token as string;
    const wider = await postToken({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: token,
      scope: 'read admin',
    });
    expect(wider).toMatchObject({ status: 400, body: { error: 'invalid_scope' } });
    const narrower = await postToken({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: token,
      scope: 'read',
    });
    expect(narrower.body.scope).toBe('read');
  });

  it('refuses a refresh token of another client, or none', async () => {
    const { tokens } = await codeFlow(issuer.fetch, issuer.metadata);
    const other = await postToken({
      grant_type: 'refresh_token',
      client_id: 'other',
      refresh_token: tokens.refresh_token as string,
    });
    expect(other.body.error).toBe('invalid_grant');
    expect((await postToken({ grant_type: 'refresh_token', client_id: CLIENT_ID })).body.error).toBe(
      'invalid_request',
    );
  });
});

describe('/token: client_credentials', () => {
  it('issues an access token whose subject is the client, without refresh or ID token', async () => {
    const { status, body } = await postToken({
      grant_type: 'client_credentials',
      client_id: 'worker',
      client_secret: 'anything',
      scope: 'openid jobs:run',
      audience: 'https://jobs.test',
    });
    expect(status).toBe(200);
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'scope', 'token_type']);
    const { payload, protectedHeader } = await jwtVerify(
      body.access_token as string,
      createLocalJWKSet(issuer.jwks()),
    );
    expect(protectedHeader.typ).toBe('at+jwt');
    expect(payload).toMatchObject({
      sub: 'worker',
      client_id: 'worker',
      aud: 'https://jobs.test',
      scope: 'openid jobs:run',
    });
  });
});

describe('/token: request errors (RFC 6749 §5.2)', () => {
  it.each([
    ['no grant_type', { client_id: CLIENT_ID }, 400, 'invalid_request'],
    [
      'an unknown grant_type',
      { client_id: CLIENT_ID, grant_type: 'password' },
      400,
      'unsupported_grant_type',
    ],
    ['no client at all', { grant_type: 'client_credentials' }, 401, 'invalid_client'],
    ['no code', { client_id: CLIENT_ID, grant_type: 'authorization_code' }, 400, 'invalid_request'],
  ])('answers %s with %i %s', async (_name, fields, status, error) => {
    const response = await postToken(fields);
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error, error_description: expect.any(String) });
  });

  it('wants POST with a form body', async () => {
    const get = await issuer.fetch(tokenUrl());
    expect(get.status).toBe(405);
    expect((await get.json()).error).toBe('invalid_request');
    const asJson = await issuer.fetch(tokenUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'x' }),
    });
    expect(asJson.status).toBe(400);
    expect((await asJson.json()).error_description).toMatch(/x-www-form-urlencoded/);
  });
});

describe('clients', () => {
  let strict: TestIssuer;
  const basic = (id: string, secret: string) => ({
    authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
  });
  const post = async (fields: Record<string, string>, headers?: Record<string, string>) => {
    const response = await strict.fetch(strict.metadata.token_endpoint!, postForm(fields, headers));
    return { status: response.status, headers: response.headers, body: await response.json() };
  };

  beforeAll(async () => {
    strict = await createTestIssuer({
      clients: [
        { clientId: 'backend', clientSecret: 's3cr=t&+' },
        { clientId: 'spa', redirectUris: [REDIRECT_URI] },
      ],
    });
  });

  it('authenticates a confidential client with client_secret_basic or client_secret_post', async () => {
    expect((await post({ grant_type: 'client_credentials' }, basic('backend', 's3cr=t&+'))).status).toBe(200);
    expect(
      (
        await post({
          grant_type: 'client_credentials',
          client_id: 'backend',
          client_secret: 's3cr=t&+',
        })
      ).status,
    ).toBe(200);
  });

  it('answers 401 invalid_client for a wrong or missing secret, with a Basic challenge when Basic was tried', async () => {
    const wrongBasic = await post({ grant_type: 'client_credentials' }, basic('backend', 'nope'));
    expect(wrongBasic).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(wrongBasic.headers.get('www-authenticate')).toBe('Basic realm="test-issuer"');
    const missing = await post({ grant_type: 'client_credentials', client_id: 'backend' });
    expect(missing).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
    expect(missing.headers.get('www-authenticate')).toBeNull();
  });

  it('refuses unknown clients at the token endpoint and at /authorize', async () => {
    expect((await post({ grant_type: 'client_credentials', client_id: 'stranger' })).body.error).toBe(
      'invalid_client',
    );
    const { params } = await authorizeParams({ client_id: 'stranger' });
    const { status, body } = await authorize(strict.fetch, strict.metadata, params);
    expect(status).toBe(400);
    expect(body).toMatchObject({ error_description: expect.stringMatching(/unknown client_id/) });
  });

  it('allows only the registered redirect URIs', async () => {
    const { params } = await authorizeParams();
    expect((await authorize(strict.fetch, strict.metadata, params)).status).toBe(302);
    const other = await authorize(strict.fetch, strict.metadata, {
      ...params,
      redirect_uri: 'https://evil.test/cb',
    });
    expect(other.status).toBe(400);
  });

  it('refuses Basic credentials that disagree with client_id', async () => {
    const response = await post(
      { grant_type: 'client_credentials', client_id: 'spa' },
      basic('backend', 's3cr=t&+'),
    );
    expect(response).toMatchObject({ status: 401, body: { error: 'invalid_client' } });
  });
});

describe('/revoke (RFC 7009)', () => {
  const revoke = (fields: Record<string, string>) =>
    issuer.fetch(issuer.metadata.revocation_endpoint!, postForm(fields));

  it('revokes a refresh token: 200, then the token is refused', async () => {
    const { tokens } = await codeFlow(issuer.fetch, issuer.metadata);
    const before = issuer.requests.revoke;
    const response = await revoke({
      client_id: CLIENT_ID,
      token: tokens.refresh_token as string,
      token_type_hint: 'refresh_token',
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('');
    expect(issuer.requests.revoke).toBe(before + 1);
    const refresh = await postToken({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: tokens.refresh_token as string,
    });
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it('answers 200 for unknown tokens and leaves other clients’ tokens alone', async () => {
    const { tokens } = await codeFlow(issuer.fetch, issuer.metadata);
    expect((await revoke({ client_id: CLIENT_ID, token: 'unknown' })).status).toBe(200);
    expect((await revoke({ client_id: 'other', token: tokens.refresh_token as string })).status).toBe(200);
    const refresh = await postToken({
      grant_type: 'refresh_token',
      client_id: CLIENT_ID,
      refresh_token: tokens.refresh_token as string,
    });
    expect(refresh.status).toBe(200);
  });

  it('wants a token parameter', async () => {
    const response = await revoke({ client_id: CLIENT_ID });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('invalid_request');
  });
});

describe('CORS and routing', () => {
  it('answers preflights for every endpoint without counting them', async () => {
    const before = { ...issuer.requests };
    for (const url of [
      tokenUrl(),
      issuer.metadata.jwks_uri!,
      'https://issuer.test/.well-known/openid-configuration',
    ]) {
      await expectPreflightAllowed(issuer.fetch, url, 'content-type, dpop');
    }
    expect(issuer.requests).toEqual(before);
  });

  it('lets any origin read every answer, errors included', async () => {
    expect((await issuer.fetch(issuer.metadata.jwks_uri!)).headers.get('access-control-allow-origin')).toBe(
      '*',
    );
    const error = await issuer.fetch(tokenUrl(), postForm({}));
    expect(error.status).toBe(401);
    expect(error.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('answers 404 for paths it does not serve, and 405 for writes to documents', async () => {
    const missing = await issuer.fetch('https://issuer.test/me');
    expect(missing.status).toBe(404);
    expect((await missing.json()).error).toBe('not_found');
    expect((await issuer.fetch(issuer.metadata.jwks_uri!, { method: 'POST' })).status).toBe(405);
  });

  it('signs issued tokens with the current key after a rotation', async () => {
    const rotating = await createTestIssuer();
    const [fresh] = await rotating.rotateKeys();
    const { tokens } = await codeFlow(rotating.fetch, rotating.metadata);
    expect(decodeProtectedHeader(tokens.access_token as string).kid).toBe(fresh!.kid);
  });
});

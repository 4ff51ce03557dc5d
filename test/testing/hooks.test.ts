// Hooks for one test (onToken, onUserinfo) and requestMappings: claims merged into what the
// issuer hands out, or an OAuthError answered instead.
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { OAuthError, type HookEvent } from '../../src/testing/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { authorizeCode, codeExchange, postForm } from './helpers.js';
import { verifyIssued } from './openid-client.js';

const issuer = useTestIssuer(
  {
    users: [{ sub: 'alice', claims: { email: 'alice@example.test' } }],
    requestMappings: [
      { param: 'scope', match: 'admin', claims: { role: 'admin' } },
      { param: 'client_id', match: '*', claims: { tenant: 'acme' } },
    ],
  },
  { reset: true },
);

const clientCredentials = (fields: Record<string, string> = {}) =>
  issuer.fetch(
    issuer.metadata.token_endpoint!,
    postForm({ grant_type: 'client_credentials', client_id: 'svc', ...fields }),
  );

describe('onToken', () => {
  it('merges the claims it returns into the access and ID tokens, once when asked', async () => {
    const seen: HookEvent[] = [];
    issuer.onToken(
      (event) => {
        seen.push(event);
        return { plan: 'gold', email: 'changed@example.test' };
      },
      { once: true },
    );
    const { code, verifier } = await authorizeCode(issuer.fetch, issuer.metadata, {
      scope: 'openid email',
      login_hint: 'alice',
    });
    const answer = await (
      await issuer.fetch(issuer.metadata.token_endpoint!, postForm(codeExchange(code, verifier)))
    ).json();
    expect(await verifyIssued(issuer, answer.access_token)).toMatchObject({
      sub: 'alice',
      plan: 'gold',
      tenant: 'acme',
    });
    expect(decodeJwt(answer.id_token)).toMatchObject({ sub: 'alice', plan: 'gold' });
    expect(seen).toHaveLength(1);
    expect(seen[0]).toMatchObject({
      grantType: 'authorization_code',
      client: { clientId: 'spa' },
      user: { sub: 'alice', claims: { email: 'alice@example.test' } },
      claims: { sub: 'alice', client_id: 'spa', scope: 'openid email', tenant: 'acme' },
    });
    expect(seen[0]!.request).toBeInstanceOf(Request);
    const next = await (await clientCredentials()).json();
    expect(decodeJwt(next.access_token).plan).toBeUndefined();
  });

  it('answers with the OAuthError it throws (400 by default), until removed', async () => {
    const off = issuer.onToken(({ client }) => {
      if (client.clientId === 'svc') throw new OAuthError('access_denied', 'svc is suspended');
    });
    const refused = await clientCredentials();
    expect(refused.status).toBe(400);
    expect(await refused.json()).toEqual({ error: 'access_denied', error_description: 'svc is suspended' });
    off();
    expect((await clientCredentials()).status).toBe(200);
    const once = issuer.onToken(
      () => {
        throw new OAuthError('temporarily_unavailable', undefined, 503);
      },
      { once: true },
    );
    expect((await clientCredentials()).status).toBe(503);
    expect((await clientCredentials()).status).toBe(200);
    once();
  });

  it('sees no user for client credentials, and answers 500 server_error for anything else thrown', async () => {
    let user: unknown = 'unset';
    issuer.onToken(
      (event) => {
        user = event.user;
        throw new Error('a bug in the test');
      },
      { once: true },
    );
    const answer = await clientCredentials();
    expect(answer.status).toBe(500);
    expect(await answer.json()).toMatchObject({
      error: 'server_error',
      error_description: /a bug in the test/,
    });
    expect(user).toBeUndefined();
  });
});

describe('requestMappings', () => {
  it('adds the claims of every mapping whose parameter matches (exactly, or * for any value)', async () => {
    const admin = decodeJwt((await (await clientCredentials({ scope: 'admin' })).json()).access_token);
    expect(admin).toMatchObject({ role: 'admin', tenant: 'acme' });
    const plain = decodeJwt((await (await clientCredentials({ scope: 'read admin' })).json()).access_token);
    expect(plain.role).toBeUndefined();
    expect(plain.tenant).toBe('acme');
  });
});

describe('onUserinfo', () => {
  const userinfo = async () => {
    const token = await issuer.sign(
      { sub: 'alice', scope: 'openid email', client_id: 'spa' },
      { header: { typ: 'at+jwt' } },
    );
    return issuer.fetch(issuer.metadata.userinfo_endpoint as string, {
      headers: { authorization: `Bearer ${token}` },
    });
  };

  it('merges its claims into the answer, never changing sub', async () => {
    issuer.onUserinfo(() => ({ nickname: 'al', sub: 'mallory' }), { once: true });
    expect(await (await userinfo()).json()).toEqual({
      sub: 'alice',
      email: 'alice@example.test',
      nickname: 'al',
    });
    expect(await (await userinfo()).json()).toEqual({ sub: 'alice', email: 'alice@example.test' });
  });

  it('answers a 401 OAuthError with an RFC 6750 challenge', async () => {
    issuer.onUserinfo(
      ({ user }) => {
        throw new OAuthError('invalid_token', `${user?.sub} was logged out`, 401);
      },
      { once: true },
    );
    const answer = await userinfo();
    expect(answer.status).toBe(401);
    expect(answer.headers.get('www-authenticate')).toBe(
      'Bearer error="invalid_token", error_description="alice was logged out"',
    );
  });
});

describe('OAuthError', () => {
  it('carries error, description and status', () => {
    const error = new OAuthError('invalid_grant', 'no', 403);
    expect(error).toBeInstanceOf(Error);
    expect({ error: error.error, description: error.errorDescription, status: error.status }).toEqual({
      error: 'invalid_grant',
      description: 'no',
      status: 403,
    });
  });

  it.each([
    ['an empty error', () => new OAuthError('')],
    ['a quote in the error', () => new OAuthError('bad"error')],
    ['a line break in the description', () => new OAuthError('x', 'a\r\nb')],
    ['a status below 400', () => new OAuthError('x', 'y', 302)],
  ])('refuses %s with a TypeError', (_name, make) => {
    expect(make).toThrow(TypeError);
  });
});

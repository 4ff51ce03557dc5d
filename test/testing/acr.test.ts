// The stub issuer records how the user logged in: `acr` (the user's, or the one asked for
// with acr_values) and `auth_time` (the login time) in ID and access tokens (RFC 9470 §6.1).
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loginAcr } from '../../src/testing/acr.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { codeFlow, postForm } from './helpers.js';

describe('loginAcr', () => {
  const params = (query: string) => new URLSearchParams(query);

  it("is the user's acr when the request asks for none, or nothing without one", () => {
    expect(loginAcr(params(''), { sub: 'alice', acr: 'pwd' })).toBe('pwd');
    expect(loginAcr(params(''), { sub: 'bob' })).toBeUndefined();
    expect(loginAcr(params('acr_values='), undefined)).toBeUndefined();
  });

  it('is the first acr asked for: the stub pretends the stronger login happened', () => {
    expect(loginAcr(params('acr_values=mfa+hwk'), { sub: 'alice', acr: 'pwd' })).toBe('mfa');
    expect(loginAcr(params('acr_values=mfa'), undefined)).toBe('mfa');
  });

  it("keeps the user's acr when it is one of those asked for", () => {
    expect(loginAcr(params('acr_values=mfa+hwk'), { sub: 'alice', acr: 'hwk' })).toBe('hwk');
  });
});

describe('createTestIssuer: acr and auth_time in the tokens of the authorization-code flow', () => {
  const LOGIN_MS = 1_800_000_000_000;
  let clock = LOGIN_MS;
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({
      listen: true,
      audience: 'https://api.test',
      users: [{ sub: 'alice', acr: 'pwd' }, { sub: 'bob' }],
      now: () => clock,
    });
  });
  afterAll(() => issuer.close());

  it("records the login_hint user's acr and the login time in the access and ID tokens", async () => {
    clock = LOGIN_MS;
    const { tokens } = await codeFlow(fetch, issuer.metadata, { login_hint: 'alice', scope: 'openid' });
    const access = decodeJwt(tokens.access_token as string);
    const id = decodeJwt(tokens.id_token as string);
    expect(access).toMatchObject({ sub: 'alice', acr: 'pwd', auth_time: LOGIN_MS / 1000 });
    expect(id).toMatchObject({ sub: 'alice', acr: 'pwd', auth_time: LOGIN_MS / 1000 });
  });

  it('records the first acr_values asked for, and leaves acr out when nothing names one', async () => {
    const stepUp = await codeFlow(fetch, issuer.metadata, { login_hint: 'alice', acr_values: 'mfa pwd' });
    expect(decodeJwt(stepUp.tokens.access_token as string).acr).toBe('pwd');
    const stronger = await codeFlow(fetch, issuer.metadata, { login_hint: 'alice', acr_values: 'mfa' });
    expect(decodeJwt(stronger.tokens.access_token as string).acr).toBe('mfa');
    const plain = await codeFlow(fetch, issuer.metadata, { login_hint: 'bob' });
    const payload = decodeJwt(plain.tokens.access_token as string);
    expect(payload.sub).toBe('bob');
    expect(payload).not.toHaveProperty('acr');
    expect(payload.auth_time).toBe(Math.floor(clock / 1000));
  });

  it('keeps the original login in refreshed tokens, and has none for client credentials', async () => {
    clock = LOGIN_MS;
    const { tokens } = await codeFlow(fetch, issuer.metadata, {
      login_hint: 'alice',
      scope: 'offline_access',
      acr_values: 'mfa',
    });
    clock = LOGIN_MS + 600_000;
    const refreshed = await fetch(
      issuer.metadata.token_endpoint!,
      postForm({
        grant_type: 'refresh_token',
        client_id: 'spa',
        refresh_token: tokens.refresh_token as string,
      }),
    );
    expect(refreshed.status).toBe(200);
    const payload = decodeJwt(((await refreshed.json()) as { access_token: string }).access_token);
    expect(payload).toMatchObject({ acr: 'mfa', auth_time: LOGIN_MS / 1000, iat: LOGIN_MS / 1000 + 600 });

    const machine = await fetch(
      issuer.metadata.token_endpoint!,
      postForm({ grant_type: 'client_credentials', client_id: 'spa' }),
    );
    const machinePayload = decodeJwt(((await machine.json()) as { access_token: string }).access_token);
    expect(machinePayload).not.toHaveProperty('acr');
    expect(machinePayload).not.toHaveProperty('auth_time');
  });
});

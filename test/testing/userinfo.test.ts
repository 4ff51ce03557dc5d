// The userinfo endpoint (OpenID Connect Core §5.3) with openid-client 6 as the client: Bearer
// and DPoP, claims by scope (§5.4), RFC 6750 challenges, through msw and over real HTTP.
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createDpopProof } from '../../src/testing/index.js';
import { generateKeyPair } from 'jose';
import { codeFlowTokens, configure, useIssuerPair, verifyIssued } from './openid-client.js';

const ALICE = {
  sub: 'alice',
  claims: {
    name: 'Alice Liddell',
    given_name: 'Alice',
    email: 'alice@example.test',
    email_verified: true,
    address: { country: 'GB' },
    phone_number: '+44 20 0000 0000',
    employee_id: 'E-1',
  },
};

const issuers = useIssuerPair({ users: [ALICE] });

describe.each(issuers)('userinfo %s', (_how, issuer) => {
  it('answers sub and the claims of the granted scopes to a Bearer token, sub equal to the ID token', async () => {
    const config = await configure(issuer, 'spa');
    const tokens = await codeFlowTokens(config, { scope: 'openid email', login_hint: 'alice' });
    const idToken = tokens.claims()!;
    expect(idToken.sub).toBe('alice');
    // openid-client refuses an answer whose sub differs from the expected one.
    const info = await client.fetchUserInfo(config, tokens.access_token, idToken.sub);
    expect(info).toEqual({ sub: 'alice', email: 'alice@example.test', email_verified: true });
    expect(await verifyIssued(issuer, tokens.access_token)).toMatchObject({
      sub: 'alice',
      scope: 'openid email',
    });
    expect(issuer.requests.userinfo).toBe(1);
  });

  it('answers a DPoP-bound token with its proof (checked by verifyRequest)', async () => {
    const config = await configure(issuer, 'spa');
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const tokens = await codeFlowTokens(
      config,
      { scope: 'openid profile address phone', login_hint: 'alice' },
      { DPoP },
    );
    expect(tokens.token_type).toBe('dpop');
    const info = await client.fetchUserInfo(config, tokens.access_token, 'alice', { DPoP });
    expect(info).toEqual({
      sub: 'alice',
      name: 'Alice Liddell',
      given_name: 'Alice',
      address: { country: 'GB' },
      phone_number: '+44 20 0000 0000',
    });
    // The same token as Bearer is refused: it is bound.
    const asBearer = await fetch(issuer.metadata.userinfo_endpoint as string, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    expect(asBearer.status).toBe(401);
    expect(asBearer.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('takes the token from a POST form body (RFC 6750 §2.2), not from both places at once', async () => {
    const token = await issuer.sign({ sub: 'alice', scope: 'openid email' }, { header: { typ: 'at+jwt' } });
    const url = issuer.metadata.userinfo_endpoint as string;
    const form = await fetch(url, { method: 'POST', body: new URLSearchParams({ access_token: token }) });
    expect(form.status).toBe(200);
    expect(await form.json()).toEqual({ sub: 'alice', email: 'alice@example.test', email_verified: true });
    const both = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: new URLSearchParams({ access_token: token }),
    });
    expect(both.status).toBe(400);
    expect((await both.json()).error).toBe('invalid_request');
  });

  it('answers 401 with an RFC 6750 challenge to a missing, bad, expired or foreign token', async () => {
    const url = issuer.metadata.userinfo_endpoint as string;
    const missing = await fetch(url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer(?!.*error=)/);
    const idToken = await issuer.sign({ sub: 'alice', aud: 'spa', scope: 'openid' });
    const expired = await issuer.sign(
      { sub: 'alice', scope: 'openid' },
      { header: { typ: 'at+jwt' }, expiresIn: -60 },
    );
    const foreign = await issuer.sign(
      { sub: 'alice', scope: 'openid' },
      { header: { typ: 'at+jwt' }, unpublishedKey: true },
    );
    for (const token of ['not-a-token', idToken, expired, foreign]) {
      const answer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
      expect(answer.status).toBe(401);
      const challenge = answer.headers.get('www-authenticate')!;
      expect(challenge).toMatch(
        /^Bearer error="invalid_token", error_description="[\x20\x21\x23-\x5B\x5D-\x7E]*"/,
      );
      expect(challenge).not.toContain(token);
    }
  });

  it('answers 403 insufficient_scope to a token without openid', async () => {
    const token = await issuer.sign({ sub: 'alice', scope: 'email' }, { header: { typ: 'at+jwt' } });
    const answer = await fetch(issuer.metadata.userinfo_endpoint as string, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(answer.status).toBe(403);
    expect(answer.headers.get('www-authenticate')).toMatch(/error="insufficient_scope"/);
    expect(answer.headers.get('www-authenticate')).toMatch(/scope="openid"/);
  });

  it('answers an opaque token it issued, and counts and fails on request', async () => {
    const opaque = issuer.issueOpaqueToken({ sub: 'alice', scope: 'openid profile' });
    const url = issuer.metadata.userinfo_endpoint as string;
    issuer.failNext('userinfo', { status: 503 });
    expect((await fetch(url, { headers: { authorization: `Bearer ${opaque}` } })).status).toBe(503);
    const answer = await fetch(url, { headers: { authorization: `Bearer ${opaque}` } });
    expect(await answer.json()).toEqual({ sub: 'alice', name: 'Alice Liddell', given_name: 'Alice' });
    expect(issuer.requests.userinfo).toBe(2);
  });

  it('answers tokens signed after a key rotation', async () => {
    const url = issuer.metadata.userinfo_endpoint as string;
    const before = await issuer.sign({ sub: 'alice', scope: 'openid' }, { header: { typ: 'at+jwt' } });
    expect((await fetch(url, { headers: { authorization: `Bearer ${before}` } })).status).toBe(200);
    await issuer.rotateKeys();
    const after = await issuer.sign({ sub: 'alice', scope: 'openid' }, { header: { typ: 'at+jwt' } });
    expect((await fetch(url, { headers: { authorization: `Bearer ${after}` } })).status).toBe(200);
  });

  it('refuses a replayed DPoP proof', async () => {
    const key = await generateKeyPair('ES256');
    const config = await configure(issuer, 'spa');
    const DPoP = client.getDPoPHandle(config, key);
    const tokens = await codeFlowTokens(config, { scope: 'openid', login_hint: 'alice' }, { DPoP });
    const url = issuer.metadata.userinfo_endpoint as string;
    const proof = await createDpopProof({ key, method: 'GET', url, accessToken: tokens.access_token });
    const headers = { authorization: `DPoP ${tokens.access_token}`, dpop: proof };
    expect((await fetch(url, { headers })).status).toBe(200);
    const replay = await fetch(url, { headers });
    expect(replay.status).toBe(401);
    expect(replay.headers.get('www-authenticate')).toMatch(/DPoP error="invalid_dpop_proof"/);
  });
});

describe('userinfo in the profiles', () => {
  it('is announced by the default and auth0 profiles, not by rfc8414 (Archera allows no such member)', async () => {
    const { createTestIssuer } = await import('../../src/testing/index.js');
    expect((await createTestIssuer()).metadata.userinfo_endpoint).toBe('https://issuer.test/userinfo');
    expect((await createTestIssuer({ profile: 'auth0' })).metadata.userinfo_endpoint).toBe(
      'https://issuer.test/userinfo',
    );
    const archera = await createTestIssuer({ profile: 'rfc8414' });
    expect(archera.metadata.userinfo_endpoint).toBeUndefined();
    expect((await archera.fetch('https://issuer.test/userinfo')).status).toBe(404);
  });
});

// verifyIdToken (OpenID Connect Core §3.1.3.7) against the stub issuer: an ID token from
// the whole PKCE flow (nonce, auth_time, at_hash from the stub), then every check on
// hand-signed ID tokens: nonce, azp, auth_time with maxAge, at_hash, c_hash, typ, and the
// left-half hashes per algorithm against node:crypto.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { JwtVerifier, type VerifyIdTokenOptions, verifyIdToken } from '../../src/index.js';
import {
  buildAuthorizationUrl,
  discover,
  exchangeAuthorizationCode,
  parseAuthorizationResponse,
} from '../../src/pkce/index.js';
import { idTokenHash } from '../../src/verify/id-token.js';
import { useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const CLIENT_ID = 'spa';
const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
const { issuer } = useMswIssuer({ issuer: 'https://id.test', algorithms: ['ES384', 'RS256', 'EdDSA'] });

const verifier = () => new JwtVerifier({ issuer: issuer.issuer, audience: CLIENT_ID });
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** An ID token for the SPA, as the stub signs it, with these claims over the usual ones. */
const idToken = (claims: Record<string, unknown> = {}, alg: 'ES384' | 'RS256' | 'EdDSA' = 'ES384') =>
  issuer.sign({ sub: 'alice', aud: CLIENT_ID, nonce: 'n-0S6_WzA2Mj', ...claims }, { alg });

const check = (token: string, options: Partial<VerifyIdTokenOptions> = {}) =>
  verifyIdToken(verifier(), token, { nonce: 'n-0S6_WzA2Mj', ...options });

describe('verifyIdToken after the authorization-code flow (stub issuer)', () => {
  it('verifies the ID token of exchangeAuthorizationCode: nonce, at_hash, auth_time with maxAge', async () => {
    const metadata = await discover(issuer.issuer);
    const request = await buildAuthorizationUrl(metadata, {
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      scope: 'openid profile',
    });
    const authorized = await fetch(request.url, { redirect: 'manual' });
    const { code } = parseAuthorizationResponse(authorized.headers.get('location')!, {
      expectedState: request.state,
      metadata,
    });
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: CLIENT_ID,
      code,
      codeVerifier: request.codeVerifier,
      redirectUri: REDIRECT_URI,
    });
    const { payload, header } = await verifyIdToken(verifier(), tokens.id_token!, {
      nonce: request.nonce!,
      accessToken: tokens.access_token,
      maxAge: 300,
    });
    expect(header.alg).toBe('ES384');
    expect(payload).toMatchObject({
      iss: issuer.issuer,
      aud: CLIENT_ID,
      sub: 'test-user',
      nonce: request.nonce,
    });
    expect(payload.at_hash).toBe(await idTokenHash('ES384', tokens.access_token));
    expect(payload.auth_time).toBeLessThanOrEqual(nowSeconds());
    // The access token of another exchange does not match its at_hash.
    await expectRejection(
      verifyIdToken(verifier(), tokens.id_token!, { nonce: request.nonce!, accessToken: 'another' }),
      'ERR_CLAIM_INVALID',
    );
  });
});

describe('verifyIdToken checks (Core §3.1.3.7)', () => {
  it('checks the nonce without echoing it; null skips the check', async () => {
    const token = await idToken();
    expect((await check(token)).payload.sub).toBe('alice');
    const wrong = await expectRejection(check(token, { nonce: 'another-nonce' }), 'ERR_CLAIM_INVALID', token);
    expect(wrong.message).toMatch(/"nonce" differs from the one sent/);
    expect(wrong.message).not.toContain('n-0S6_WzA2Mj');
    const none = await idToken({ nonce: undefined });
    const missing = await expectRejection(check(none), 'ERR_CLAIM_INVALID', none);
    expect(missing.message).toMatch(/no "nonce", but the authorization request sent one/);
    expect((await check(none, { nonce: null })).payload.sub).toBe('alice');
  });

  it('requires azp with several audiences, and it must be this client', async () => {
    const several = await idToken({ aud: [CLIENT_ID, 'https://api.test'] });
    const error = await expectRejection(check(several), 'ERR_CLAIM_INVALID', several);
    expect(error.message).toMatch(/2 audiences and no "azp"/);
    expect(
      (await check(await idToken({ aud: [CLIENT_ID, 'https://api.test'], azp: CLIENT_ID }))).payload.azp,
    ).toBe(CLIENT_ID);
    const otherParty = await idToken({ aud: [CLIENT_ID, 'other-app'], azp: 'other-app' });
    const mismatch = await expectRejection(check(otherParty), 'ERR_AUDIENCE_MISMATCH', otherParty);
    expect(mismatch.message).toMatch(/expected azp "spa", found "other-app"/);
    // An azp is checked with a single audience too.
    await expectRejection(check(await idToken({ azp: 'other-app' })), 'ERR_AUDIENCE_MISMATCH');
  });

  it('refuses an ID token for another client (the verifier checks aud)', async () => {
    await expectRejection(check(await idToken({ aud: 'other-app' })), 'ERR_AUDIENCE_MISMATCH');
  });

  it('checks auth_time against maxAge, within clockTolerance', async () => {
    const recent = await idToken({ auth_time: nowSeconds() - 60 });
    expect((await check(recent, { maxAge: 300 })).payload.auth_time).toBeDefined();
    const old = await idToken({ auth_time: nowSeconds() - 600 });
    const error = await expectRejection(check(old, { maxAge: 300 }), 'ERR_TOKEN_TOO_OLD', old);
    expect(error.message).toMatch(/authenticated 60\d s ago, more than the maxAge of 300 s/);
    expect((await check(old, { maxAge: 300, clockTolerance: 400 })).payload.sub).toBe('alice');
    await expectRejection(check(await idToken(), { maxAge: 300 }), 'ERR_CLAIM_INVALID');
    await expectRejection(
      check(await idToken({ auth_time: nowSeconds() + 600 }), { maxAge: 300 }),
      'ERR_CLAIM_INVALID',
    );
    // Without maxAge, auth_time is not required.
    expect((await check(await idToken())).payload.auth_time).toBeUndefined();
  });

  it('uses the now option for auth_time', async () => {
    const token = await idToken({ auth_time: nowSeconds() - 60 });
    const later = () => Date.now() + 3_600_000;
    await expectRejection(check(token, { maxAge: 300, now: later }), 'ERR_TOKEN_TOO_OLD');
  });

  it('checks at_hash when the token has one, per algorithm (SHA-384, SHA-256, SHA-512 for EdDSA)', async () => {
    const accessToken = 'an-access-token';
    for (const alg of ['ES384', 'RS256', 'EdDSA'] as const) {
      const token = await idToken({ at_hash: await idTokenHash(alg, accessToken) }, alg);
      expect((await check(token, { accessToken })).header.alg).toBe(alg);
      await expectRejection(
        check(token, { accessToken: 'another-access-token' }),
        'ERR_CLAIM_INVALID',
        token,
      );
    }
    // A code-flow ID token may leave at_hash out (Core §3.1.3.6).
    expect((await check(await idToken(), { accessToken })).payload.sub).toBe('alice');
    await expectRejection(check(await idToken({ at_hash: 42 }), { accessToken }), 'ERR_CLAIM_INVALID');
  });

  it('requires c_hash with code (hybrid flow) and checks it', async () => {
    const code = 'Qcb0Orv1zh30vL1MPRsbm-diHiMwcLyZvn1arpZv-Jxf_11jnpEX3Tgfvk';
    await expectRejection(check(await idToken(), { code }), 'ERR_CLAIM_INVALID');
    const token = await idToken({ c_hash: await idTokenHash('ES384', code) });
    expect((await check(token, { code })).payload.c_hash).toBeDefined();
    await expectRejection(check(token, { code: 'another-code' }), 'ERR_CLAIM_INVALID', token);
  });

  it('refuses an access token (typ at+jwt) and an ID token without sub or iat', async () => {
    const accessToken = await issuer.sign({ sub: 'alice', aud: CLIENT_ID }, { header: { typ: 'at+jwt' } });
    await expectRejection(check(accessToken, { nonce: null }), 'ERR_TYPE_MISMATCH', accessToken);
    await expectRejection(check(await idToken({ sub: undefined })), 'ERR_CLAIM_INVALID');
    await expectRejection(check(await idToken({ iat: undefined })), 'ERR_CLAIM_INVALID');
  });

  it('is a coded TypeError for a verifier without one audience or options without nonce', async () => {
    const token = await idToken();
    const typeError = expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' });
    for (const audience of [null, ['a', 'b']]) {
      await expect(
        verifyIdToken(new JwtVerifier({ issuer: issuer.issuer, audience }), token, { nonce: null }),
      ).rejects.toEqual(typeError);
    }
    await expect(verifyIdToken(verifier(), token, undefined as never)).rejects.toEqual(typeError);
    await expect(verifyIdToken(verifier(), token, {} as never)).rejects.toEqual(typeError);
    await expect(check(token, { maxAge: -1 })).rejects.toEqual(typeError);
    await expect(check(token, { accessToken: '' })).rejects.toEqual(typeError);
    expect(issuer.requests.jwks).toBe(0);
  });
});

describe('idTokenHash', () => {
  it('is the base64url left half of the SHA-2 of the algorithm (node:crypto agrees)', async () => {
    const value = 'jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y';
    const leftHalf = (hash: string) => {
      const digest = createHash(hash).update(value).digest();
      return digest.subarray(0, digest.length / 2).toString('base64url');
    };
    for (const [alg, hash] of [
      ['RS256', 'sha256'],
      ['PS384', 'sha384'],
      ['ES512', 'sha512'],
      ['EdDSA', 'sha512'],
      ['Ed25519', 'sha512'],
    ]) {
      expect(await idTokenHash(alg!, value), alg).toBe(leftHalf(hash!));
    }
  });
});

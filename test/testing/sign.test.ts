import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';

let issuer: TestIssuer;
const verify = (token: string, options: Parameters<typeof jwtVerify>[2] = {}) =>
  jwtVerify(token, createLocalJWKSet(issuer.jwks()), options);

beforeAll(async () => {
  issuer = await createTestIssuer({ algorithms: ['RS256', 'ES256'], now: () => 1_800_000_000_000 });
});

describe('sign: claims', () => {
  it('fills in iss, aud, iat, exp and a unique jti', async () => {
    const first = decodeJwt(await issuer.sign());
    const second = decodeJwt(await issuer.sign());
    expect(first).toEqual({
      iss: 'https://issuer.test',
      aud: 'https://api.test',
      iat: 1_800_000_000,
      exp: 1_800_003_600,
      jti: expect.stringMatching(/^[\w-]{22}$/),
    });
    expect(second.jti).not.toBe(first.jti);
  });

  it('adds the claims given, over the defaults', async () => {
    const payload = decodeJwt(
      await issuer.sign({
        sub: 'user-1',
        scope: 'read write',
        iss: 'https://other.test',
        aud: ['a', 'b'],
        exp: 5,
      }),
    );
    expect(payload).toMatchObject({
      sub: 'user-1',
      scope: 'read write',
      iss: 'https://other.test',
      aud: ['a', 'b'],
      exp: 5,
    });
  });

  it('leaves out a claim set to undefined', async () => {
    const payload = decodeJwt(
      await issuer.sign({
        iss: undefined,
        aud: undefined,
        exp: undefined,
        iat: undefined,
        jti: undefined,
      }),
    );
    expect(payload).toEqual({});
  });

  it('signs claims of any type, for wrong-type tests', async () => {
    expect(decodeJwt(await issuer.sign({ exp: 'soon', aud: 42 }))).toMatchObject({
      exp: 'soon',
      aud: 42,
    });
  });

  it('expiresIn sets exp relative to now; negative makes an expired token', async () => {
    expect(decodeJwt(await issuer.sign({}, { expiresIn: 30 })).exp).toBe(1_800_000_030);
    const expired = await issuer.sign({}, { expiresIn: -60 });
    await expect(verify(expired, { currentDate: new Date(1_800_000_000_000) })).rejects.toBeInstanceOf(
      errors.JWTExpired,
    );
  });

  it('notBefore adds nbf relative to now', async () => {
    const token = await issuer.sign({}, { notBefore: 120 });
    expect(decodeJwt(token).nbf).toBe(1_800_000_120);
    await expect(verify(token, { currentDate: new Date(1_800_000_000_000) })).rejects.toBeInstanceOf(
      errors.JWTClaimValidationFailed,
    );
  });

  it('refuses a non-numeric expiresIn', async () => {
    await expect(issuer.sign({}, { expiresIn: Number.NaN })).rejects.toThrow(TypeError);
  });
});

describe('sign: header and keys', () => {
  it('defaults to { alg, typ: JWT, kid } of the active key of the first algorithm', async () => {
    const token = await issuer.sign();
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      typ: 'JWT',
      kid: issuer.keys[0]!.kid,
    });
    await verify(token, { currentDate: new Date(1_800_000_000_000) });
  });

  it('alg picks the key of that algorithm', async () => {
    const token = await issuer.sign({}, { alg: 'ES256' });
    const es256 = issuer.keys.find((key) => key.alg === 'ES256')!;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', kid: es256.kid });
    await verify(token, { currentDate: new Date(1_800_000_000_000) });
  });

  it('refuses an algorithm the issuer has no key for, saying how to get one', async () => {
    await expect(issuer.sign({}, { alg: 'PS256' })).rejects.toThrow(
      /algorithms: \['RS256', 'ES256', 'PS256'\]/,
    );
    await expect(issuer.sign({}, { alg: 'HS256' })).rejects.toThrow(TypeError);
  });

  it('kid picks that published key; an unknown kid or a conflicting alg is a TypeError', async () => {
    const es256 = issuer.keys.find((key) => key.alg === 'ES256')!;
    expect(decodeProtectedHeader(await issuer.sign({}, { kid: es256.kid })).alg).toBe('ES256');
    await expect(issuer.sign({}, { kid: 'nope' })).rejects.toThrow(/no key with kid "nope"/);
    await expect(issuer.sign({}, { kid: es256.kid, alg: 'RS256' })).rejects.toThrow(TypeError);
  });

  it('header overrides and adds fields; undefined removes one', async () => {
    const token = await issuer.sign(
      {},
      { header: { typ: 'at+jwt', crit: ['exp'], jku: 'https://evil.test/jwks', kid: undefined } },
    );
    expect(decodeProtectedHeader(token)).toEqual({
      alg: 'RS256',
      typ: 'at+jwt',
      crit: ['exp'],
      jku: 'https://evil.test/jwks',
    });
  });

  it('a header alg that lies keeps the real signature, so the token cannot verify', async () => {
    const token = await issuer.sign({}, { header: { alg: 'RS512' } });
    expect(decodeProtectedHeader(token).alg).toBe('RS512');
    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
    const { alg: _alg, ...anyAlg } = issuer.keys[0]!.publicJwk;
    await expect(jwtVerify(token, await importJWK(anyAlg, 'RS512'))).rejects.toBeInstanceOf(
      errors.JWSSignatureVerificationFailed,
    );
  });

  it("alg: 'none' in the header makes an unsecured JWT with an empty signature", async () => {
    const token = await issuer.sign({ sub: 'x' }, { header: { alg: 'none' } });
    expect(token.endsWith('.')).toBe(true);
    expect(decodeProtectedHeader(token).alg).toBe('none');
  });

  it('unpublishedKey signs with a key not in the JWKS, with its own stable kid', async () => {
    const first = await issuer.sign({}, { unpublishedKey: true });
    const second = await issuer.sign({}, { unpublishedKey: true });
    const { kid } = decodeProtectedHeader(first);
    expect(kid).toBe(decodeProtectedHeader(second).kid);
    expect(issuer.jwks().keys.map((key) => key.kid)).not.toContain(kid);
    await expect(verify(first)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
  });

  it('unpublishedKey with header.kid makes a token naming a published key it was not signed with', async () => {
    const token = await issuer.sign({}, { unpublishedKey: true, header: { kid: issuer.keys[0]!.kid } });
    await expect(verify(token)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
  });

  it('unpublishedKey honours alg', async () => {
    const token = await issuer.sign({}, { unpublishedKey: true, alg: 'ES256' });
    expect(decodeProtectedHeader(token).alg).toBe('ES256');
  });

  it('kid with key or unpublishedKey is a TypeError pointing at header.kid', async () => {
    await expect(issuer.sign({}, { unpublishedKey: true, kid: 'x' })).rejects.toThrow(/header: \{ kid \}/);
  });

  it('key signs with a given private key, with its algorithm and no kid', async () => {
    const { privateKey, publicKey } = await generateKeyPair('PS384');
    const token = await issuer.sign({ sub: 'own' }, { key: privateKey });
    expect(decodeProtectedHeader(token)).toEqual({ alg: 'PS384', typ: 'JWT' });
    expect(
      (await jwtVerify(token, publicKey, { currentDate: new Date(1_800_000_000_000) })).payload.sub,
    ).toBe('own');
  });

  it('key can be an HMAC secret, for algorithm-confusion tests', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(issuer.jwks().keys[0]));
    const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ]);
    const token = await issuer.sign({}, { key, header: { kid: issuer.keys[0]!.kid } });
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256', kid: issuer.keys[0]!.kid });
    await jwtVerify(token, secret, { currentDate: new Date(1_800_000_000_000) });
  });
});

describe('rotateKeys', () => {
  it('adds a new active key per algorithm and keeps the old ones published', async () => {
    const rotating = await createTestIssuer({ algorithms: ['RS256', 'EdDSA'] });
    const before = rotating.keys;
    const oldToken = await rotating.sign();
    const fresh = await rotating.rotateKeys();
    expect(fresh.map((key) => key.alg)).toEqual(['RS256', 'EdDSA']);
    expect(rotating.keys.map((key) => key.kid)).toEqual([...before, ...fresh].map((key) => key.kid));
    expect(rotating.keys.map((key) => key.active)).toEqual([false, false, true, true]);
    const newToken = await rotating.sign();
    expect(decodeProtectedHeader(newToken).kid).toBe(fresh[0]!.kid);
    const jwks = createLocalJWKSet(rotating.jwks());
    await jwtVerify(oldToken, jwks);
    await jwtVerify(newToken, jwks);
    // An old key still signs when asked for by kid.
    expect(decodeProtectedHeader(await rotating.sign({}, { kid: before[0]!.kid })).kid).toBe(before[0]!.kid);
  });

  it('keepPrevious: false drops the old keys from the JWKS', async () => {
    const rotating = await createTestIssuer();
    const oldToken = await rotating.sign();
    const [fresh] = await rotating.rotateKeys({ keepPrevious: false });
    expect(rotating.jwks().keys.map((key) => key.kid)).toEqual([fresh!.kid]);
    await expect(jwtVerify(oldToken, createLocalJWKSet(rotating.jwks()))).rejects.toBeInstanceOf(
      errors.JWKSNoMatchingKey,
    );
  });
});

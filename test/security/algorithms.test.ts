import { base64url, exportSPKI } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/verify/verifier.js';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { AUDIENCE, ISSUER, verifierWithJwks } from './helpers.js';
import { rejectionCode } from '../support/rejections.js';
import { segment, signSegments } from '../support/tokens.js';

let issuer: TestIssuer;
let rsaKid: string;

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['RS256', 'ES256'] });
  rsaKid = issuer.keys.find((key) => key.alg === 'RS256')!.kid;
});

function claims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: 'attacker', iat: now, exp: now + 600 };
}

async function hmacKey(secret: Uint8Array<ArrayBuffer>, hash = 'SHA-256'): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash }, false, ['sign']);
}

describe('alg "none" (RFC 8725 §3.1)', () => {
  const spellings = ['none', 'None', 'NONE', 'nOnE'];

  it.each(spellings)('refuses alg %j without a signature, before fetching any key', async (alg) => {
    const { verifier, urls } = verifierWithJwks(() => issuer.jwks());
    const token = `${segment({ alg, typ: 'JWT', kid: rsaKid })}.${segment(claims())}.`;
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_ALG_NOT_ALLOWED');
    expect(urls).toEqual([]);
  });

  it.each(spellings)('refuses alg %j carrying a real RS256 signature by the issuer', async (alg) => {
    const { verifier } = verifierWithJwks(() => issuer.jwks());
    const privateKey = issuer.keys.find((key) => key.alg === 'RS256')!.privateKey;
    const token = await signSegments(
      segment({ alg, typ: 'JWT', kid: rsaKid }),
      segment(claims()),
      privateKey,
    );
    expect(token.split('.')[2]).not.toBe('');
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_ALG_NOT_ALLOWED');
  });

  it('refuses an unsecured token made by the stub issuer (alg none, empty signature)', async () => {
    const { verifier } = verifierWithJwks(() => issuer.jwks());
    const token = await issuer.sign({}, { header: { alg: 'none' } });
    expect(token.endsWith('.')).toBe(true);
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_ALG_NOT_ALLOWED');
  });

  it.each([['none'], ['None'], ['HS256']])('cannot be allowed through the algorithms option (%s)', (alg) => {
    expect(() => new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, algorithms: [alg as never] })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' }),
    );
  });

  it('refuses an algorithm outside a narrowed allow-list even when the key would verify it', async () => {
    const { verifier } = verifierWithJwks(() => issuer.jwks(), { algorithms: ['ES256'] });
    const token = await issuer.sign(claims(), { alg: 'RS256' });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_ALG_NOT_ALLOWED');
  });
});

describe('HMAC key confusion (RFC 8725 §2.1): HS* keyed with the public key', () => {
  async function publicKeyPem(): Promise<Uint8Array<ArrayBuffer>> {
    const rsa = issuer.keys.find((key) => key.alg === 'RS256')!;
    return new TextEncoder().encode(await exportSPKI(rsa.publicKey));
  }

  function publicJwkBytes(): Uint8Array<ArrayBuffer> {
    return new TextEncoder().encode(
      JSON.stringify(issuer.keys.find((key) => key.alg === 'RS256')!.publicJwk),
    );
  }

  it.each([
    ['HS256 keyed with the RSA public key as PEM bytes', 'pem', 'SHA-256'],
    ['HS384 keyed with the RSA public key as PEM bytes', 'pem', 'SHA-384'],
    ['HS512 keyed with the RSA public key as PEM bytes', 'pem', 'SHA-512'],
    ['HS256 keyed with the RSA public key as JWK JSON bytes', 'jwk', 'SHA-256'],
  ])('refuses %s', async (_name, form, hash) => {
    const { verifier, urls } = verifierWithJwks(() => issuer.jwks());
    const secret = form === 'pem' ? await publicKeyPem() : publicJwkBytes();
    const token = await issuer.sign(claims(), { key: await hmacKey(secret, hash), header: { kid: rsaKid } });
    expect(JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!))).alg).toMatch(/^HS/);
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_ALG_NOT_ALLOWED');
    expect(urls).toEqual([]);
  });

  it('refuses HS256 even when the JWKS publishes a symmetric (oct) key holding the PEM', async () => {
    const pem = await publicKeyPem();
    const octKey = { kty: 'oct', kid: 'oct-1', k: base64url.encode(pem), alg: 'HS256' };
    const { verifier, events } = verifierWithJwks(() => ({ keys: [octKey, ...issuer.jwks().keys] }));
    const token = await issuer.sign(claims(), { key: await hmacKey(pem), header: { kid: 'oct-1' } });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_ALG_NOT_ALLOWED');
    // The oct key is never even admitted to the key set.
    await verifier.warmup();
    expect(events).toContainEqual(expect.objectContaining({ type: 'key_skipped', kid: 'oct-1' }));
  });

  it('refuses an RS256 token whose kid names an oct key, because the oct key is never loaded', async () => {
    const octKey = { kty: 'oct', kid: 'oct-2', k: base64url.encode(await publicKeyPem()) };
    const { verifier } = verifierWithJwks(() => ({ keys: [octKey] }), { cache: { cooldownMs: 0 } });
    const token = await issuer.sign(claims(), { alg: 'RS256', header: { kid: 'oct-2' } });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_KEY_NOT_FOUND');
  });

  it('still verifies the genuine RS256 token with the same key (control)', async () => {
    const { verifier } = verifierWithJwks(() => issuer.jwks());
    const token = await issuer.sign(claims(), { alg: 'RS256' });
    await expect(verifier.verify(token)).resolves.toMatchObject({ payload: { sub: 'attacker' } });
  });
});

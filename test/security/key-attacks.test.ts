import { base64url, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { AUDIENCE, ISSUER, p1363ToDer, verifierWithJwks } from './helpers.js';
import { rejectionCode } from '../support/rejections.js';
import { weakRsaKeyPair } from '../support/tokens.js';

let issuer: TestIssuer;
let esJwk: JWK;
let rsaJwk: JWK;

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256', 'RS256'] });
  esJwk = issuer.keys.find((key) => key.alg === 'ES256')!.publicJwk;
  rsaJwk = issuer.keys.find((key) => key.alg === 'RS256')!.publicJwk;
});

function claims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', exp: now + 600 };
}

function verifierOver(keys: JWK[]) {
  return verifierWithJwks(() => ({ keys }), { cache: { cooldownMs: 0 } });
}

/** Flips one bit in the middle of a base64url member. */
function flipped(value: string): string {
  const bytes = base64url.decode(value);
  bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
  return base64url.encode(bytes);
}

describe('keys whose use, key_ops, alg or kty do not fit the token (RFC 7517 §4, RFC 8725 §3.1)', () => {
  it.each([
    ['use "enc"', { use: 'enc' }],
    ['key_ops without "verify"', { key_ops: ['encrypt'] }],
    ['key_ops "sign" only', { key_ops: ['sign'] }],
    ['alg ES384 on a P-256 key', { alg: 'ES384' }],
    ['alg RS256 on an EC key', { alg: 'RS256' }],
    ['alg HS256 on an EC key', { alg: 'HS256' }],
    ['alg none on an EC key', { alg: 'none' }],
    ['kty RSA for the ES256 kid', () => ({ ...rsaJwk, kid: esJwk.kid, alg: undefined })],
    ['kty OKP for the ES256 kid', { kty: 'OKP', crv: 'Ed25519', y: undefined, alg: undefined }],
  ])('refuses an ES256 token whose key has %s', async (_name, change) => {
    const key = { ...esJwk, ...(typeof change === 'function' ? change() : change) } as JWK;
    const { verifier } = verifierOver([key]);
    const token = await issuer.sign(claims(), { alg: 'ES256' });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_KEY_NOT_FOUND');
  });

  it('verifies with the key when use, key_ops and alg all fit (control)', async () => {
    const { verifier } = verifierOver([{ ...esJwk, use: 'sig', key_ops: ['verify'], alg: 'ES256' }]);
    await expect(verifier.verify(await issuer.sign(claims(), { alg: 'ES256' }))).resolves.toBeDefined();
  });

  it('refuses a token without kid when no key fits its alg, and when two do', async () => {
    const noKid = await issuer.sign(claims(), { alg: 'ES256', header: { kid: undefined } });
    const onlyRsa = verifierOver([{ ...rsaJwk, kid: undefined }]).verifier;
    expect(await rejectionCode(onlyRsa.verify(noKid))).toBe('ERR_KEY_NOT_FOUND');
    const other = await exportJWK((await generateKeyPair('ES256')).publicKey);
    const twoEc = verifierOver([{ ...esJwk, kid: undefined }, other]).verifier;
    expect(await rejectionCode(twoEc.verify(noKid))).toBe('ERR_KEY_NOT_FOUND');
    const oneEc = verifierOver([{ ...esJwk, kid: undefined }, rsaJwk]).verifier;
    await expect(oneEc.verify(noKid)).resolves.toBeDefined();
  });

  it('never loads a key that carries private or symmetric members', async () => {
    for (const extra of [{ d: base64url.encode('private') }, { k: base64url.encode('secret') }]) {
      const { verifier, events } = verifierOver([{ ...esJwk, ...extra }]);
      const token = await issuer.sign(claims(), { alg: 'ES256' });
      expect(await rejectionCode(verifier.verify(token))).toBe('ERR_KEY_NOT_FOUND');
      expect(events).toContainEqual(expect.objectContaining({ type: 'key_skipped', kid: esJwk.kid }));
    }
  });
});

describe('weak RSA keys (RFC 8725 §3.5: at least 2048 bits)', () => {
  it('refuses a token signed with a 1024-bit RSA key published in the JWKS, and reports the key', async () => {
    const weak = await weakRsaKeyPair();
    const weakJwk = { ...(await exportJWK(weak.publicKey)), kid: 'weak-1024', alg: 'RS256', use: 'sig' };
    const { verifier, events } = verifierOver([weakJwk, rsaJwk]);
    const token = await issuer.sign(claims(), { key: weak.privateKey, header: { kid: 'weak-1024' } });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_KEY_NOT_FOUND');
    expect(events).toContainEqual(
      expect.objectContaining({
        type: 'key_skipped',
        kid: 'weak-1024',
        reason: expect.stringContaining('1024'),
      }),
    );
  });

  it('accepts the issuer 2048-bit RSA key (control)', async () => {
    const { verifier } = verifierOver([rsaJwk]);
    await expect(verifier.verify(await issuer.sign(claims(), { alg: 'RS256' }))).resolves.toBeDefined();
  });
});

describe('ECDSA signature encoding (RFC 7518 §3.4: raw r ‖ s, never DER)', () => {
  it('refuses an ES256 signature re-encoded as ASN.1 DER', async () => {
    const { verifier } = verifierOver([esJwk]);
    const token = await issuer.sign(claims(), { alg: 'ES256' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const der = p1363ToDer(base64url.decode(signature));
    expect(der[0]).toBe(0x30);
    expect(der.length).toBeGreaterThan(64);
    const derToken = `${header}.${payload}.${base64url.encode(der)}`;
    expect(await rejectionCode(verifier.verify(derToken))).toBe('ERR_SIGNATURE_INVALID');
    await expect(verifier.verify(token)).resolves.toBeDefined();
  });

  it('refuses an ES256 signature of the wrong length (r only, or padded)', async () => {
    const { verifier } = verifierOver([esJwk]);
    const token = await issuer.sign(claims(), { alg: 'ES256' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const raw = base64url.decode(signature);
    for (const bytes of [raw.slice(0, 32), new Uint8Array([0, ...raw]), new Uint8Array(64)]) {
      const forged = `${header}.${payload}.${base64url.encode(bytes)}`;
      expect(await rejectionCode(verifier.verify(forged))).toBe('ERR_SIGNATURE_INVALID');
    }
  });
});

describe('invalid-curve EC keys', () => {
  it('refuses a JWKS key whose point is not on P-256, though the token was signed with the real key', async () => {
    const { verifier } = verifierOver([{ ...esJwk, y: flipped(esJwk.y!) }]);
    const token = await issuer.sign(claims(), { alg: 'ES256' });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_KEY_NOT_FOUND');
  });

  it('refuses a JWKS key at the point (0, 0)', async () => {
    const zero = base64url.encode(new Uint8Array(32));
    const { verifier } = verifierOver([{ ...esJwk, x: zero, y: zero }]);
    const token = await issuer.sign(claims(), { alg: 'ES256' });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_KEY_NOT_FOUND');
  });

  it('refuses a P-256 point published as crv P-384, for ES256 and for ES384', async () => {
    const { verifier } = verifierOver([{ ...esJwk, crv: 'P-384', alg: undefined }]);
    const es256 = await issuer.sign(claims(), { alg: 'ES256' });
    expect(await rejectionCode(verifier.verify(es256))).toBe('ERR_KEY_NOT_FOUND');
    const es384 = await issuer.sign(claims(), { alg: 'ES256', header: { alg: 'ES384' } });
    expect(await rejectionCode(verifier.verify(es384))).toBe('ERR_KEY_NOT_FOUND');
  });

  it('refuses a key on a curve it does not support (secp256k1), and reports it', async () => {
    const { verifier, events } = verifierOver([{ ...esJwk, crv: 'secp256k1', alg: undefined }]);
    const token = await issuer.sign(claims(), { alg: 'ES256' });
    expect(await rejectionCode(verifier.verify(token))).toBe('ERR_KEY_NOT_FOUND');
    expect(events).toContainEqual(
      expect.objectContaining({ type: 'key_skipped', reason: expect.stringContaining('secp256k1') }),
    );
  });
});

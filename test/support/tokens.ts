// Tokens made by hand, outside the test issuer: loose keys, JWTs signed with them, and
// segments encoded exactly as given (for JSON that JSON.stringify cannot produce).
import { SignJWT, base64url, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';

/** A JSON object as a base64url segment. */
export function segment(value: unknown): string {
  return base64url.encode(JSON.stringify(value));
}

/** A raw text as a base64url segment (for JSON that JSON.stringify cannot produce). */
export function rawSegment(text: string): string {
  return base64url.encode(text);
}

/**
 * Signs `header.payload` given as base64url segments with an ECDSA P-256 or Ed25519 private
 * key, exactly as given: for tokens whose JSON cannot be built with JSON.stringify
 * (duplicate members, 1e400, escapes).
 */
export async function signSegments(
  encodedHeader: string,
  encodedPayload: string,
  key: CryptoKey,
): Promise<string> {
  const input = `${encodedHeader}.${encodedPayload}`;
  const params =
    key.algorithm.name === 'ECDSA' ? { name: 'ECDSA', hash: 'SHA-256' } : { name: key.algorithm.name };
  const signature = await crypto.subtle.sign(params, key, new TextEncoder().encode(input));
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** A signing key pair made outside the test issuer, with its public JWK. */
export interface LooseKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A key pair for hand-built JWKS documents (asynchronous generation, per STYLE.md). */
export async function looseKey(alg = 'RS256', options: { modulusLength?: number } = {}): Promise<LooseKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { alg, privateKey, publicJwk: await exportJWK(publicKey) };
}

/** Signs a JWT with a loose key; `header` is merged over `{ alg, typ: 'JWT' }`. */
export async function signWith(
  key: LooseKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...header } as never)
    .sign(key.privateKey);
}

/** A random kid, as an attacker floods them. */
export function randomKid(): string {
  return `kid-${crypto.randomUUID()}`;
}

/**
 * A 1024-bit RSASSA-PKCS1-v1_5 (SHA-256) key pair, extractable: a key too weak for RFC 8725
 * §3.5, which jose refuses to generate but Web Crypto makes.
 */
export async function weakRsaKeyPair(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(
    {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 1024,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    true,
    ['sign', 'verify'],
  )) as CryptoKeyPair;
}

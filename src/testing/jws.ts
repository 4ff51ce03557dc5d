// Compact JWS signing for tests, including what a real issuer would refuse to sign.
import { base64url } from 'jose';
import type { CryptoKey } from 'jose';
import { invalidArgument } from '../errors.js';

type KeyAlgorithm = { name: string; hash?: { name: string }; namedCurve?: string };

const CURVE_HASH: Record<string, string> = {
  'P-256': 'SHA-256',
  'P-384': 'SHA-384',
  'P-521': 'SHA-512',
};

function bits(hash: string | undefined): string {
  return (hash ?? 'SHA-256').replace('SHA-', '');
}

/**
 * The JWS `alg` a Web Crypto signing key produces (RFC 7518 §3.1): `RS*`, `PS*`, `ES*`,
 * `EdDSA`, `HS*` or `ML-DSA-*` (RFC 9964).
 */
export function algorithmOf(key: CryptoKey): string {
  const algorithm = key.algorithm as KeyAlgorithm;
  switch (algorithm.name) {
    case 'RSASSA-PKCS1-v1_5':
      return `RS${bits(algorithm.hash?.name)}`;
    case 'RSA-PSS':
      return `PS${bits(algorithm.hash?.name)}`;
    case 'ECDSA':
      return `ES${bits(CURVE_HASH[algorithm.namedCurve ?? ''])}`;
    case 'Ed25519':
      return 'EdDSA';
    case 'HMAC':
      return `HS${bits(algorithm.hash?.name)}`;
    case 'ML-DSA-44':
    case 'ML-DSA-65':
    case 'ML-DSA-87':
      return algorithm.name;
    default:
      throw invalidArgument(`cannot sign a JWS with a ${algorithm.name} key`);
  }
}

/** Web Crypto `sign()` parameters for a key, per RFC 7518 §3 (PSS salt = hash length). */
function signParams(key: CryptoKey): AlgorithmIdentifier | RsaPssParams | EcdsaParams {
  const algorithm = key.algorithm as KeyAlgorithm;
  if (algorithm.name === 'RSA-PSS') {
    return { name: 'RSA-PSS', saltLength: Number(bits(algorithm.hash?.name)) / 8 };
  }
  if (algorithm.name === 'ECDSA') {
    return { name: 'ECDSA', hash: CURVE_HASH[algorithm.namedCurve ?? ''] ?? 'SHA-256' };
  }
  return { name: algorithm.name };
}

/**
 * Builds a compact JWS from exactly the header and payload given. Unlike jose's signers it
 * validates nothing, so tests can produce tokens a verifier must refuse (`crit`, a lying
 * `alg`, …). The signature is always made with the key's own algorithm; a header whose
 * `alg` is `none` gets an empty signature (an Unsecured JWS, RFC 7515 Appendix A.5).
 */
export async function signCompact(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  key: CryptoKey,
): Promise<string> {
  const input = `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}`;
  if (header.alg === 'none') return `${input}.`;
  const signature = await crypto.subtle.sign(
    signParams(key),
    key as globalThis.CryptoKey,
    new TextEncoder().encode(input),
  );
  return `${input}.${base64url.encode(new Uint8Array(signature))}`;
}

/** The JWS algorithms the library verifies, what key each needs, and the `algorithms` option. */
import { invalidArgument } from '../errors.js';

/**
 * The asymmetric JWS algorithms a verifier can accept (RFC 7518 §3, RFC 8037, RFC 9864).
 * `none` and the HMAC algorithms are never accepted: a JWKS holds public keys only.
 */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;

/** One of {@link SUPPORTED_ALGORITHMS}. */
export type JwsAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** What a key must be to verify an algorithm. */
export interface KeyRequirement {
  kty: 'RSA' | 'EC' | 'OKP';
  /** Allowed curves for EC and OKP keys. */
  crv?: readonly string[];
}

const REQUIREMENTS: Record<JwsAlgorithm, KeyRequirement> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: ['P-256'] },
  ES384: { kty: 'EC', crv: ['P-384'] },
  ES512: { kty: 'EC', crv: ['P-521'] },
  EdDSA: { kty: 'OKP', crv: ['Ed25519'] },
  Ed25519: { kty: 'OKP', crv: ['Ed25519'] },
};

export function isSupportedAlgorithm(alg: string): alg is JwsAlgorithm {
  return Object.prototype.hasOwnProperty.call(REQUIREMENTS, alg);
}

export function keyRequirement(alg: JwsAlgorithm): KeyRequirement {
  return REQUIREMENTS[alg];
}

/** Validates the `algorithms` option: a non-empty list of supported asymmetric algorithms. */
export function parseAlgorithmsOption(value: unknown, name = 'algorithms'): ReadonlySet<JwsAlgorithm> {
  if (value === undefined) return new Set(SUPPORTED_ALGORITHMS);
  if (!Array.isArray(value) || value.length === 0) {
    throw invalidArgument(`${name} must be a non-empty array of JWS algorithm names`);
  }
  for (const alg of value) {
    if (typeof alg !== 'string' || !isSupportedAlgorithm(alg)) {
      throw invalidArgument(
        `${name}: ${JSON.stringify(alg)} is not accepted; choose from ${SUPPORTED_ALGORITHMS.join(', ')} (none and HMAC are never accepted from a JWKS)`,
      );
    }
  }
  return new Set(value as JwsAlgorithm[]);
}

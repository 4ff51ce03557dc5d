/** The JWS algorithms the library verifies, what key each needs, and the `algorithms` option. */
import { invalidArgument } from '../errors.js';

/**
 * The asymmetric JWS algorithms a verifier can accept (RFC 7518 §3, RFC 8037, RFC 9864, and
 * the ML-DSA ones of RFC 9964 where the runtime has the primitive). `none` and the HMAC
 * algorithms are never accepted: a JWKS holds public keys only.
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
  'ML-DSA-44',
  'ML-DSA-65',
  'ML-DSA-87',
] as const;

/** One of {@link SUPPORTED_ALGORITHMS}. */
export type JwsAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/**
 * The post-quantum ML-DSA algorithms (RFC 9964), which not every runtime can verify.
 *
 * @example
 * const postQuantum: MlDsaAlgorithm[] = ['ML-DSA-65', 'ML-DSA-87'];
 * @see https://www.rfc-editor.org/rfc/rfc9964
 */
export type MlDsaAlgorithm = Extract<JwsAlgorithm, `ML-DSA-${string}`>;

/** The algorithms every runtime verifies: all but ML-DSA. DPoP's default list. */
export const CLASSIC_ALGORITHMS = SUPPORTED_ALGORITHMS.filter(
  (alg): alg is Exclude<JwsAlgorithm, MlDsaAlgorithm> => !alg.startsWith('ML-DSA-'),
);

/** What a key must be to verify an algorithm. */
export interface KeyRequirement {
  kty: 'RSA' | 'EC' | 'OKP' | 'AKP';
  /** Allowed curves for EC and OKP keys. */
  crv?: readonly string[];
  /** For AKP keys: the key's `alg` must be present and name the token's (RFC 9964). */
  algRequired?: true;
}

const AKP: KeyRequirement = { kty: 'AKP', algRequired: true };

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
  'ML-DSA-44': AKP,
  'ML-DSA-65': AKP,
  'ML-DSA-87': AKP,
};

/**
 * The length in bytes of an ML-DSA public key (`pub`) and signature per parameter set
 * (FIPS 204 Table 2).
 */
export const ML_DSA_SIZES: Record<MlDsaAlgorithm, { publicKey: number; signature: number }> = {
  'ML-DSA-44': { publicKey: 1312, signature: 2420 },
  'ML-DSA-65': { publicKey: 1952, signature: 3309 },
  'ML-DSA-87': { publicKey: 2592, signature: 4627 },
};

export function isSupportedAlgorithm(alg: string): alg is JwsAlgorithm {
  return Object.prototype.hasOwnProperty.call(REQUIREMENTS, alg);
}

/** Whether `alg` is one of the ML-DSA algorithms; a prefix test, cheap on the hot path. */
export function isMlDsaAlgorithm(alg: string): alg is MlDsaAlgorithm {
  return alg.startsWith('ML-DSA-') && isSupportedAlgorithm(alg);
}

export function keyRequirement(alg: JwsAlgorithm): KeyRequirement {
  return REQUIREMENTS[alg];
}

/** Validates the `algorithms` option: a non-empty list of supported asymmetric algorithms. */
export function parseAlgorithmsOption(
  value: unknown,
  name = 'algorithms',
  defaults: readonly JwsAlgorithm[] = SUPPORTED_ALGORITHMS,
): ReadonlySet<JwsAlgorithm> {
  if (value === undefined) return new Set(defaults);
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

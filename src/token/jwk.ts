/** JWKs: reading a JWKS, which keys fit an algorithm, key identity, and why a key is unusable. */
import { type JwsAlgorithm, ML_DSA_SIZES, isMlDsaAlgorithm, keyRequirement } from './algorithms.js';

/** A public JSON Web Key as published in a JWKS (RFC 7517 §4). */
export interface PublicJwk {
  kty: string;
  kid?: string;
  alg?: string;
  use?: string;
  key_ops?: string[];
  crv?: string;
  n?: string;
  e?: string;
  x?: string;
  y?: string;
  /** The public key of an `AKP` key (RFC 9964). */
  pub?: string;
  [member: string]: unknown;
}

/** A JWKS entry accepted for use, with what it was accepted as. */
export interface JwksKey {
  readonly kid: string | undefined;
  readonly jwk: PublicJwk;
}

export interface SkippedKey {
  kid: string | undefined;
  reason: string;
}

/** RSA moduli below this are refused (RFC 7518 §3.3, RFC 8725 §3.5). */
export const MIN_RSA_BITS = 2048;
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv', 'seed'] as const;
const MAX_KEYS = 100;

/**
 * The members that are the public key itself, as an importer needs them (no kid, use); an
 * `AKP` key keeps its `alg`, which names its parameter set (RFC 9964).
 */
export function publicKeyMembers(
  key: JwksKey,
): Pick<PublicJwk, 'kty' | 'crv' | 'n' | 'e' | 'x' | 'y' | 'alg' | 'pub'> {
  const { kty, crv, n, e, x, y, alg, pub } = key.jwk;
  if (kty === 'AKP') return { kty, alg, pub };
  return { kty, crv, n, e, x, y };
}

/**
 * Whether two JWKS entries are the same key: the same object (a revalidated set), or the
 * same JWK exactly as published (a refetched set that still publishes it).
 */
export function isSameKey(a: JwksKey, b: JwksKey): boolean {
  return a === b || keyIdentity(a) === keyIdentity(b);
}

/** A string equal for two entries exactly when the issuer published the same JWK. */
export function keyIdentity(key: JwksKey): string {
  return JSON.stringify(key.jwk);
}

/**
 * Reads a JWKS document. Keys that cannot be used for signature verification (private or
 * symmetric material, unknown kty or curve, weak RSA, missing members) are skipped with a
 * reason rather than failing the whole set, so one odd key cannot take an issuer down.
 * Returns `undefined` when the document is not a JWKS at all.
 */
export function readJwks(body: unknown): { keys: JwksKey[]; skipped: SkippedKey[] } | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const list = (body as { keys?: unknown }).keys;
  if (!Array.isArray(list)) return undefined;
  const keys: JwksKey[] = [];
  const skipped: SkippedKey[] = [];
  for (const entry of list.slice(0, MAX_KEYS)) {
    const kid = typeof entry?.kid === 'string' ? (entry.kid as string) : undefined;
    const reason = jwkUnusableReason(entry);
    if (reason) skipped.push({ kid, reason });
    else keys.push({ kid, jwk: entry as PublicJwk });
  }
  if (list.length > MAX_KEYS) {
    skipped.push({ kid: undefined, reason: `only the first ${MAX_KEYS} keys of the set are read` });
  }
  return { keys, skipped };
}

/**
 * Why a JWK cannot verify signatures (private or symmetric material, unknown kty or curve,
 * weak RSA, missing members), or `undefined` when it can.
 */
export function jwkUnusableReason(entry: unknown): string | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return 'not a JSON object';
  const jwk = entry as Record<string, unknown>;
  if (PRIVATE_MEMBERS.some((member) => jwk[member] !== undefined)) {
    return 'holds private or symmetric key material';
  }
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string') return '"kid" is not a string';
  if (jwk.alg !== undefined && typeof jwk.alg !== 'string') return '"alg" is not a string';
  if (jwk.use !== undefined && typeof jwk.use !== 'string') return '"use" is not a string';
  if (
    jwk.key_ops !== undefined &&
    (!Array.isArray(jwk.key_ops) || jwk.key_ops.some((op) => typeof op !== 'string'))
  ) {
    return '"key_ops" is not an array of strings';
  }
  switch (jwk.kty) {
    case 'RSA': {
      if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') return 'RSA key without "n" and "e"';
      const bits = rsaModulusBits(jwk.n);
      if (bits < MIN_RSA_BITS) return `RSA modulus of ${bits} bits is below ${MIN_RSA_BITS}`;
      return undefined;
    }
    case 'EC':
      if (!['P-256', 'P-384', 'P-521'].includes(jwk.crv as string))
        return `unsupported EC curve ${String(jwk.crv)}`;
      if (typeof jwk.x !== 'string' || typeof jwk.y !== 'string') return 'EC key without "x" and "y"';
      return undefined;
    case 'OKP':
      if (jwk.crv !== 'Ed25519') return `unsupported OKP curve ${String(jwk.crv)}`;
      if (typeof jwk.x !== 'string') return 'OKP key without "x"';
      return undefined;
    case 'AKP':
      return akpUnusableReason(jwk);
    default:
      return `unsupported key type ${JSON.stringify(jwk.kty)}`;
  }
}

/** An ML-DSA key (RFC 9964): its `alg` names the parameter set, `pub` is that set's length. */
function akpUnusableReason(jwk: Record<string, unknown>): string | undefined {
  if (typeof jwk.alg !== 'string' || !isMlDsaAlgorithm(jwk.alg)) {
    return `AKP key without an ML-DSA "alg" (got ${JSON.stringify(jwk.alg)})`;
  }
  if (typeof jwk.pub !== 'string' || !/^[A-Za-z0-9_-]*$/.test(jwk.pub))
    return 'AKP key without a base64url "pub"';
  const bytes = Math.floor((jwk.pub.length * 3) / 4);
  const expected = ML_DSA_SIZES[jwk.alg].publicKey;
  if (bytes !== expected || jwk.pub.length !== Math.ceil((expected * 4) / 3)) {
    return `${jwk.alg} "pub" of ${bytes} bytes, expected ${expected}`;
  }
  return undefined;
}

/** The bit length of a base64url RSA modulus, ignoring leading zero bytes. */
export function rsaModulusBits(n: string): number {
  const base64 = n.replace(/-/g, '+').replace(/_/g, '/');
  let binary: string;
  try {
    binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  } catch {
    return 0;
  }
  let i = 0;
  while (i < binary.length && binary.charCodeAt(i) === 0) i++;
  if (i === binary.length) return 0;
  return (binary.length - i - 1) * 8 + Math.floor(Math.log2(binary.charCodeAt(i))) + 1;
}

/**
 * Whether a key may verify a token signed with `alg`: its `kty` (and curve) fit the
 * algorithm, and its `alg`, `use` and `key_ops`, when present, allow it (RFC 7517 §4). An
 * `AKP` key must carry an `alg`, the token's (RFC 9964): one ML-DSA key never verifies
 * for another parameter set.
 */
export function keyFitsAlgorithm(jwk: PublicJwk, alg: JwsAlgorithm): boolean {
  const requirement = keyRequirement(alg);
  if (jwk.kty !== requirement.kty) return false;
  if (requirement.crv && !requirement.crv.includes(jwk.crv as string)) return false;
  if (requirement.algRequired && jwk.alg !== alg) return false;
  if (jwk.alg !== undefined && !algorithmNamesMatch(jwk.alg, alg)) return false;
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return false;
  return true;
}

/** `EdDSA` and the fully-specified `Ed25519` (RFC 9864) name the same signature over Ed25519. */
function algorithmNamesMatch(keyAlg: string, tokenAlg: JwsAlgorithm): boolean {
  if (keyAlg === tokenAlg) return true;
  const eddsa = ['EdDSA', 'Ed25519'];
  return eddsa.includes(keyAlg) && eddsa.includes(tokenAlg);
}

/**
 * The keys that may have signed a token: those with its `kid` that fit its `alg`; for a
 * token without `kid`, the only key that fits (none when several do, since guessing
 * would let the attacker choose).
 */
export function selectKeys(keys: readonly JwksKey[], kid: string | undefined, alg: JwsAlgorithm): JwksKey[] {
  if (kid === undefined) {
    const fitting = keys.filter((key) => keyFitsAlgorithm(key.jwk, alg));
    return fitting.length === 1 ? fitting : [];
  }
  return keys.filter((key) => key.kid === kid && keyFitsAlgorithm(key.jwk, alg));
}

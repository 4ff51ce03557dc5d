/** dpop/: the `dpop` option of a verifier, checked and defaulted. */
import { invalidArgument } from '../errors.js';
import { booleanOption, nonNegativeNumberOption } from '../option-checks.js';
import { CLASSIC_ALGORITHMS, type JwsAlgorithm, parseAlgorithmsOption } from '../token/algorithms.js';
import { DpopNonces } from './nonce.js';
import { type DpopReplayStore, createMemoryDpopReplayStore } from './replay-store.js';

/** Server nonces (RFC 9449 §9): stateless, so every instance sharing `secret` accepts every other's. */
export interface DpopNonceOptions {
  /**
   * The HMAC key nonces are made with: at least 32 bytes (a string counts its UTF-8 bytes).
   * The same on every instance of a fleet; keep it secret.
   */
  secret: string | Uint8Array;
  /**
   * How often the nonce changes, in seconds. The current and the previous nonce are
   * accepted, so a nonce lives one to two lifetimes. Default 300.
   */
  lifetimeSeconds?: number;
}

/**
 * The `dpop` option of `JwtVerifier`: accept DPoP-bound tokens (RFC 9449) through
 * `verifyRequest()` and `authenticate()`. Every member is optional.
 */
export interface DpopOptions {
  /**
   * `true`: only DPoP (the `DPoP` scheme with a proof, and a token with `cnf.jkt`); a
   * Bearer request or an unbound token is `ERR_DPOP_BINDING`. Default `false`: Bearer and
   * DPoP both accepted (a DPoP-bound token sent as Bearer is still refused).
   */
  required?: boolean;
  /** The algorithms a proof may be signed with. Default: every supported asymmetric algorithm but ML-DSA. */
  algorithms?: readonly JwsAlgorithm[];
  /** How old a proof's `iat` may be, in seconds. Default 300. */
  maxAgeSeconds?: number;
  /** Seconds of clock skew tolerated on a proof's `iat`, either way. Default 5. */
  clockTolerance?: number;
  /** Require server nonces in proofs (`use_dpop_nonce`, `DPoP-Nonce`). Default: no nonces. */
  nonce?: DpopNonceOptions;
  /** Where accepted proofs are remembered so each is accepted once. Default: `createMemoryDpopReplayStore()`. */
  replay?: DpopReplayStore;
}

/** {@link DpopOptions}, checked and defaulted. */
export interface ResolvedDpopOptions {
  required: boolean;
  algorithms: ReadonlySet<JwsAlgorithm>;
  maxAgeSeconds: number;
  clockToleranceSeconds: number;
  nonces: DpopNonces | undefined;
  replay: DpopReplayStore;
}

/** Every default of {@link DpopOptions}, in one place. */
export const DPOP_DEFAULTS = {
  required: false,
  maxAgeSeconds: 300,
  clockTolerance: 5,
  nonceLifetimeSeconds: 300,
} as const;

const MIN_SECRET_BYTES = 32;

function positiveNumberOption(value: unknown, name: string, fallback: number): number {
  const number = nonNegativeNumberOption(value, name, fallback);
  if (number === 0) throw invalidArgument(`${name} must be more than 0`);
  return number;
}

function parseNonceOption(value: unknown, now: () => number): DpopNonces | undefined {
  if (value === undefined) return undefined;
  const nonce = value as Partial<DpopNonceOptions> | null;
  if (typeof nonce !== 'object' || nonce === null)
    throw invalidArgument('dpop.nonce must be an object with a secret');
  const secret = typeof nonce.secret === 'string' ? new TextEncoder().encode(nonce.secret) : nonce.secret;
  if (!(secret instanceof Uint8Array) || secret.byteLength < MIN_SECRET_BYTES) {
    throw invalidArgument(
      `dpop.nonce.secret must be a string or Uint8Array of at least ${MIN_SECRET_BYTES} bytes`,
    );
  }
  const lifetimeSeconds = positiveNumberOption(
    nonce.lifetimeSeconds,
    'dpop.nonce.lifetimeSeconds',
    DPOP_DEFAULTS.nonceLifetimeSeconds,
  );
  return new DpopNonces(secret.slice(), lifetimeSeconds, now);
}

/** Checks the `dpop` option; `undefined` when DPoP is off. Throws a coded `TypeError` for a mistake. */
export function resolveDpopOptions(value: unknown, now: () => number): ResolvedDpopOptions | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw invalidArgument('dpop must be an object');
  const options = value as DpopOptions;
  booleanOption(options.required, 'dpop.required');
  const replay = options.replay as Partial<DpopReplayStore> | undefined | null;
  if (replay !== undefined && typeof replay?.remember !== 'function') {
    throw invalidArgument(
      'dpop.replay must be a DpopReplayStore: an object with a remember(key, expiresAtMs) function',
    );
  }
  return {
    required: options.required ?? DPOP_DEFAULTS.required,
    algorithms: parseAlgorithmsOption(options.algorithms, 'dpop.algorithms', CLASSIC_ALGORITHMS),
    maxAgeSeconds: positiveNumberOption(
      options.maxAgeSeconds,
      'dpop.maxAgeSeconds',
      DPOP_DEFAULTS.maxAgeSeconds,
    ),
    clockToleranceSeconds: nonNegativeNumberOption(
      options.clockTolerance,
      'dpop.clockTolerance',
      DPOP_DEFAULTS.clockTolerance,
    ),
    nonces: parseNonceOption(options.nonce, now),
    replay: (replay as DpopReplayStore | undefined) ?? createMemoryDpopReplayStore({ now }),
  };
}

/** dpop/: where seen proofs are remembered (RFC 9449 §11.1), and the bounded in-memory store. */
import { invalidArgument } from '../errors.js';
import { functionOption } from '../option-checks.js';

/**
 * Remembers DPoP proofs a verifier accepted, so that each is accepted once (RFC 9449
 * §11.1). Share one between the instances of a fleet (see `createRedisDpopReplayStore`)
 * so that a proof accepted by one is refused by all.
 *
 * @example
 * const seen = new Set<string>(); // unbounded: for illustration only
 * const store: DpopReplayStore = {
 *   async remember(key) {
 *     if (seen.has(key)) return false;
 *     seen.add(key);
 *     return true;
 *   },
 * };
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export interface DpopReplayStore {
  /**
   * Records `key` (a hash of the proof's key thumbprint, htm, htu and jti, 43 characters)
   * until `expiresAtMs` (milliseconds since the epoch: when the proof's iat window closes).
   * Resolves `true` when the key was new, `false` when it is already there (a replay). A
   * rejection refuses the request with a 503 (`ERR_ISSUER_UNAVAILABLE`): never a pass.
   */
  remember(key: string, expiresAtMs: number): Promise<boolean>;
}

/** Options of {@link createMemoryDpopReplayStore}. */
export interface MemoryDpopReplayStoreOptions {
  /**
   * The most proofs remembered at once. When every slot holds an unexpired proof, the
   * oldest is forgotten first (it is the closest to leaving its iat window anyway).
   * Default 100000 (about 10 MB; a 300 s window then covers 333 requests a second).
   */
  max?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. For tests. */
  now?: () => number;
}

/** The default `max` of {@link createMemoryDpopReplayStore}. */
const DEFAULT_MAX = 100_000;

type RememberAtOnce = (key: string, expiresAtMs: number) => boolean;

// The memory store's `remember` functions, each with its twin that answers at once.
const answersAtOnce = new WeakMap<DpopReplayStore['remember'], RememberAtOnce>();

/**
 * `store.remember(key, expiresAtMs)`, answered at once for a memory store whose `remember`
 * is still its own (a request that needs no other promise then needs none for the store
 * either); for any other store its promise. Throws or rejects as the store does.
 */
export function rememberProof(
  store: DpopReplayStore,
  key: string,
  expiresAtMs: number,
): boolean | Promise<boolean> {
  const remember = store.remember;
  const atOnce = answersAtOnce.get(remember);
  if (atOnce !== undefined) return atOnce(key, expiresAtMs);
  return Promise.resolve(remember.call(store, key, expiresAtMs));
}

/**
 * A {@link DpopReplayStore} in this process's memory: the default of the `dpop.replay`
 * option. Bounded by `max`; expired entries are dropped as new ones arrive. One process
 * only: a fleet shares `createRedisDpopReplayStore` instead.
 *
 * @example
 * const verifier = new JwtVerifier({ issuer, audience, dpop: { replay: createMemoryDpopReplayStore({ max: 10_000 }) } });
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 */
export function createMemoryDpopReplayStore(options: MemoryDpopReplayStoreOptions = {}): DpopReplayStore {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options must be an object');
  const max = options.max ?? DEFAULT_MAX;
  if (!Number.isInteger(max) || max < 1) {
    throw invalidArgument(`max must be a whole number of proofs, at least 1; got ${String(max)}`);
  }
  functionOption(options.now, 'now');
  const now = options.now ?? (() => Date.now());
  // Insertion order is close to expiry order (expiry = iat + window): the oldest go first.
  const seen = new Map<string, number>();
  const rememberAtOnce: RememberAtOnce = (key, expiresAtMs) => {
    const nowMs = now();
    const known = seen.get(key);
    if (known !== undefined && known > nowMs) return false;
    seen.delete(key);
    for (const [oldKey, expiry] of seen) {
      if (expiry > nowMs) break;
      seen.delete(oldKey);
    }
    while (seen.size >= max) seen.delete(seen.keys().next().value!);
    seen.set(key, expiresAtMs);
    return true;
  };
  const remember: DpopReplayStore['remember'] = (key, expiresAtMs) =>
    Promise.resolve(rememberAtOnce(key, expiresAtMs));
  answersAtOnce.set(remember, rememberAtOnce);
  return { remember };
}

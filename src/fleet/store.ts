/** The shared-store contract: what a fleet's verifiers share their fetched documents through. */
/**
 * Where several verifiers (the instances of a fleet, or several verifiers of one issuer in
 * one process) share the key set and the discovery metadata they fetched, so that the
 * issuer sees one request per fleet instead of one per instance. Keys are the JWKS URL, or
 * `discovery:<mode>:<issuer>` for metadata; values are opaque JSON strings written by the
 * verifier, which checks every value it reads as it checks a response from the network, so
 * a store only has to keep strings for a while.
 *
 * Every method may reject or hang: the verifier bounds each call with a short timeout and
 * then fetches from the issuer itself, so a store that is down costs latency, never
 * availability. Implement it over Redis ({@link createRedisJwksStore}), Memcached,
 * DynamoDB or anything with expiring keys.
 *
 * @example
 * const store: JwksStore = {
 *   get: (key) => cache.get(`jwks:${key}`),
 *   set: (key, value, ttlMs) => cache.set(`jwks:${key}`, value, { ttlMs }),
 *   acquire: (lease, ttlMs) => cache.add(`lease:${lease}`, '1', { ttlMs }), // true when added
 * };
 * const verifier = new JwtVerifier({ issuer, audience, cache: { store } });
 */
export interface JwksStore {
  /** The value last `set` under this key and not yet expired, or `null`/`undefined`. */
  get(key: string): Promise<string | null | undefined>;
  /** Keeps `value` under this key for `ttlMs` milliseconds, replacing any older value. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  /**
   * Claims the named lease for `ttlMs` milliseconds if nobody holds it, and resolves `true`
   * when this caller got it (Redis: `SET name 1 NX PX ttlMs`). The verifier that holds it
   * fetches from the issuer; the others wait for its result in the store. The name is
   * derived from the key and the version of the value being replaced, so a lease is never
   * released: it expires. Without `acquire`, every verifier whose store copy is stale fetches.
   */
  acquire?(lease: string, ttlMs: number): Promise<boolean>;
}

/** The format number of every value this library writes to a store. */
export const STORE_FORMAT = 1;
/** The longest one call to a JwksStore may take before the verifier fetches by itself. */
const STORE_TIMEOUT_MS = 1000;

/**
 * How long a store call may take, and how long a lease lasts: the holder's fetch (within
 * `fetchTimeoutMs`) plus reading and writing the store.
 */
export function storeTimings(fetchTimeoutMs: number): { storeTimeoutMs: number; leaseMs: number } {
  const storeTimeoutMs = Math.min(STORE_TIMEOUT_MS, fetchTimeoutMs);
  return { storeTimeoutMs, leaseMs: fetchTimeoutMs + 2 * storeTimeoutMs };
}

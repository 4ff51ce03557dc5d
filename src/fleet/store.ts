import { errorReason } from '../errors.js';
import type { VerifierEvent } from '../events.js';
import { isSecureUrl } from '../issuer/http.js';
import { type PublicJwk, readJwks } from '../token/jwk.js';
import type { KeySet } from '../keys/jwks-cache.js';

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

/** A key set as kept in a {@link JwksStore} or a cache snapshot: JSON, times in ms since the epoch. */
export interface StoredKeySet {
  /** The JWKS URL the keys were fetched from. */
  uri: string;
  /** The keys that passed the verifier's checks, as the issuer published them. */
  keys: PublicJwk[];
  etag?: string;
  lastModified?: string;
  /** When the request that fetched (or revalidated) the set started. */
  fetchedAt: number;
  /** Until when the set is fresh (from `Cache-Control: max-age`, within `cache.maxAgeMs`). */
  freshUntil: number;
}

/** A stored key set that passed {@link decodeKeySet}. */
export interface DecodedKeySet {
  set: KeySet;
  fetchedAt: number;
  freshUntil: number;
}

const STORE_FORMAT = 1;
/** The longest one call to a JwksStore may take before the verifier fetches by itself. */
const STORE_TIMEOUT_MS = 1000;
/** A writer's clock may run ahead of ours by this much before its entries are refused. */
const MAX_CLOCK_AHEAD_MS = 60_000;

/**
 * How long a store call may take, and how long a lease lasts: the holder's fetch (within
 * `fetchTimeoutMs`) plus reading and writing the store.
 */
export function storeTimings(fetchTimeoutMs: number): { storeTimeoutMs: number; leaseMs: number } {
  const storeTimeoutMs = Math.min(STORE_TIMEOUT_MS, fetchTimeoutMs);
  return { storeTimeoutMs, leaseMs: fetchTimeoutMs + 2 * storeTimeoutMs };
}

export function encodeKeySet(set: KeySet, fetchedAt: number, freshUntil: number): StoredKeySet {
  return {
    uri: set.uri,
    keys: set.keys.map((key) => key.jwk),
    ...(set.etag === undefined ? {} : { etag: set.etag }),
    ...(set.lastModified === undefined ? {} : { lastModified: set.lastModified }),
    fetchedAt,
    freshUntil,
  };
}

/**
 * Checks a stored key set (from a store or a snapshot) as strictly as a JWKS from the
 * network: the URL must be the one expected, the keys pass `readJwks`, and its freshness is
 * cut to `maxAgeMs` after its fetch, so a tampered or old entry is never trusted longer
 * than a fetched one would be. Returns the reason when it must be ignored.
 */
export function decodeKeySet(
  value: unknown,
  expect: { uri?: string; now: number; maxAgeMs: number; allowInsecureHttp: boolean },
): DecodedKeySet | { reason: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { reason: 'not a JSON object' };
  const stored = value as Partial<Record<keyof StoredKeySet, unknown>>;
  if (typeof stored.uri !== 'string') return { reason: 'no JWKS uri' };
  let url: URL;
  try {
    url = new URL(stored.uri);
  } catch {
    return { reason: 'the JWKS uri is not a URL' };
  }
  if (!isSecureUrl(url, expect.allowInsecureHttp)) return { reason: `the JWKS uri ${url.href} is not https` };
  if (expect.uri !== undefined && stored.uri !== expect.uri) {
    return { reason: `it holds the keys of ${stored.uri}, not of ${expect.uri}` };
  }
  const { fetchedAt, freshUntil } = stored;
  if (
    typeof fetchedAt !== 'number' ||
    !Number.isFinite(fetchedAt) ||
    typeof freshUntil !== 'number' ||
    !Number.isFinite(freshUntil)
  ) {
    return { reason: 'fetchedAt and freshUntil must be numbers (ms since the epoch)' };
  }
  if (fetchedAt > expect.now + MAX_CLOCK_AHEAD_MS) return { reason: 'it claims to be fetched in the future' };
  if (stored.etag !== undefined && typeof stored.etag !== 'string') return { reason: 'etag is not a string' };
  if (stored.lastModified !== undefined && typeof stored.lastModified !== 'string') {
    return { reason: 'lastModified is not a string' };
  }
  const read = readJwks({ keys: stored.keys });
  if (!read) return { reason: 'keys is not an array' };
  if (read.skipped.length) {
    return {
      reason: `it holds keys that are not usable (${read.skipped.map((key) => key.reason).join('; ')})`,
    };
  }
  return {
    set: {
      uri: stored.uri,
      keys: read.keys,
      etag: stored.etag as string | undefined,
      lastModified: stored.lastModified as string | undefined,
    },
    fetchedAt,
    freshUntil: Math.min(freshUntil, fetchedAt + expect.maxAgeMs),
  };
}

/** What a key-set load produced, for the cached resource. */
export interface LoadedKeySet {
  value: KeySet;
  freshForMs: number;
  /** When the request behind the value started, when not the load's own start. */
  fetchedAt?: number;
}

/** A value read back from a store, checked. */
export interface SharedEntry<V> {
  value: V;
  fetchedAt: number;
  freshUntil: number;
}

/** How one kind of document (a key set, discovery metadata) goes through a store. */
export interface SharedLoadOptions<V> {
  store: JwksStore;
  /** The store key: the JWKS URL, or the discovery key of an issuer. */
  key: string;
  /** The value in hand, if any: a stored copy must be newer to be worth taking. */
  previous: { value: V; fetchedAt: number } | undefined;
  /** A stored copy must come from a request that started at or after this (unknown kid). */
  notBefore: number | undefined;
  now: () => number;
  /** How long one store call may take before the store counts as down for this load. */
  storeTimeoutMs: number;
  /** How long the fetching verifier may take; the others wait this long, then fetch themselves. */
  leaseMs: number;
  emit: (event: VerifierEvent) => void;
  /** Checks a parsed stored value as strictly as a response (see {@link decodeKeySet}). */
  decode: (parsed: unknown) => SharedEntry<V> | { reason: string };
  /** The JSON form of a value, for the store. */
  encode: (entry: SharedEntry<V>) => object;
  /** Reports a value taken from the store. */
  taken: (value: V, freshForMs: number) => void;
  /** Fetches from the issuer, conditionally on `validators` (a value in hand) when given. */
  fetch: (validators: V | undefined) => Promise<{ value: V; freshForMs: number }>;
}

/**
 * Loads a document through a shared store: a fresh enough stored copy is taken as is;
 * otherwise one verifier (the lease holder) fetches from the issuer and stores the result
 * while the others wait for it. When the store fails, every verifier fetches for itself.
 */
export async function loadShared<V>(
  options: SharedLoadOptions<V>,
): Promise<{ value: V; freshForMs: number; fetchedAt: number }> {
  const { store, key, now } = options;
  let storeUp = true;
  const call = async <R>(
    operation: 'get' | 'set' | 'acquire',
    run: () => Promise<R>,
  ): Promise<R | undefined> => {
    try {
      return await withTimeout(run(), options.storeTimeoutMs);
    } catch (error) {
      storeUp = false;
      options.emit({ type: 'store_failed', key, operation, reason: errorReason(error) });
      return undefined;
    }
  };
  let unreadable = false;
  /** The stored value; an unusable one is reported once per load and read as none. */
  const read = async (): Promise<SharedEntry<V> | undefined> => {
    const raw = await call('get', () => store.get(key));
    if (raw === undefined || raw === null) return undefined;
    let parsed: unknown;
    try {
      parsed = typeof raw === 'string' ? JSON.parse(raw) : raw;
    } catch {
      parsed = undefined;
    }
    const format = (parsed as { format?: unknown } | undefined)?.format;
    const decoded =
      format === STORE_FORMAT ? options.decode(parsed) : { reason: 'not a value written by this library' };
    if ('reason' in decoded) {
      if (!unreadable) options.emit({ type: 'store_failed', key, operation: 'read', reason: decoded.reason });
      unreadable = true;
      return undefined;
    }
    return decoded;
  };
  const taken = (entry: SharedEntry<V>) => {
    const freshForMs = entry.freshUntil - now();
    options.taken(entry.value, freshForMs);
    return { value: entry.value, freshForMs, fetchedAt: entry.fetchedAt };
  };
  const isFresh = (entry: SharedEntry<V>) => now() < entry.freshUntil;

  const seen = await read();
  if (seen && isFresh(seen)) {
    const newerThanOurs = !options.previous || seen.fetchedAt > options.previous.fetchedAt;
    const coversToken = options.notBefore === undefined || seen.fetchedAt >= options.notBefore;
    if (newerThanOurs && coversToken) return taken(seen);
  }

  // Over an unusable value no lease is taken: its name could not tell that value apart, and
  // the fetch below overwrites it.
  if (storeUp && store.acquire && !unreadable) {
    const lease = `${key}#${seen ? seen.fetchedAt : 'none'}`;
    const acquired = await call('acquire', () => store.acquire!(lease, options.leaseMs));
    if (acquired === false) {
      // Another verifier is fetching. Its result is taken even when its request started a
      // moment before our token arrived: waiting for a second fetch would make every
      // instance that saw the token a few milliseconds late ask the issuer again.
      const shared = await waitForNewer(read, seen?.fetchedAt ?? -Infinity, options.leaseMs, now);
      if (shared && isFresh(shared)) return taken(shared);
    }
  }

  const fetchedAt = now();
  const fetched = await options.fetch(options.previous?.value ?? seen?.value);
  if (storeUp) {
    const freshUntil = now() + fetched.freshForMs;
    const value = JSON.stringify({
      format: STORE_FORMAT,
      ...options.encode({ value: fetched.value, fetchedAt, freshUntil }),
    });
    await call('set', () => store.set(key, value, Math.max(1, Math.ceil(fetched.freshForMs))));
  }
  return { ...fetched, fetchedAt };
}

/** {@link loadShared} for a key set, stored under its JWKS URL. */
export function loadKeySetThroughStore(
  options: Omit<SharedLoadOptions<KeySet>, 'key' | 'decode' | 'encode' | 'taken'> & {
    uri: string;
    maxAgeMs: number;
    allowInsecureHttp: boolean;
  },
): Promise<LoadedKeySet> {
  const { uri } = options;
  return loadShared<KeySet>({
    ...options,
    key: uri,
    decode: (parsed) => {
      const decoded = decodeKeySet(parsed, { ...options, now: options.now() });
      return 'reason' in decoded
        ? decoded
        : { value: decoded.set, fetchedAt: decoded.fetchedAt, freshUntil: decoded.freshUntil };
    },
    encode: (entry) => encodeKeySet(entry.value, entry.fetchedAt, entry.freshUntil),
    taken: (set, freshForMs) =>
      options.emit({ type: 'jwks_loaded', url: uri, source: 'store', kids: kidsOf(set), freshForMs }),
    // Validators of a set from another URL (the issuer moved its JWKS) would be meaningless.
    fetch: (validators) => options.fetch(validators?.uri === uri ? validators : undefined),
  });
}

/** Polls the store until it holds a set fetched after `after`, for at most `forMs`. */
async function waitForNewer<V>(
  read: () => Promise<SharedEntry<V> | undefined>,
  after: number,
  forMs: number,
  now: () => number,
): Promise<SharedEntry<V> | undefined> {
  const until = now() + forMs;
  let intervalMs = 10;
  while (now() < until) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, Math.max(1, until - now()))));
    const entry = await read();
    if (entry && entry.fetchedAt > after) return entry;
    intervalMs = Math.min(intervalMs * 1.5, 250);
  }
  return undefined;
}

function withTimeout<R>(promise: Promise<R>, ms: number): Promise<R> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function kidsOf(set: KeySet): string[] {
  return set.keys.map((key) => key.kid ?? '(no kid)');
}

/** Options of {@link createMemoryJwksStore}. */
export interface MemoryJwksStoreOptions {
  /** The clock, in milliseconds since the epoch. Default `Date.now`. For tests. */
  now?: () => number;
}

/**
 * A {@link JwksStore} in this process's memory: lets several verifiers of one issuer (one
 * per audience, say, or per tenant route) share one fetched key set and one lease. For a
 * fleet of processes use a shared store such as {@link createRedisJwksStore}.
 *
 * @example
 * const store = createMemoryJwksStore();
 * const api = new JwtVerifier({ issuer, audience: 'https://api.example.com', cache: { store } });
 * const admin = new JwtVerifier({ issuer, audience: 'https://admin.example.com', cache: { store } });
 */
export function createMemoryJwksStore(options: MemoryJwksStoreOptions = {}): JwksStore {
  const now = options.now ?? Date.now;
  const values = new Map<string, { value: string; expiresAt: number }>();
  const leases = new Map<string, number>();
  const sweep = (map: Map<string, unknown>, expiresAt: (entry: never) => number) => {
    const time = now();
    for (const [key, entry] of map) if (expiresAt(entry as never) <= time) map.delete(key);
  };
  return {
    async get(key) {
      const entry = values.get(key);
      if (!entry || entry.expiresAt <= now()) return undefined;
      return entry.value;
    },
    async set(key, value, ttlMs) {
      sweep(values, (entry: { expiresAt: number }) => entry.expiresAt);
      values.set(key, { value, expiresAt: now() + ttlMs });
    },
    async acquire(lease, ttlMs) {
      sweep(leases, (expiresAt: number) => expiresAt);
      if (leases.has(lease)) return false;
      leases.set(lease, now() + ttlMs);
      return true;
    },
  };
}

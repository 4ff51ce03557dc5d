/** Loading a document through a shared store: one verifier of a fleet fetches, the others read its result. */
import { errorReason } from '../errors.js';
import type { VerifierEvent } from '../events.js';
import type { CachedEntry } from '../issuer/cached-resource.js';
import { type JwksStore, STORE_FORMAT } from './store.js';

/** A value read back from a store, checked: a cached entry like any other. */
export type SharedEntry<V> = CachedEntry<V>;

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

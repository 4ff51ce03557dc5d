/** A fetched key set: the type, and its JSON form in a store or a snapshot, checked as strictly as a response. */
import { isSecureUrl } from '../option-checks.js';
import { type JwksKey, type PublicJwk, readJwks } from '../token/jwk.js';

/** A fetched JWKS with what is needed to revalidate it. */
export interface KeySet {
  uri: string;
  keys: readonly JwksKey[];
  etag?: string;
  lastModified?: string;
}

/** A writer's clock may run ahead of ours by this much before its entries are refused. */
export const MAX_CLOCK_AHEAD_MS = 60_000;

/**
 * How a key without `kid` is named in events and messages. A label only: keys are told
 * apart by identity, so an issuer whose kid is literally this string is not confused with it.
 */
export const NO_KID_LABEL = '(no kid)';

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

/** The kids of a set's keys, in order ({@link NO_KID_LABEL} for a key without one). */
export function kidsOf(set: KeySet): string[] {
  return set.keys.map((key) => key.kid ?? NO_KID_LABEL);
}

/** Cache snapshots: a verifier's metadata and keys as JSON, to start another one warm. */
import type { CachedEntry } from '../issuer/cached-resource.js';
import {
  type AuthorizationServerMetadata,
  type DiscoveryMode,
  type DiscoveryResult,
  validateMetadata,
} from '../issuer/discovery.js';
import { isJwtVerifyError } from '../errors.js';
import type { VerifierEvent } from '../events.js';
import { type DecodedKeySet, type StoredKeySet, MAX_CLOCK_AHEAD_MS, decodeKeySet } from '../keys/key-set.js';

/** The `format` of a {@link VerifierCacheSnapshot}; a snapshot of another format is ignored. */
export const CACHE_SNAPSHOT_FORMAT = 'oauth-jwt-verify/cache@1';

/**
 * What `JwtVerifier.exportCache()` returns and the `cache.snapshot` option takes: the
 * discovered metadata and the JWKS with their fetch times and validators (`ETag`,
 * `Last-Modified`), as plain JSON. Times are milliseconds since the epoch.
 */
export interface VerifierCacheSnapshot {
  format: typeof CACHE_SNAPSHOT_FORMAT;
  /** The issuer of the verifier that exported it; another issuer's verifier ignores it. */
  issuer: string;
  exportedAt: number;
  metadata?: {
    /** The well-known URL the document came from. */
    url: string;
    kind: 'oauth' | 'oidc';
    document: AuthorizationServerMetadata;
    fetchedAt: number;
    freshUntil: number;
  };
  jwks?: StoredKeySet;
}

export function metadataSnapshot(
  entry: CachedEntry<DiscoveryResult> | undefined,
): VerifierCacheSnapshot['metadata'] {
  if (!entry) return undefined;
  const { metadata, url, kind } = entry.value;
  return { url, kind, document: metadata, fetchedAt: entry.fetchedAt, freshUntil: entry.freshUntil };
}

export interface SnapshotExpectations {
  issuer: string;
  /** The configured `jwksUri`, when discovery is skipped. */
  jwksUri: string | undefined;
  now: number;
  maxAgeMs: number;
  allowInsecureHttp: boolean;
}

/** The usable parts of a snapshot, and why the others were left out. */
export interface ReadSnapshot {
  metadata?: CachedEntry<DiscoveryResult>;
  jwks?: DecodedKeySet;
  ignored: string[];
}

/**
 * Checks a snapshot as strictly as fresh responses: the issuer must be this verifier's,
 * the metadata passes the same validation as a discovered document, the JWKS URL must be
 * the configured or discovered one and its keys pass the JWKS checks, and nothing is kept
 * beyond its freshness (cut to `maxAgeMs` after its fetch).
 */
export function readSnapshot(input: unknown, expect: SnapshotExpectations): ReadSnapshot {
  let value = input;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return { ignored: ['the snapshot is a string but not JSON'] };
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ignored: ['the snapshot is not an object'] };
  }
  const snapshot = value as Partial<Record<keyof VerifierCacheSnapshot, unknown>>;
  if (snapshot.format !== CACHE_SNAPSHOT_FORMAT) {
    return {
      ignored: [
        `the snapshot's format is ${JSON.stringify(snapshot.format)}, expected ${CACHE_SNAPSHOT_FORMAT}`,
      ],
    };
  }
  if (snapshot.issuer !== expect.issuer) {
    return {
      ignored: [
        `the snapshot is of issuer ${JSON.stringify(snapshot.issuer)}, not ${JSON.stringify(expect.issuer)}`,
      ],
    };
  }
  const result: ReadSnapshot = { ignored: [] };
  let discoveredJwksUri: string | undefined;
  if (snapshot.metadata !== undefined) {
    const read = readMetadata(snapshot.metadata, expect);
    if (typeof read === 'string') result.ignored.push(read);
    else {
      discoveredJwksUri = read.value.metadata.jwks_uri;
      if (expect.now < read.freshUntil) result.metadata = read;
      else result.ignored.push('the metadata in the snapshot is stale');
    }
  }
  if (snapshot.jwks !== undefined) {
    const uri = expect.jwksUri ?? discoveredJwksUri;
    if (uri === undefined) {
      result.ignored.push('the snapshot has keys but no valid metadata naming their jwks_uri');
    } else {
      const decoded = decodeKeySet(snapshot.jwks, { ...expect, uri });
      if ('reason' in decoded)
        result.ignored.push(`the key set in the snapshot is not usable: ${decoded.reason}`);
      else if (expect.now >= decoded.freshUntil) result.ignored.push('the key set in the snapshot is stale');
      else result.jwks = decoded;
    }
  }
  return result;
}

export function readMetadata(
  value: unknown,
  expect: SnapshotExpectations,
): CachedEntry<DiscoveryResult> | string {
  if (typeof value !== 'object' || value === null) return 'the metadata in the snapshot is not an object';
  const saved = value as Record<string, unknown>;
  const { url, kind, fetchedAt, freshUntil } = saved;
  if (typeof url !== 'string' || (kind !== 'oauth' && kind !== 'oidc')) {
    return 'the metadata in the snapshot has no url or kind';
  }
  if (
    typeof fetchedAt !== 'number' ||
    !Number.isFinite(fetchedAt) ||
    typeof freshUntil !== 'number' ||
    !Number.isFinite(freshUntil)
  ) {
    return 'the metadata in the snapshot has no fetchedAt and freshUntil';
  }
  if (fetchedAt > expect.now + MAX_CLOCK_AHEAD_MS)
    return 'the metadata in the snapshot claims to be fetched in the future';
  try {
    const metadata = validateMetadata(saved.document, expect.issuer, url, {
      requireJwksUri: expect.jwksUri === undefined,
      allowInsecureHttp: expect.allowInsecureHttp,
    });
    return {
      value: { metadata, url, kind, headers: new Headers() },
      fetchedAt,
      freshUntil: Math.min(freshUntil, fetchedAt + expect.maxAgeMs),
    };
  } catch (error) {
    if (isJwtVerifyError(error)) return `the metadata in the snapshot is not valid: ${error.message}`;
    throw error;
  }
}

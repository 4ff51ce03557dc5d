/** What a verifier reads from its issuer: the metadata (through a shared store, if any), the JWKS, the snapshot they start from. */
import type { VerifierEvent } from '../events.js';
import { loadShared } from '../fleet/shared-load.js';
import { type JwksStore, storeTimings } from '../fleet/store.js';
import { type CachedEntry, CachedResource } from '../issuer/cached-resource.js';
import { type DiscoveryMode, type DiscoveryResult, discoverMetadata } from '../issuer/discovery.js';
import { freshnessMs } from '../issuer/freshness.js';
import { JwksCache } from '../keys/jwks-cache.js';
import type { ResolvedVerifierOptions } from './options.js';
import { metadataSnapshot, readMetadata, readSnapshot } from './snapshot.js';

/** What a verifier reads from its issuer: the discovery metadata and the JWKS, both cached. */
export interface IssuerSources {
  metadata: CachedResource<DiscoveryResult>;
  jwks: JwksCache;
}

/**
 * Wires the metadata and JWKS caches of one verifier: discovery (through the shared store
 * when there is one), the JWKS from the metadata or the fixed `jwksUri`, and the snapshot
 * they start from.
 */
export function createIssuerSources(
  options: ResolvedVerifierOptions,
  emit: (event: VerifierEvent) => void,
  // An introspection verifier without signed answers needs the metadata but no JWKS.
  requireJwksUri = options.jwksUri === undefined,
): IssuerSources {
  const { issuer, http, cache, now, jwksUri } = options;
  const discoverNow = async () => {
    const result = await discoverMetadata(issuer, options.discovery, http, { requireJwksUri });
    emit({
      type: 'discovery',
      issuer,
      url: result.url,
      kind: result.kind,
      jwksUri: result.metadata.jwks_uri,
    });
    return { value: result, freshForMs: freshnessMs(result.headers, cache) };
  };
  const metadata = new CachedResource<DiscoveryResult>({
    load: (previous) =>
      cache.store
        ? loadMetadataThroughStore({
            store: cache.store,
            issuer,
            mode: options.discovery,
            jwksUri,
            previous,
            now,
            maxAgeMs: cache.maxAgeMs,
            allowInsecureHttp: http.allowInsecureHttp,
            timeoutMs: http.timeoutMs,
            emit,
            fetch: discoverNow,
          })
        : discoverNow(),
    now,
    staleIfErrorMs: cache.staleIfErrorMs,
    failureBackoffMs: cache.cooldownMs,
    onError: (error, servingStale) => emit({ type: 'discovery_failed', issuer, error, servingStale }),
  });
  const jwks = new JwksCache({
    jwksUri: async () => jwksUri ?? ((await metadata.get()).value.metadata.jwks_uri as string),
    http,
    freshness: cache,
    cooldownMs: cache.cooldownMs,
    staleIfErrorMs: cache.staleIfErrorMs,
    now,
    emit,
    store: cache.store,
    refreshAhead: cache.refreshAhead,
  });
  if (cache.snapshot !== undefined) {
    const read = readSnapshot(cache.snapshot, {
      issuer,
      jwksUri,
      now: now(),
      maxAgeMs: cache.maxAgeMs,
      allowInsecureHttp: http.allowInsecureHttp,
    });
    if (read.metadata) {
      metadata.restore(read.metadata);
      emit({ type: 'metadata_loaded', issuer, url: read.metadata.value.url, source: 'snapshot' });
    }
    if (read.jwks) jwks.restoreKeySet(read.jwks);
    for (const reason of read.ignored) emit({ type: 'snapshot_ignored', reason });
  }
  return { metadata, jwks };
}

/**
 * Discovery through a shared store, like the key set: the metadata is kept under
 * `discovery:<mode>:<issuer>` and checked on the way back as a discovered document is.
 */
export function loadMetadataThroughStore(options: {
  store: JwksStore;
  issuer: string;
  mode: DiscoveryMode;
  jwksUri: string | undefined;
  previous: CachedEntry<DiscoveryResult> | undefined;
  now: () => number;
  maxAgeMs: number;
  allowInsecureHttp: boolean;
  timeoutMs: number;
  emit: (event: VerifierEvent) => void;
  fetch: () => Promise<{ value: DiscoveryResult; freshForMs: number }>;
}): Promise<{ value: DiscoveryResult; freshForMs: number; fetchedAt: number }> {
  const { issuer, previous, now } = options;
  return loadShared<DiscoveryResult>({
    store: options.store,
    key: `discovery:${options.mode}:${issuer}`,
    previous,
    notBefore: undefined,
    now,
    // Discovery in 'auto' mode may take two requests.
    ...storeTimings(2 * options.timeoutMs),
    emit: options.emit,
    decode: (parsed) => {
      const read = readMetadata(parsed, { ...options, now: now() });
      return typeof read === 'string' ? { reason: read } : read;
    },
    encode: (entry) => metadataSnapshot(entry)!,
    taken: (value) => options.emit({ type: 'metadata_loaded', issuer, url: value.url, source: 'store' }),
    fetch: () => options.fetch(),
  });
}

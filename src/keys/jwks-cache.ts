/** The issuer's signing keys: found by kid and alg, refetched on rotation, never in a storm. */
import type { JwsAlgorithm } from '../token/algorithms.js';
import { type CachedEntry, CachedResource, type LoadHint } from '../issuer/cached-resource.js';
import { JwtVerifyError } from '../errors.js';
import type { VerifierEvent } from '../events.js';
import { type FreshnessBounds, freshnessMs } from '../issuer/freshness.js';
import { type ResolvedHttpOptions, requestJson } from '../issuer/http.js';
import { type JwksKey, keyFitsAlgorithm, keyIdentity, readJwks, selectKeys } from '../token/jwk.js';
import { loadKeySetThroughStore } from '../fleet/shared-load.js';
import { type JwksStore, storeTimings } from '../fleet/store.js';
import {
  type DecodedKeySet,
  type KeySet,
  type LoadedKeySet,
  NO_KID_LABEL,
  type StoredKeySet,
  encodeKeySet,
  kidsOf,
} from './key-set.js';

export interface JwksCacheOptions {
  jwksUri: () => Promise<string>;
  http: ResolvedHttpOptions;
  freshness: FreshnessBounds;
  cooldownMs: number;
  staleIfErrorMs: number;
  now: () => number;
  emit: (event: VerifierEvent) => void;
  /** Shared with other verifiers: one of them fetches, the others read. */
  store?: JwksStore;
  /** Keep the set fresh in the background once warm (after `warmup` or a snapshot). */
  refreshAhead?: boolean;
}

/** How many kids, still unknown after a refetch, are remembered (oldest forgotten first). */
const MAX_REMEMBERED_UNKNOWN_KIDS = 1000;
const MIN_UNKNOWN_KID_TTL_MS = 30_000;

/**
 * The issuer's signing keys. Finds the keys for a token's `kid` and `alg`; when the kid is
 * unknown, refetches the set at most once per `cooldownMs` for all callers together, and
 * lets callers that arrive during the cooldown wait for the next allowed refetch rather
 * than fail, so a newly published key verifies on first sight while a flood of invented
 * kids costs the issuer one request per cooldown at most. Kids still unknown after a
 * refetch that started after they were asked for are refused at once for a while.
 */
export class JwksCache {
  private readonly resource: CachedResource<KeySet>;
  private lastUnknownKidRefetchAt = -Infinity;
  private cooldownSlot: Promise<void> | undefined;
  private readonly unknownKids = new Map<string, number>();
  private closed = false;
  private lastSelection:
    | { keys: readonly JwksKey[]; kid: string | undefined; alg: JwsAlgorithm; found: readonly JwksKey[] }
    | undefined;

  constructor(private readonly options: JwksCacheOptions) {
    this.resource = new CachedResource<KeySet>({
      load: (previous, hint) => this.load(previous, hint),
      now: options.now,
      staleIfErrorMs: options.staleIfErrorMs,
      failureBackoffMs: options.cooldownMs,
      onError: (error, servingStale) => options.emit({ type: 'jwks_failed', error, servingStale }),
    });
  }

  /** Fetches the set unless a fresh one is cached. */
  async warmup(): Promise<void> {
    await this.resource.get();
    this.startRefreshAhead();
  }

  /** Stops the background refresh for good; the cache keeps serving and fetching on demand. */
  close(): void {
    this.closed = true;
    this.resource.stopRefreshAhead();
  }

  /** The current set with its times, as JSON, for a snapshot. */
  exportKeySet(): StoredKeySet | undefined {
    const entry = this.resource.current;
    return entry && encodeKeySet(entry.value, entry.fetchStartedAt, entry.freshUntil);
  }

  /** Starts from a set saved earlier (already checked by `decodeKeySet`), unless it is stale. */
  restoreKeySet(saved: DecodedKeySet): boolean {
    const freshForMs = saved.freshUntil - this.options.now();
    if (freshForMs <= 0) return false;
    this.resource.restore({
      value: saved.set,
      fetchStartedAt: saved.fetchedAt,
      freshUntil: saved.freshUntil,
    });
    this.options.emit({
      type: 'jwks_loaded',
      url: saved.set.uri,
      source: 'snapshot',
      kids: kidsOf(saved.set),
      freshForMs,
    });
    this.startRefreshAhead();
    return true;
  }

  private startRefreshAhead(): void {
    if (this.options.refreshAhead && !this.closed) this.resource.startRefreshAhead();
  }

  /** The current key set, if one was fetched. */
  get keySet(): KeySet | undefined {
    return this.resource.current?.value;
  }

  /**
   * The keys for this `kid` and `alg` from a fresh set in hand, without a promise: the warm
   * path. `undefined` when that needs the network or a refusal; {@link keysFor} decides then.
   * The last answer is kept for the next token, which most likely names the same kid.
   */
  freshKeysFor(kid: string | undefined, alg: JwsAlgorithm): readonly JwksKey[] | undefined {
    const entry = this.resource.fresh;
    if (entry === undefined) return undefined;
    const keys = entry.value.keys;
    const last = this.lastSelection;
    if (last !== undefined && last.keys === keys && last.kid === kid && last.alg === alg) return last.found;
    const found = selectKeys(keys, kid, alg);
    if (!found.length) return undefined;
    this.lastSelection = { keys, kid, alg, found };
    return found;
  }

  /**
   * The keys that may verify a token with this `kid` and `alg` (several only when the issuer
   * publishes duplicate kids). Rejects with `ERR_KEY_NOT_FOUND` or `ERR_ISSUER_UNAVAILABLE`.
   */
  async keysFor(kid: string | undefined, alg: JwsAlgorithm): Promise<JwksKey[]> {
    // Counted, not timed: with a coarse or frozen clock, a fetch in the same millisecond
    // as the token may still predate the key the token names.
    const askedAfter = this.resource.startedCount;
    const askedAt = this.options.now();
    const { value: set } = await this.resource.get();
    const found = selectKeys(set.keys, kid, alg);
    if (found.length) return found;
    if (kid === undefined) {
      throw noKidMatch(set.keys.filter((key) => keyFitsAlgorithm(key.jwk, alg)).length, alg);
    }
    if (set.keys.some((key) => key.kid === kid)) throw kidDoesNotFit(kid, alg);
    if (this.isRememberedUnknown(kid)) throw unknownKid(kid, set);

    const refreshed = await this.refetchCovering(askedAfter, askedAt);
    const afterRefetch = selectKeys(refreshed.keys, kid, alg);
    if (afterRefetch.length) return afterRefetch;
    if (refreshed.keys.some((key) => key.kid === kid)) throw kidDoesNotFit(kid, alg);
    this.rememberUnknown(kid);
    throw unknownKid(kid, refreshed);
  }

  /**
   * A key set fetched by a request that started after the `fetchesStarted`-th one, so it
   * reflects any key the issuer published before the token being checked arrived. Joins a
   * request under way when that one qualifies; otherwise refetches when the unknown-kid
   * cooldown allows, or waits for the moment it does.
   */
  private async refetchCovering(fetchesStarted: number, askedAt: number): Promise<KeySet> {
    for (;;) {
      const inflightOrdinal = this.resource.inflightOrdinal;
      if (inflightOrdinal !== undefined) {
        if (inflightOrdinal > fetchesStarted) return (await this.resource.refresh()).value;
        await this.resource.refresh().catch(() => undefined);
        continue;
      }
      const current = this.resource.current;
      if (current && this.resource.currentOrdinal > fetchesStarted) return current.value;
      this.resource.throwIfBackingOff();
      const now = this.options.now();
      if (now >= this.lastUnknownKidRefetchAt + this.options.cooldownMs) {
        this.lastUnknownKidRefetchAt = now;
        // A shared store's copy must be as recent as the token (other instances' clocks).
        return (await this.resource.refresh({ notBefore: askedAt })).value;
      }
      await this.waitForCooldown(this.lastUnknownKidRefetchAt + this.options.cooldownMs - now);
    }
  }

  private waitForCooldown(delayMs: number): Promise<void> {
    this.cooldownSlot ??= new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => {
      this.cooldownSlot = undefined;
      // The timer measured the cooldown; a clock that did not move with it (an injected
      // `now`) must not keep the waiters waiting.
      this.lastUnknownKidRefetchAt = -Infinity;
    });
    return this.cooldownSlot;
  }

  private isRememberedUnknown(kid: string): boolean {
    const until = this.unknownKids.get(kid);
    if (until === undefined) return false;
    if (this.options.now() < until) return true;
    this.unknownKids.delete(kid);
    return false;
  }

  private rememberUnknown(kid: string): void {
    this.unknownKids.delete(kid);
    if (this.unknownKids.size >= MAX_REMEMBERED_UNKNOWN_KIDS) {
      const oldest = this.unknownKids.keys().next().value;
      if (oldest !== undefined) this.unknownKids.delete(oldest);
    }
    const ttl = Math.max(this.options.cooldownMs, MIN_UNKNOWN_KID_TTL_MS);
    this.unknownKids.set(kid, this.options.now() + ttl);
  }

  private async load(
    previous: CachedEntry<KeySet> | undefined,
    hint: LoadHint | undefined,
  ): Promise<LoadedKeySet> {
    const uri = await this.options.jwksUri();
    const { store, http } = this.options;
    const loaded = store
      ? await loadKeySetThroughStore({
          store,
          uri,
          previous: previous && { value: previous.value, fetchedAt: previous.fetchStartedAt },
          notBefore: hint?.notBefore,
          now: this.options.now,
          maxAgeMs: this.options.freshness.maxAgeMs,
          allowInsecureHttp: http.allowInsecureHttp,
          ...storeTimings(http.timeoutMs),
          emit: this.options.emit,
          fetch: (validators) => this.fetchFromIssuer(uri, validators),
        })
      : await this.fetchFromIssuer(uri, previous?.value);
    if (previous) {
      this.reportRotation(previous.value, loaded.value);
      loaded.value = { ...loaded.value, keys: keepUnchangedKeys(previous.value.keys, loaded.value.keys) };
    }
    return loaded;
  }

  private reportRotation(previous: KeySet, next: KeySet): void {
    if (next === previous) return;
    const kids = kidsOf(next);
    const before = new Set(kidsOf(previous));
    const after = new Set(kids);
    const added = kids.filter((kid) => !before.has(kid));
    const removed = [...before].filter((kid) => !after.has(kid));
    if (added.length || removed.length) this.options.emit({ type: 'key_rotated', added, removed });
  }

  private async fetchFromIssuer(
    uri: string,
    previous: KeySet | undefined,
  ): Promise<{ value: KeySet; freshForMs: number }> {
    const conditional: Record<string, string> = {};
    if (previous?.uri === uri) {
      if (previous.etag) conditional['if-none-match'] = previous.etag;
      if (previous.lastModified) conditional['if-modified-since'] = previous.lastModified;
    }
    const response = await requestJson(uri, this.options.http, { headers: conditional });
    const freshForMs = freshnessMs(response.headers, this.options.freshness);
    if (response.status === 304 && previous) {
      this.options.emit({ type: 'jwks_revalidated', url: uri, freshForMs });
      return { value: previous, freshForMs };
    }
    const read = readJwks(response.body);
    if (!read) {
      throw new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', `${uri} did not return a JWKS (no "keys" array)`, {
        details: { url: uri, issuerStatus: response.status },
      });
    }
    for (const skipped of read.skipped) this.options.emit({ type: 'key_skipped', url: uri, ...skipped });
    const value: KeySet = {
      uri,
      keys: read.keys,
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
    };
    this.options.emit({ type: 'jwks_fetched', url: uri, kids: kidsOf(value), freshForMs });
    return { value, freshForMs };
  }
}

/**
 * The new set's keys, with each key the issuer still publishes exactly as before replaced
 * by the object already held: imported keys are cached per object, so a refetch that
 * brings nothing new imports nothing again.
 */
function keepUnchangedKeys(before: readonly JwksKey[], after: readonly JwksKey[]): readonly JwksKey[] {
  if (before === after) return after;
  const held = new Map(before.map((key) => [keyIdentity(key), key]));
  return after.map((key) => held.get(keyIdentity(key)) ?? key);
}

function describeSet(set: KeySet): string {
  const kids = set.keys.map((key) => (key.kid === undefined ? NO_KID_LABEL : JSON.stringify(key.kid)));
  return kids.length
    ? `its kids are ${kids.slice(0, 10).join(', ')}${kids.length > 10 ? ', ...' : ''}`
    : 'it has no usable keys';
}

function unknownKid(kid: string, set: KeySet): JwtVerifyError {
  return new JwtVerifyError(
    'ERR_KEY_NOT_FOUND',
    `no key with kid ${JSON.stringify(kid)} in the issuer's JWKS (${set.uri}), even after refetching it; ${describeSet(set)}`,
  );
}

function kidDoesNotFit(kid: string, alg: JwsAlgorithm): JwtVerifyError {
  return new JwtVerifyError(
    'ERR_KEY_NOT_FOUND',
    `the key with kid ${JSON.stringify(kid)} cannot verify ${alg}: its kty, curve, alg, use or key_ops do not fit`,
  );
}

function noKidMatch(fitting: number, alg: JwsAlgorithm): JwtVerifyError {
  return new JwtVerifyError(
    'ERR_KEY_NOT_FOUND',
    `the token has no kid, and a key is chosen without one only when exactly one key of the JWKS fits ${alg}; ${fitting} do`,
  );
}

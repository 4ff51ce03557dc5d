/** The issuer's signing keys: found by kid and alg, refetched on rotation, never in a storm. */
import type { JwsAlgorithm } from '../token/algorithms.js';
import { type CachedEntry, CachedResource, type LoadHint } from '../issuer/cached-resource.js';
import { JwtVerifyError } from '../errors.js';
import type { VerifierEvent } from '../events.js';
import { type FreshnessBounds, freshnessMs } from '../issuer/freshness.js';
import { type ResolvedHttpOptions, requestJson } from '../issuer/http.js';
import { type JwksKey, keyFitsAlgorithm, keyIdentity, readJwks, selectKeys } from '../token/jwk.js';
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
import { loadKeySetThroughStore } from './shared-key-set.js';
import {
  MAX_WAITING_CALLS,
  MAX_WAITING_UNKNOWN_KIDS,
  MIN_UNKNOWN_KID_TTL_MS,
  RefetchWaiters,
  RememberedUnknownKids,
  type WaitRefusal,
} from './unknown-kids.js';

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

/**
 * The issuer's signing keys. Finds the keys for a token's `kid` and `alg`; when the kid is
 * unknown, refetches the set at most once per `cooldownMs` for all callers together, and
 * lets callers that arrive during the cooldown wait for the next allowed refetch rather
 * than fail, so a newly published key verifies on first sight while a flood of invented
 * kids costs the issuer one request per cooldown at most. Only a few distinct kids (and a
 * bounded number of calls) wait at once; the others are refused at once, so a flood holds
 * no more than that. Kids still unknown after a refetch that started after they were asked
 * for are refused at once for a while.
 */
export class JwksCache {
  private readonly resource: CachedResource<KeySet>;
  private lastUnknownKidRefetchAt = -Infinity;
  private cooldownSlot: Promise<void> | undefined;
  private readonly unknownKids: RememberedUnknownKids;
  private readonly waiters = new RefetchWaiters();
  private closed = false;
  private lastSelection:
    | { keys: readonly JwksKey[]; kid: string | undefined; alg: JwsAlgorithm; found: readonly JwksKey[] }
    | undefined;

  constructor(private readonly options: JwksCacheOptions) {
    this.unknownKids = new RememberedUnknownKids(
      Math.max(options.cooldownMs, MIN_UNKNOWN_KID_TTL_MS),
      options.now,
    );
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
    return entry && encodeKeySet(entry.value, entry.fetchedAt, entry.freshUntil);
  }

  /** Starts from a set saved earlier (already checked by `decodeKeySet`), unless it is stale. */
  restoreKeySet(saved: DecodedKeySet): boolean {
    const freshForMs = saved.freshUntil - this.options.now();
    if (freshForMs <= 0) return false;
    this.resource.restore({
      value: saved.set,
      fetchedAt: saved.fetchedAt,
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
    const askedAfter = this.resource.fetchCount;
    const askedAt = this.options.now();
    const { value: set } = await this.resource.get();
    const found = selectKeys(set.keys, kid, alg);
    if (found.length) return found;
    if (kid === undefined) {
      throw noKidMatch(set.keys.filter((key) => keyFitsAlgorithm(key.jwk, alg)).length, alg);
    }
    if (set.keys.some((key) => key.kid === kid)) throw kidDoesNotFit(kid, alg);
    if (this.unknownKids.has(kid)) throw unknownKid(kid, set);

    const refreshed = await this.refetchCovering(kid, askedAfter, askedAt, set);
    const afterRefetch = selectKeys(refreshed.keys, kid, alg);
    if (afterRefetch.length) return afterRefetch;
    if (refreshed.keys.some((key) => key.kid === kid)) throw kidDoesNotFit(kid, alg);
    this.unknownKids.add(kid);
    throw unknownKid(kid, refreshed);
  }

  /**
   * A key set fetched by a request that started after the `askedAfter`-th one, so it
   * reflects any key the issuer published before the token being checked arrived: the set
   * in hand or the request under way when either qualifies; otherwise a refetch when the
   * unknown-kid cooldown allows, waited for until it does. Refused at once, with the set
   * in hand, when too many calls wait already ({@link RefetchWaiters}).
   */
  private refetchCovering(
    kid: string,
    askedAfter: number,
    askedAt: number,
    inHand: KeySet,
  ): KeySet | Promise<KeySet> {
    // Counted before asking, so that no call is ever held uncounted; one that finds its
    // set in hand leaves again before any other call runs.
    const refusal = this.waiters.enter(kid);
    if (refusal !== undefined) throw refetchRefused(kid, inHand, refusal);
    const covering = this.resource.fetchedAfter(askedAfter, () => this.unknownKidRefetch(askedAt));
    if (!(covering instanceof Promise)) {
      this.waiters.leave(kid);
      return covering.value;
    }
    return this.untilCovered(covering, askedAfter, askedAt).finally(() => this.waiters.leave(kid));
  }

  private async untilCovered(
    first: Promise<CachedEntry<KeySet> | undefined>,
    askedAfter: number,
    askedAt: number,
  ): Promise<KeySet> {
    let covering = await first;
    while (covering === undefined) {
      await this.waitForCooldown();
      covering = await this.resource.fetchedAfter(askedAfter, () => this.unknownKidRefetch(askedAt));
    }
    return covering.value;
  }

  /** The hint for a refetch caused by an unknown kid, when the cooldown allows one now. */
  private unknownKidRefetch(askedAt: number): LoadHint | undefined {
    const now = this.options.now();
    if (now < this.lastUnknownKidRefetchAt + this.options.cooldownMs) return undefined;
    this.lastUnknownKidRefetchAt = now;
    // A shared store's copy must be as recent as the token (other instances' clocks).
    return { notBefore: askedAt };
  }

  /** Until the cooldown since the last unknown-kid refetch is over; one timer for all waiters. */
  private waitForCooldown(): Promise<void> {
    const delayMs = this.lastUnknownKidRefetchAt + this.options.cooldownMs - this.options.now();
    this.cooldownSlot ??= new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, delayMs))).then(
      () => {
        this.cooldownSlot = undefined;
        // The timer measured the cooldown; a clock that did not move with it (an injected
        // `now`) must not keep the waiters waiting.
        this.lastUnknownKidRefetchAt = -Infinity;
      },
    );
    return this.cooldownSlot;
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
          previous,
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

function refetchRefused(kid: string, set: KeySet, refusal: WaitRefusal): JwtVerifyError {
  const waiting =
    refusal === 'kids'
      ? `${MAX_WAITING_UNKNOWN_KIDS} other unknown kids`
      : `${MAX_WAITING_CALLS} tokens with unknown kids`;
  return new JwtVerifyError(
    'ERR_KEY_NOT_FOUND',
    `no key with kid ${JSON.stringify(kid)} in the issuer's JWKS (${set.uri}), and it is not refetched for this token: too many unknown kids are waiting for the next refetch (${waiting} already, the most that may wait at once); ${describeSet(set)}`,
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

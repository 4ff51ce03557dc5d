/** A fetched document kept while fresh: single flight, stale-if-error, failure backoff, refresh ahead. */
import { JwtVerifyError } from '../errors.js';

/** A fetched value with the times that govern its reuse (milliseconds since the epoch). */
export interface CachedEntry<T> {
  value: T;
  /** When the request that produced it started: it reflects the server's state from then on. */
  fetchedAt: number;
  freshUntil: number;
}

/** What a caller of `refresh` tells the load, e.g. the time a token that needs new keys arrived. */
export interface LoadHint {
  notBefore?: number;
}

export interface CachedResourceOptions<T> {
  /**
   * Fetches the value; gets the current entry for conditional requests. `fetchedAt` says
   * when the request behind the value started, when that is not now (a copy shared by
   * another instance).
   */
  load: (
    previous: CachedEntry<T> | undefined,
    hint: LoadHint | undefined,
  ) => Promise<{ value: T; freshForMs: number; fetchedAt?: number }>;
  now: () => number;
  /** How long past freshness a value still serves while refetching fails. */
  staleIfErrorMs: number;
  /** After a failure with a value in hand, how long to serve it before asking again. */
  failureBackoffMs: number;
  onError?: (error: JwtVerifyError, servingStale: boolean) => void;
}

/** Refresh ahead at a random point between these fractions of a value's lifetime. */
const REFRESH_AHEAD_FROM = 0.8;
const REFRESH_AHEAD_TO = 0.9;
/**
 * Background retries after failures back off from this, doubling up to the cap; it is also
 * the least time between two background refreshes, whatever lifetime a server gives.
 */
const REFRESH_RETRY_MIN_MS = 1000;
const REFRESH_RETRY_MAX_MS = 300_000;

/**
 * One remote document, cached: concurrent callers share a single in-flight request, a
 * fresh value is served without network, a stale one is refetched, and when refetching
 * fails the stale value keeps serving for `staleIfErrorMs`. A failed fetch is not
 * retried before the server's `Retry-After`, nor (while a value is in hand) before
 * `failureBackoffMs`; with nothing in hand, repeated failures back off from 1 s up to
 * `failureBackoffMs`. So an outage is not answered with a request per caller.
 */
export class CachedResource<T> {
  private entry: CachedEntry<T> | undefined;
  private entryOrdinal = 0;
  private inflight: { promise: Promise<CachedEntry<T>>; ordinal: number } | undefined;
  private fetchesStarted = 0;
  private retryNotBefore = -Infinity;
  private consecutiveFailures = 0;
  private lastError: JwtVerifyError | undefined;
  private ahead: { timer: ReturnType<typeof setTimeout> | undefined; failures: number } | undefined;

  constructor(private readonly options: CachedResourceOptions<T>) {}

  /** The value in hand while it is fresh: what {@link get} would resolve to without a request. */
  get fresh(): CachedEntry<T> | undefined {
    const entry = this.entry;
    return entry && this.options.now() < entry.freshUntil ? entry : undefined;
  }

  get current(): CachedEntry<T> | undefined {
    return this.entry;
  }

  /**
   * How many fetches have started so far: read it when a caller arrives, and
   * {@link fetchedAfter} finds only fetches that started after that moment, however coarse
   * (or frozen) the clock is.
   */
  get fetchCount(): number {
    return this.fetchesStarted;
  }

  /**
   * A value from a fetch that started after the `count`-th one (a {@link fetchCount} read
   * earlier). Synchronously the entry in hand when such a fetch produced it. Otherwise a
   * promise: of the fetch under way when it started after; else, once no earlier fetch is
   * under way, of a fetch started now with the hint `start()` returns, or of `undefined`
   * when `start()` returns `undefined` (the caller may not fetch yet and asks again later).
   * While a failed fetch must not be retried, rejects with its error instead of starting one.
   */
  fetchedAfter(
    count: number,
    start: () => LoadHint | undefined,
  ): CachedEntry<T> | Promise<CachedEntry<T> | undefined> {
    const entry = this.entry;
    if (entry && this.entryOrdinal > count) return entry;
    return this.fetchAfter(count, start);
  }

  private async fetchAfter(
    count: number,
    start: () => LoadHint | undefined,
  ): Promise<CachedEntry<T> | undefined> {
    for (;;) {
      if (this.entry && this.entryOrdinal > count) return this.entry;
      const inflight = this.inflight;
      if (inflight === undefined) break;
      if (inflight.ordinal > count) return inflight.promise;
      // Started too early to tell: let it settle, whatever its outcome, and look again.
      await inflight.promise.catch(() => undefined);
    }
    this.throwIfBackingOff();
    const hint = start();
    return hint === undefined ? undefined : this.refresh(hint);
  }

  /** A fresh value, fetched if need be; a stale one while the server fails. */
  async get(): Promise<CachedEntry<T>> {
    const entry = this.entry;
    if (entry && this.options.now() < entry.freshUntil) return entry;
    if (
      this.ahead &&
      entry &&
      this.lastError &&
      this.options.now() < entry.freshUntil + this.options.staleIfErrorMs
    ) {
      // Warm and the server failing: serve the value in hand and let the background retry
      // bring the next one, rather than hold requests on a server that is down.
      if (!this.inflight && this.options.now() >= this.retryNotBefore) this.refresh().catch(() => undefined);
      return entry;
    }
    try {
      this.throwIfBackingOff();
      return await this.refresh();
    } catch (error) {
      if (entry && this.options.now() < entry.freshUntil + this.options.staleIfErrorMs) return entry;
      throw error;
    }
  }

  /** Rejects at once, without a request, while a failed fetch must not be retried. */
  private throwIfBackingOff(): void {
    if (this.lastError && this.options.now() < this.retryNotBefore) throw this.lastError;
  }

  /** Fetches now, or joins the fetch under way. */
  refresh(hint?: LoadHint): Promise<CachedEntry<T>> {
    if (this.inflight) return this.inflight.promise;
    const startedAt = this.options.now();
    const ordinal = ++this.fetchesStarted;
    const promise = this.fetch(startedAt, ordinal, hint).finally(() => {
      this.inflight = undefined;
    });
    this.inflight = { promise, ordinal };
    return promise;
  }

  /**
   * Keeps the value fresh in the background from now on: refetches (conditionally) at 80–90%
   * of each value's lifetime, and after a failure retries with a growing backoff. The timer
   * is `unref`ed, so it never keeps a process alive. Idempotent.
   */
  startRefreshAhead(): void {
    if (this.ahead) return;
    this.ahead = { timer: undefined, failures: 0 };
    this.scheduleRefreshAhead();
  }

  /** Stops the background refresh (a request under way completes). */
  stopRefreshAhead(): void {
    if (this.ahead?.timer !== undefined) clearTimeout(this.ahead.timer);
    this.ahead = undefined;
  }

  /** Takes a value obtained elsewhere (a snapshot) unless a newer one is in hand. */
  restore(entry: CachedEntry<T>): void {
    if (this.entry && this.entry.fetchedAt >= entry.fetchedAt) return;
    this.entry = entry;
    this.scheduleRefreshAhead();
  }

  private scheduleRefreshAhead(): void {
    const ahead = this.ahead;
    const entry = this.entry;
    if (!ahead || !entry) return;
    if (ahead.timer !== undefined) clearTimeout(ahead.timer);
    const now = this.options.now();
    let at: number;
    if (ahead.failures > 0) {
      const backoff = Math.min(REFRESH_RETRY_MIN_MS * 2 ** (ahead.failures - 1), REFRESH_RETRY_MAX_MS);
      at = Math.max(this.retryNotBefore, now + Math.max(backoff, this.options.failureBackoffMs));
    } else {
      const lifetime = Math.max(0, entry.freshUntil - entry.fetchedAt);
      // Jittered, so the instances of a fleet do not all ask at the same moment.
      const fraction = REFRESH_AHEAD_FROM + (REFRESH_AHEAD_TO - REFRESH_AHEAD_FROM) * Math.random();
      at = Math.max(entry.fetchedAt + lifetime * fraction, now + REFRESH_RETRY_MIN_MS);
    }
    const timer = setTimeout(
      () => {
        ahead.timer = undefined;
        // Failures are reported through onError and rescheduled by fetch.
        this.refresh().catch(() => undefined);
      },
      Math.max(0, at - now),
    );
    (timer as { unref?: () => void }).unref?.();
    ahead.timer = timer;
  }

  private async fetch(
    startedAt: number,
    ordinal: number,
    hint: LoadHint | undefined,
  ): Promise<CachedEntry<T>> {
    const previous = this.entry;
    try {
      const { value, freshForMs, fetchedAt } = await this.options.load(previous, hint);
      const entry = {
        value,
        fetchedAt: fetchedAt ?? startedAt,
        freshUntil: this.options.now() + freshForMs,
      };
      // A slower, older response never replaces a newer one.
      if (ordinal > this.entryOrdinal) {
        this.entry = entry;
        this.entryOrdinal = ordinal;
      }
      this.lastError = undefined;
      this.consecutiveFailures = 0;
      if (this.ahead) {
        this.ahead.failures = 0;
        this.scheduleRefreshAhead();
      }
      return entry;
    } catch (thrown) {
      const error =
        thrown instanceof JwtVerifyError
          ? thrown
          : new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', `fetching failed: ${String(thrown)}`, {
              cause: thrown,
            });
      const retryAfterMs = (error.details.retryAfterSeconds ?? 0) * 1000;
      const failures = ++this.consecutiveFailures;
      // With nothing in hand the first failure is retried on the next call (the issuer may
      // be back already); repeated ones wait 1 s, 2 s, 4 s… up to failureBackoffMs, so a
      // cold outage is not answered with a request per caller either.
      const coldBackoffMs =
        failures < 2
          ? 0
          : Math.min(REFRESH_RETRY_MIN_MS * 2 ** (failures - 2), this.options.failureBackoffMs);
      const backoffMs = Math.max(retryAfterMs, previous ? this.options.failureBackoffMs : coldBackoffMs);
      this.retryNotBefore = this.options.now() + backoffMs;
      this.lastError = error;
      const servingStale =
        previous !== undefined && this.options.now() < previous.freshUntil + this.options.staleIfErrorMs;
      this.options.onError?.(error, servingStale);
      if (this.ahead) {
        this.ahead.failures += 1;
        this.scheduleRefreshAhead();
      }
      throw error;
    }
  }
}

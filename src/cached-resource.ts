import { JwtVerifyError } from './errors.js';

/** A fetched value with the times that govern its reuse (milliseconds since the epoch). */
export interface CachedEntry<T> {
  value: T;
  /** When the request that produced it started: it reflects the server's state from then on. */
  fetchStartedAt: number;
  freshUntil: number;
}

export interface CachedResourceOptions<T> {
  /** Fetches the value; gets the current entry for conditional requests. */
  load: (previous: CachedEntry<T> | undefined) => Promise<{ value: T; freshForMs: number }>;
  now: () => number;
  /** How long past freshness a value still serves while refetching fails. */
  staleIfErrorMs: number;
  /** After a failure with a value in hand, how long to serve it before asking again. */
  failureBackoffMs: number;
  onError?: (error: JwtVerifyError, servingStale: boolean) => void;
}

/**
 * One remote document, cached: concurrent callers share a single in-flight request, a
 * fresh value is served without network, a stale one is refetched, and when refetching
 * fails the stale value keeps serving for `staleIfErrorMs`. A failed fetch is not
 * retried before the server's `Retry-After`, nor (while a value is in hand) before
 * `failureBackoffMs`, so an outage is not answered with a request per caller.
 */
export class CachedResource<T> {
  private entry: CachedEntry<T> | undefined;
  private entryOrdinal = 0;
  private inflight: { promise: Promise<CachedEntry<T>>; startedAt: number; ordinal: number } | undefined;
  private fetchesStarted = 0;
  private retryNotBefore = -Infinity;
  private lastError: JwtVerifyError | undefined;

  constructor(private readonly options: CachedResourceOptions<T>) {}

  get current(): CachedEntry<T> | undefined {
    return this.entry;
  }

  /** When the request under way started, if one is. */
  get inflightStartedAt(): number | undefined {
    return this.inflight?.startedAt;
  }

  /**
   * How many fetches have started so far. A fetch whose ordinal is above the count read at
   * some moment started after that moment, however coarse (or frozen) the clock is.
   */
  get startedCount(): number {
    return this.fetchesStarted;
  }

  /** The ordinal of the fetch under way, if one is (1 for the first fetch). */
  get inflightOrdinal(): number | undefined {
    return this.inflight?.ordinal;
  }

  /** The ordinal of the fetch that produced the current value (0 when none did). */
  get currentOrdinal(): number {
    return this.entryOrdinal;
  }

  /** A fresh value, fetched if need be; a stale one while the server fails. */
  async get(): Promise<CachedEntry<T>> {
    const entry = this.entry;
    if (entry && this.options.now() < entry.freshUntil) return entry;
    try {
      this.throwIfBackingOff();
      return await this.refresh();
    } catch (error) {
      if (entry && this.options.now() < entry.freshUntil + this.options.staleIfErrorMs) return entry;
      throw error;
    }
  }

  /** Rejects at once, without a request, while a failed fetch must not be retried. */
  throwIfBackingOff(): void {
    if (this.lastError && this.options.now() < this.retryNotBefore) throw this.lastError;
  }

  /** Fetches now, or joins the fetch under way. */
  refresh(): Promise<CachedEntry<T>> {
    if (this.inflight) return this.inflight.promise;
    const startedAt = this.options.now();
    const ordinal = ++this.fetchesStarted;
    const promise = this.fetch(startedAt, ordinal).finally(() => {
      this.inflight = undefined;
    });
    this.inflight = { promise, startedAt, ordinal };
    return promise;
  }

  private async fetch(startedAt: number, ordinal: number): Promise<CachedEntry<T>> {
    const previous = this.entry;
    try {
      const { value, freshForMs } = await this.options.load(previous);
      const entry = { value, fetchStartedAt: startedAt, freshUntil: this.options.now() + freshForMs };
      // A slower, older response never replaces a newer one.
      if (ordinal > this.entryOrdinal) {
        this.entry = entry;
        this.entryOrdinal = ordinal;
      }
      this.lastError = undefined;
      return entry;
    } catch (thrown) {
      const error =
        thrown instanceof JwtVerifyError
          ? thrown
          : new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', `fetching failed: ${String(thrown)}`, {
              cause: thrown,
            });
      const retryAfterMs = (error.details.retryAfterSeconds ?? 0) * 1000;
      const backoffMs = Math.max(retryAfterMs, previous ? this.options.failureBackoffMs : 0);
      this.retryNotBefore = this.options.now() + backoffMs;
      this.lastError = error;
      const servingStale =
        previous !== undefined && this.options.now() < previous.freshUntil + this.options.staleIfErrorMs;
      this.options.onError?.(error, servingStale);
      throw error;
    }
  }
}

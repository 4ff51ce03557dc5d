// CachedResource on its own: single flight, freshness, stale-if-error, failure backoff,
// refresh ahead, restore, and "a value from a fetch that started after N". The load is a
// counted function the test answers; time is vitest's fake clock (setTimeout and Date, read
// through the `now` option), so nothing sleeps.
import { rejectionCode } from '../support/rejections.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifyError } from '../../src/errors.js';
import {
  type CachedEntry,
  CachedResource,
  type CachedResourceOptions,
  type LoadHint,
} from '../../src/issuer/cached-resource.js';

const FRESH_MS = 60_000;
const STALE_IF_ERROR_MS = 120_000;
const BACKOFF_MS = 5000;

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

interface Call {
  previous: CachedEntry<string> | undefined;
  hint: LoadHint | undefined;
  answer(value: string, freshForMs?: number): void;
  fail(error: unknown): void;
}

/** A resource whose loads wait for the test to answer them, one {@link Call} each. */
function resource(options: Partial<CachedResourceOptions<string>> = {}) {
  const calls: Call[] = [];
  const errors: { error: JwtVerifyError; servingStale: boolean }[] = [];
  const cached = new CachedResource<string>({
    load: (previous, hint) =>
      new Promise((resolve, reject) => {
        calls.push({
          previous,
          hint,
          answer: (value, freshForMs = FRESH_MS) => resolve({ value, freshForMs }),
          fail: reject,
        });
      }),
    now: () => Date.now(),
    staleIfErrorMs: STALE_IF_ERROR_MS,
    failureBackoffMs: BACKOFF_MS,
    onError: (error, servingStale) => errors.push({ error, servingStale }),
    ...options,
  });
  return { cached, calls, errors };
}

/** Lets every promise chain run that can without time moving. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Fetches the first value and answers it. */
async function warm(cached: CachedResource<string>, calls: Call[], value = 'v1'): Promise<void> {
  const first = cached.get();
  await settle();
  calls.at(-1)!.answer(value);
  await first;
}

/** Warms with 'v1', lets it go stale, and fails the refresh that the next get() starts. */
async function warmThenFailRefresh(
  cached: CachedResource<string>,
  calls: Call[],
  error: Error,
): Promise<void> {
  await warm(cached, calls);
  await vi.advanceTimersByTimeAsync(FRESH_MS);
  const failing = cached.get();
  await settle();
  calls[1]!.fail(error);
  await failing;
}

describe('CachedResource: fetching', () => {
  it('shares one load among concurrent callers', async () => {
    const { cached, calls } = resource();
    const all = Array.from({ length: 20 }, () => cached.get());
    await settle();
    expect(calls).toHaveLength(1);
    calls[0]!.answer('v1');
    expect((await Promise.all(all)).map((entry) => entry.value)).toEqual(Array(20).fill('v1'));
  });

  it('serves a fresh value without a load, and loads again, with the previous entry, once it is stale', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    await vi.advanceTimersByTimeAsync(FRESH_MS - 1);
    expect(cached.fresh?.value).toBe('v1');
    expect((await cached.get()).value).toBe('v1');
    expect(calls).toHaveLength(1);

    await vi.advanceTimersByTimeAsync(1);
    expect(cached.fresh).toBeUndefined();
    const next = cached.get();
    await settle();
    expect(calls).toHaveLength(2);
    expect(calls[1]!.previous?.value).toBe('v1');
    calls[1]!.answer('v2');
    expect((await next).value).toBe('v2');
  });

  it('records when the request behind a value started, or the fetchedAt the load reports', async () => {
    const startedAt = Date.now();
    const { cached, calls } = resource();
    const first = cached.get();
    await vi.advanceTimersByTimeAsync(700);
    calls[0]!.answer('v1', 1000);
    expect(await first).toEqual({ value: 'v1', fetchedAt: startedAt, freshUntil: startedAt + 700 + 1000 });

    const shared = new CachedResource<string>({
      load: async () => ({ value: 'copy', freshForMs: 1000, fetchedAt: startedAt - 5000 }),
      now: () => Date.now(),
      staleIfErrorMs: 0,
      failureBackoffMs: 0,
    });
    expect((await shared.get()).fetchedAt).toBe(startedAt - 5000);
  });

  it('takes a restored value (a snapshot) only when it was fetched after the value in hand', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    const fetchedAt = cached.current!.fetchedAt;
    cached.restore({ value: 'older snapshot', fetchedAt: fetchedAt - 1, freshUntil: Date.now() + FRESH_MS });
    expect(cached.current?.value).toBe('v1');
    cached.restore({ value: 'newer snapshot', fetchedAt: fetchedAt + 1, freshUntil: Date.now() + FRESH_MS });
    expect(cached.current?.value).toBe('newer snapshot');
    expect((await cached.get()).value).toBe('newer snapshot');
    expect(calls).toHaveLength(1);
  });
});

describe('CachedResource: failures', () => {
  it('serves the stale value while loading fails, for staleIfErrorMs, and reports each failure', async () => {
    const { cached, calls, errors } = resource();
    await warm(cached, calls);
    await vi.advanceTimersByTimeAsync(FRESH_MS);
    const stale = cached.get();
    await settle();
    calls[1]!.fail(new Error('connection reset'));
    expect((await stale).value).toBe('v1');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.error.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(errors[0]!.error.message).toContain('connection reset');
    expect(errors[0]!.servingStale).toBe(true);

    await vi.advanceTimersByTimeAsync(STALE_IF_ERROR_MS);
    const tooStale = cached.get();
    await settle();
    calls[2]!.fail(new Error('still down'));
    expect(await rejectionCode(tooStale)).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(errors[1]!.servingStale).toBe(false);
  });

  it('does not load again before failureBackoffMs while a value is in hand', async () => {
    const { cached, calls } = resource();
    await warmThenFailRefresh(cached, calls, new Error('down'));
    await vi.advanceTimersByTimeAsync(BACKOFF_MS - 1);
    expect((await cached.get()).value).toBe('v1');
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    const retry = cached.get();
    await settle();
    expect(calls).toHaveLength(3);
    calls[2]!.answer('v2');
    expect((await retry).value).toBe('v2');
  });

  it("waits for the server's Retry-After before loading again", async () => {
    const { cached, calls } = resource();
    await warmThenFailRefresh(
      cached,
      calls,
      new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', 'busy', { details: { retryAfterSeconds: 30 } }),
    );
    await vi.advanceTimersByTimeAsync(29_999);
    await cached.get();
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    void cached.get();
    await settle();
    expect(calls).toHaveLength(3);
  });

  it('retries a cold failure on the next call, then backs off 1 s, 2 s, 4 s up to failureBackoffMs', async () => {
    const { cached, calls } = resource();
    const failNext = async () => {
      const attempt = cached.get();
      await settle();
      calls.at(-1)!.fail(new Error('down'));
      return rejectionCode(attempt);
    };
    expect(await failNext()).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(await failNext()).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(calls).toHaveLength(2);
    for (const waitMs of [1000, 2000, 4000, BACKOFF_MS, BACKOFF_MS]) {
      await vi.advanceTimersByTimeAsync(waitMs - 1);
      // Inside the backoff: refused at once with the last error, no load.
      expect(await rejectionCode(cached.get())).toBe('ERR_ISSUER_UNAVAILABLE');
      const loads = calls.length;
      await vi.advanceTimersByTimeAsync(1);
      expect(await failNext()).toBe('ERR_ISSUER_UNAVAILABLE');
      expect(calls).toHaveLength(loads + 1);
    }
  });
});

describe('CachedResource: refresh ahead', () => {
  it('refreshes between 80 and 90 % of the lifetime, and after a failure retries with a growing backoff', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    cached.startRefreshAhead();
    await vi.advanceTimersByTimeAsync(FRESH_MS * 0.8 - 1);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(FRESH_MS * 0.1 + 1);
    expect(calls).toHaveLength(2);
    calls[1]!.fail(new Error('down'));
    await settle();
    // The value in hand keeps serving without a request while the background retries.
    await vi.advanceTimersByTimeAsync(BACKOFF_MS - 1);
    expect(calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(3);
    calls[2]!.answer('v2');
    await settle();
    expect(cached.current?.value).toBe('v2');
    cached.stopRefreshAhead();
    await vi.advanceTimersByTimeAsync(FRESH_MS * 10);
    expect(calls).toHaveLength(3);
  });
});

describe('CachedResource.fetchedAfter', () => {
  const never = () => undefined;

  it('answers synchronously with the value in hand when a fetch after the mark produced it', async () => {
    const { cached, calls } = resource();
    const mark = cached.fetchCount;
    await warm(cached, calls);
    const start = vi.fn(never);
    const answer = cached.fetchedAfter(mark, start);
    expect(answer).not.toBeInstanceOf(Promise);
    expect((answer as CachedEntry<string>).value).toBe('v1');
    expect(start).not.toHaveBeenCalled();
  });

  it('joins the fetch under way when it started after the mark', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    const mark = cached.fetchCount;
    const underWay = cached.refresh();
    const start = vi.fn(never);
    const answer = cached.fetchedAfter(mark, start);
    await settle();
    calls[1]!.answer('v2');
    await underWay;
    expect((await answer)?.value).toBe('v2');
    expect(start).not.toHaveBeenCalled();
    expect(calls).toHaveLength(2);
  });

  it('waits for a fetch under way that started before the mark, then starts one with the hint', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    const earlier = cached.refresh();
    const mark = cached.fetchCount;
    const answer = cached.fetchedAfter(mark, () => ({ notBefore: 42 }));
    await settle();
    expect(calls).toHaveLength(2);
    calls[1]!.answer('from before the mark');
    await earlier;
    await settle();
    expect(calls).toHaveLength(3);
    expect(calls[2]!.hint).toEqual({ notBefore: 42 });
    calls[2]!.answer('after the mark');
    expect((await answer)?.value).toBe('after the mark');
  });

  it('resolves to undefined without a fetch when start() does not allow one', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    expect(await cached.fetchedAfter(cached.fetchCount, never)).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('rejects with the last error, without asking start(), while a failure is backed off', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    const failing = cached.refresh();
    await settle();
    calls[1]!.fail(new Error('down'));
    await failing.catch(() => undefined);
    const start = vi.fn(() => ({}));
    expect(await rejectionCode(Promise.resolve(cached.fetchedAfter(cached.fetchCount, start)))).toBe(
      'ERR_ISSUER_UNAVAILABLE',
    );
    expect(start).not.toHaveBeenCalled();
    expect(calls).toHaveLength(2);
  });

  it('rejects with the error of a failing fetch it joined', async () => {
    const { cached, calls } = resource();
    await warm(cached, calls);
    const mark = cached.fetchCount;
    const underWay = cached.refresh();
    const answer = cached.fetchedAfter(mark, never);
    await settle();
    calls[1]!.fail(new Error('down'));
    await underWay.catch(() => undefined);
    expect(await rejectionCode(Promise.resolve(answer))).toBe('ERR_ISSUER_UNAVAILABLE');
  });
});

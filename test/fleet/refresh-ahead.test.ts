// Refresh ahead: once warm, the JWKS is revalidated in the background before it goes stale,
// so verify() never waits on the issuer. Time is vitest's fake clock (setTimeout and Date),
// the issuer is the stub behind msw; nothing sleeps.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions, MultiIssuerVerifier } from '../../src/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { EventLog, countingFetch, stubIssuersOnFakeClock } from './helpers.js';

const MAX_AGE_MS = 60_000;
const stubs = stubIssuersOnFakeClock({ issuer: 'https://refresh-ahead.test', audience: 'https://api.test' });
let issuer: TestIssuer;
beforeAll(() => {
  issuer = stubs[0]!;
});

function verifierFor(options: Partial<JwtVerifierOptions> = {}) {
  const log = new EventLog();
  const counter = countingFetch();
  const verifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: 'https://api.test',
    cache: { maxAgeMs: MAX_AGE_MS },
    fetch: counter.fetch,
    onEvent: log.listener,
    ...options,
  });
  return { verifier, log, counter };
}

describe('refresh ahead', () => {
  it('revalidates before the set goes stale, so no verify across ten lifetimes waits on a fetch', async () => {
    const { verifier, log, counter } = verifierFor();
    await verifier.warmup();
    const token = await issuer.sign({ sub: 'u' }, { expiresIn: 3600 });
    expect(issuer.requests.jwks).toBe(1);

    for (let second = 1; second <= (10 * MAX_AGE_MS) / 1000; second++) {
      await vi.advanceTimersByTimeAsync(1000);
      const before = counter.calls;
      const { payload } = await verifier.verify(token);
      expect(payload.sub).toBe('u');
      expect(counter.calls, `verify at ${second}s fetched`).toBe(before);
      if (second * 1000 === MAX_AGE_MS) {
        // The moment the first set would have gone stale, its refresh had already happened.
        expect(issuer.requests.jwks).toBe(2);
      }
    }
    // One revalidation per lifetime (at 80–90% of it), each answered 304 from the ETag.
    expect(issuer.requests.jwks).toBeGreaterThanOrEqual(11);
    expect(issuer.requests.jwks).toBeLessThanOrEqual(13);
    expect(log.of('jwks_fetched')).toHaveLength(1);
    expect(log.of('jwks_revalidated').length).toBe(issuer.requests.jwks - 1);
    verifier.close();
  });

  it('refreshes no earlier than 80% and no later than 90% of the lifetime', async () => {
    const { verifier } = verifierFor();
    await verifier.warmup();
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.8 - 1);
    expect(issuer.requests.jwks).toBe(1);
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.1 + 2);
    expect(issuer.requests.jwks).toBe(2);
    verifier.close();
  });

  it('keeps the keys on a 304 and sends the ETag it was given', async () => {
    const { verifier, log } = verifierFor();
    await verifier.warmup();
    const etag = verifier.exportCache().jwks?.etag;
    expect(etag).toMatch(/^".+"$/);
    const revalidated = log.next('jwks_revalidated');
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.9);
    await revalidated;
    expect(verifier.exportCache().jwks?.keys.map((key) => key.kid)).toEqual(
      issuer.keys.map((key) => key.kid),
    );
    expect(verifier.exportCache().jwks?.etag).toBe(etag);
    await expect(verifier.verify(await issuer.sign({ sub: 'u' }))).resolves.toBeDefined();
    expect(issuer.requests.jwks).toBe(2);
    verifier.close();
  });

  it('picks up keys published between two refreshes without a request on the verify path', async () => {
    const { verifier, log, counter } = verifierFor();
    await verifier.warmup();
    const [fresh] = await issuer.rotateKeys();
    const rotated = log.next('key_rotated');
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.9);
    expect((await rotated).added).toEqual([fresh!.kid]);
    const before = counter.calls;
    const { header } = await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(header.kid).toBe(fresh!.kid);
    expect(counter.calls).toBe(before);
    verifier.close();
  });

  it('reports background failures as events, never as unhandled rejections, and keeps verifying', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const { verifier, log } = verifierFor();
      await verifier.warmup();
      const token = await issuer.sign({ sub: 'u' });
      issuer.failNext('jwks', { status: 503, times: Infinity });
      const failed = log.next('jwks_failed');
      await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.9);
      expect((await failed).error.code).toBe('ERR_ISSUER_UNAVAILABLE');

      // Past freshness, with the issuer down: the known keys keep verifying.
      await vi.advanceTimersByTimeAsync(MAX_AGE_MS);
      await expect(verifier.verify(token)).resolves.toBeDefined();
      const failures = log.of('jwks_failed');
      expect(failures.length).toBeGreaterThan(1);
      expect(failures.every((event) => event.servingStale)).toBe(true);

      issuer.reset();
      const recovered = log.next('jwks_revalidated');
      await vi.advanceTimersByTimeAsync(5 * 60_000);
      expect((await recovered).freshForMs).toBe(MAX_AGE_MS);
      await vi.advanceTimersByTimeAsync(0);
      expect(unhandled).toEqual([]);
      verifier.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it("answers from the known keys at once while the issuer hangs past the set's freshness", async () => {
    const { verifier, counter } = verifierFor({ timeoutMs: 2 * 3_600_000 });
    await verifier.warmup();
    const token = await issuer.sign({ sub: 'u' });
    // The refresh fails; the retry after it hangs (longer than the test): past the set's
    // freshness, verify must not be waiting for it.
    issuer.failNext('jwks', { status: 503 });
    issuer.failNext('jwks', { delayMs: 3_600_000 });
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 1.9);
    // warm-up, the failed refresh, and the background retry that is still hanging
    expect(issuer.requests.jwks).toBe(3);
    const before = counter.calls;
    await expect(verifier.verify(token)).resolves.toBeDefined();
    expect(counter.calls).toBe(before);
    verifier.close();
  });

  it('refreshes at most once a second when the issuer forbids caching and minAgeMs is 0', async () => {
    issuer.failNext('jwks', {
      status: 200,
      body: issuer.jwks(),
      headers: { 'cache-control': 'no-store' },
      times: Infinity,
    });
    const { verifier } = verifierFor({ cache: { maxAgeMs: MAX_AGE_MS, minAgeMs: 0 } });
    await verifier.warmup();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(issuer.requests.jwks).toBeGreaterThanOrEqual(5);
    expect(issuer.requests.jwks).toBeLessThanOrEqual(11);
    verifier.close();
  });

  it('stops refreshing after close(), and then fetches on demand like a cold verifier', async () => {
    const { verifier } = verifierFor();
    await verifier.warmup();
    const timersBefore = vi.getTimerCount();
    verifier.close();
    expect(vi.getTimerCount()).toBe(timersBefore - 1);
    verifier.close();
    await vi.advanceTimersByTimeAsync(10 * MAX_AGE_MS);
    expect(issuer.requests.jwks).toBe(1);
    await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(issuer.requests.jwks).toBe(2);
    await verifier.warmup();
    await vi.advanceTimersByTimeAsync(10 * MAX_AGE_MS);
    expect(issuer.requests.jwks).toBe(2);
  });

  it("stops every issuer's refresh when a MultiIssuerVerifier is closed", async () => {
    const { verifier } = verifierFor();
    const multi = new MultiIssuerVerifier([verifier]);
    await multi.warmup();
    const timersBefore = vi.getTimerCount();
    multi.close();
    expect(vi.getTimerCount()).toBe(timersBefore - 1);
    await vi.advanceTimersByTimeAsync(10 * MAX_AGE_MS);
    expect(issuer.requests.jwks).toBe(1);
  });

  it('closes through Symbol.dispose, so a using declaration stops the timer', async () => {
    {
      const { verifier } = verifierFor();
      // Symbol.dispose is not in the declared type (see verifier.ts), but there at run time.
      using disposable = verifier as JwtVerifier & Disposable;
      await disposable.warmup();
      expect(issuer.requests.jwks).toBe(1);
    }
    await vi.advanceTimersByTimeAsync(10 * MAX_AGE_MS);
    expect(issuer.requests.jwks).toBe(1);
  });

  it('sets no timer on a verifier that was never warmed up, nor with refreshAhead: false', async () => {
    const lazy = verifierFor();
    await lazy.verifier.verify(await issuer.sign({ sub: 'u' }));
    const off = verifierFor({ cache: { maxAgeMs: MAX_AGE_MS, refreshAhead: false } });
    await off.verifier.warmup();
    expect(issuer.requests.jwks).toBe(2);
    await vi.advanceTimersByTimeAsync(10 * MAX_AGE_MS);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('refuses a refreshAhead that is not a boolean, at construction', () => {
    expect(() => verifierFor({ cache: { refreshAhead: 'yes' as never } })).toThrow(TypeError);
  });
});

// JwksCache on its own: single flight, freshness, stale-if-error, failure backoff, refresh
// ahead, the unknown-kid cooldown and the bounds on who may wait for a refetch. The issuer
// is an in-process fetch that counts requests; time is vitest's fake clock (setTimeout and
// Date, read through the `now` option), so nothing sleeps.
import { jwtRejection } from '../support/rejections.js';
import { type JWK, exportJWK, generateKeyPair } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifyError, type JwtVerifyErrorCode } from '../../src/errors.js';
import type { VerifierEvent } from '../../src/events.js';
import { resolveHttpOptions } from '../../src/issuer/verifier-http.js';
import { JwksCache, type JwksCacheOptions } from '../../src/keys/jwks-cache.js';
import type { JwksKey } from '../../src/token/jwk.js';
import {
  MAX_REMEMBERED_UNKNOWN_KIDS,
  MAX_WAITING_CALLS,
  MAX_WAITING_UNKNOWN_KIDS,
} from '../../src/keys/unknown-kids.js';

const JWKS_URI = 'https://issuer.test/jwks';
const MAX_AGE_MS = 60_000;
const COOLDOWN_MS = 5000;
const STALE_IF_ERROR_MS = 120_000;

let published: JWK[];
let spare: JWK[];

beforeAll(async () => {
  const keys = await Promise.all(
    ['k1', 'k2', 'k3', 'k4'].map(async (kid) => {
      const { publicKey } = await generateKeyPair('ES256', { extractable: true });
      return { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
    }),
  );
  published = keys.slice(0, 1);
  spare = keys.slice(1);
});

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/**
 * An issuer's JWKS endpoint: answers with the keys published when each request arrives,
 * counts requests, fails on demand, and holds its answers while `hold()` is in force.
 */
function jwksEndpoint(keys: JWK[]) {
  const endpoint = {
    keys: [...keys],
    requests: 0,
    failures: [] as number[],
    held: undefined as Promise<void> | undefined,
    /** Holds every answer from now on until the returned function is called. */
    hold(): () => void {
      let release!: () => void;
      endpoint.held = new Promise((resolve) => (release = resolve));
      return () => {
        endpoint.held = undefined;
        release();
      };
    },
    async fetch(): Promise<Response> {
      endpoint.requests++;
      const keys = [...endpoint.keys];
      const status = endpoint.failures.shift();
      if (endpoint.held) await endpoint.held;
      if (status !== undefined) return new Response('down', { status });
      return Response.json({ keys });
    },
  };
  return endpoint;
}

function cacheFor(endpoint: ReturnType<typeof jwksEndpoint>, options: Partial<JwksCacheOptions> = {}) {
  const events: VerifierEvent[] = [];
  const cache = new JwksCache({
    jwksUri: async () => JWKS_URI,
    http: resolveHttpOptions({ fetch: endpoint.fetch }),
    freshness: { maxAgeMs: MAX_AGE_MS, minAgeMs: 1000 },
    cooldownMs: COOLDOWN_MS,
    staleIfErrorMs: STALE_IF_ERROR_MS,
    now: () => Date.now(),
    emit: (event) => events.push(event),
    ...options,
  });
  return { cache, events };
}

/** A cache warmed up from a fresh endpoint publishing {@link published}. */
async function warmCache(options: Partial<JwksCacheOptions> = {}) {
  const endpoint = jwksEndpoint(published);
  const { cache, events } = cacheFor(endpoint, options);
  await cache.warmup();
  return { endpoint, cache, events };
}

/** A promise's outcome as it stands, for telling "refused at once" from "still waiting". */
function watch(promise: Promise<readonly JwksKey[]>) {
  const state: { settled: boolean; kid?: string; error?: unknown } = { settled: false };
  promise.then(
    (keys) => Object.assign(state, { settled: true, kid: keys[0]?.kid }),
    (error: unknown) => Object.assign(state, { settled: true, error }),
  );
  return state;
}

/** Lets every promise chain run that can without time moving (the fake clock stays put). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

function codeOf(error: unknown): JwtVerifyErrorCode | string {
  return error instanceof JwtVerifyError ? error.code : `not a JwtVerifyError: ${String(error)}`;
}

/** Starts the unknown-kid cooldown: one unknown kid, refetched at once and refused. */
async function startCooldown(cache: JwksCache): Promise<void> {
  const error = await jwtRejection(cache.keysFor('opening-kid', 'ES256'));
  expect(error.code).toBe('ERR_KEY_NOT_FOUND');
}

describe('JwksCache: fetching and freshness', () => {
  it('fetches the set once for concurrent callers on a cold start', async () => {
    const endpoint = jwksEndpoint(published);
    const { cache } = cacheFor(endpoint);
    const found = await Promise.all(Array.from({ length: 50 }, () => cache.keysFor('k1', 'ES256')));
    expect(found.every((keys) => keys[0]?.kid === 'k1')).toBe(true);
    expect(endpoint.requests).toBe(1);
  });

  it('answers from a fresh set without a request, and refetches once it is stale', async () => {
    const { endpoint, cache } = await warmCache();
    expect(cache.freshKeysFor('k1', 'ES256')?.[0]?.kid).toBe('k1');
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS - 1);
    expect(cache.freshKeysFor('k1', 'ES256')?.[0]?.kid).toBe('k1');
    expect(endpoint.requests).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(cache.freshKeysFor('k1', 'ES256')).toBeUndefined();
    expect((await cache.keysFor('k1', 'ES256'))[0]?.kid).toBe('k1');
    expect(endpoint.requests).toBe(2);
  });

  it('serves the stale set while the issuer fails, for staleIfErrorMs, and reports it', async () => {
    const { endpoint, cache, events } = await warmCache();
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS);
    endpoint.failures.push(503);
    expect((await cache.keysFor('k1', 'ES256'))[0]?.kid).toBe('k1');
    expect(events.filter((event) => event.type === 'jwks_failed')).toMatchObject([{ servingStale: true }]);

    await vi.advanceTimersByTimeAsync(STALE_IF_ERROR_MS);
    endpoint.failures.push(503);
    const error = await jwtRejection(cache.keysFor('k1', 'ES256'));
    expect(error.code).toBe('ERR_ISSUER_UNAVAILABLE');
  });

  it('asks a failing issuer again only after the backoff, refusing the calls in between at once', async () => {
    const { endpoint, cache } = await warmCache();
    endpoint.keys.push(spare[0]!);
    endpoint.failures.push(500);
    expect((await jwtRejection(cache.keysFor('k2', 'ES256'))).code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(endpoint.requests).toBe(2);
    // Another new kid inside the backoff: the last error, without a request.
    expect((await jwtRejection(cache.keysFor('k3', 'ES256'))).code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(endpoint.requests).toBe(2);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    expect((await cache.keysFor('k2', 'ES256'))[0]?.kid).toBe('k2');
    expect(endpoint.requests).toBe(3);
  });

  it('refreshes ahead in the background once warm, between 80 and 90 % of the lifetime', async () => {
    const { endpoint, cache } = await warmCache({ refreshAhead: true });
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.8 - 1);
    expect(endpoint.requests).toBe(1);
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.1 + 1);
    expect(endpoint.requests).toBe(2);
    cache.close();
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 10);
    expect(endpoint.requests).toBe(2);
  });
});

describe('JwksCache: unknown kids', () => {
  it('refetches at once for the first unknown kid after warm-up, even on a frozen clock', async () => {
    const endpoint = jwksEndpoint(published);
    const frozen = Date.now();
    const { cache } = cacheFor(endpoint, { now: () => frozen });
    await cache.warmup();
    endpoint.keys.push(spare[0]!);
    expect((await cache.keysFor('k2', 'ES256'))[0]?.kid).toBe('k2');
    expect(endpoint.requests).toBe(2);
  });

  it('makes a kid inside the cooldown wait for the next refetch, which all waiters share', async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    expect(endpoint.requests).toBe(2);
    endpoint.keys.push(spare[0]!);
    const waiting = Array.from({ length: 20 }, () => cache.keysFor('k2', 'ES256'));
    const first = watch(waiting[0]!);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS - 1);
    expect(first.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const found = await Promise.all(waiting);
    expect(found.every((keys) => keys[0]?.kid === 'k2')).toBe(true);
    expect(endpoint.requests).toBe(3);
  });

  it('does not take a fetch that started before the token arrived: waits for it, then refetches', async () => {
    const { endpoint, cache } = await warmCache();
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS);
    const release = endpoint.hold();
    const staleRefresh = cache.keysFor('k1', 'ES256'); // refetches the stale set, held
    await settle();
    expect(endpoint.requests).toBe(2);
    endpoint.keys.push(spare[0]!); // published after that request started
    const rotated = cache.keysFor('k2', 'ES256');
    release();
    expect((await staleRefresh)[0]?.kid).toBe('k1');
    expect((await rotated)[0]?.kid).toBe('k2');
    expect(endpoint.requests).toBe(3);
  });

  it('refuses a kid still unknown after a refetch without a request for max(cooldown, 30 s)', async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    const again = await jwtRejection(cache.keysFor('opening-kid', 'ES256'));
    expect(again.code).toBe('ERR_KEY_NOT_FOUND');
    expect(again.message).toContain('even after refetching');
    expect(endpoint.requests).toBe(2);
    await vi.advanceTimersByTimeAsync(30_000);
    await jwtRejection(cache.keysFor('opening-kid', 'ES256'));
    expect(endpoint.requests).toBe(3);
  });

  it(`remembers at most ${MAX_REMEMBERED_UNKNOWN_KIDS} unknown kids, forgetting the oldest first`, async () => {
    const { endpoint, cache } = await warmCache({ cooldownMs: 0 });
    const total = MAX_REMEMBERED_UNKNOWN_KIDS + 100;
    for (let i = 0; i < total; i += MAX_WAITING_UNKNOWN_KIDS) {
      const batch = Array.from({ length: Math.min(MAX_WAITING_UNKNOWN_KIDS, total - i) }, (_, j) =>
        jwtRejection(cache.keysFor(`invented-${i + j}`, 'ES256')),
      );
      for (const error of await Promise.all(batch)) expect(error.message).toContain('even after refetching');
    }
    const requests = endpoint.requests;
    // The oldest still remembered is refused without a request; one before it is asked about.
    await jwtRejection(cache.keysFor('invented-100', 'ES256'));
    expect(endpoint.requests).toBe(requests);
    await jwtRejection(cache.keysFor('invented-99', 'ES256'));
    expect(endpoint.requests).toBe(requests + 1);
  });
});

describe('JwksCache: who may wait for a refetch', () => {
  it(`lets ${MAX_WAITING_UNKNOWN_KIDS} distinct unknown kids wait for one refetch and refuses another at once`, async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    const waiting = Array.from({ length: MAX_WAITING_UNKNOWN_KIDS }, (_, i) =>
      watch(cache.keysFor(`waiting-${i}`, 'ES256')),
    );
    const refused = cache.keysFor('one-too-many', 'ES256');
    const error = await jwtRejection(refused);
    expect(error.code).toBe('ERR_KEY_NOT_FOUND');
    expect(error.message).toContain('too many unknown kids are waiting for the next refetch');
    expect(error.message).toContain(`${MAX_WAITING_UNKNOWN_KIDS} other unknown kids`);
    await settle();
    expect(waiting.some((state) => state.settled)).toBe(false);
    expect(endpoint.requests).toBe(2);

    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    await settle();
    expect(waiting.every((state) => codeOf(state.error) === 'ERR_KEY_NOT_FOUND')).toBe(true);
    expect(endpoint.requests).toBe(3);
  });

  it('lets tokens naming a kid that already waits join it, however many kids wait', async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    endpoint.keys.push(spare[0]!);
    const first = cache.keysFor('k2', 'ES256');
    const others = Array.from({ length: MAX_WAITING_UNKNOWN_KIDS - 1 }, (_, i) =>
      watch(cache.keysFor(`waiting-${i}`, 'ES256')),
    );
    const joined = Array.from({ length: 100 }, () => cache.keysFor('k2', 'ES256'));
    const joinedState = joined.map(watch);
    await settle();
    expect(joinedState.some((state) => state.settled)).toBe(false);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    for (const keys of await Promise.all([first, ...joined])) expect(keys[0]?.kid).toBe('k2');
    await settle();
    expect(others.every((state) => codeOf(state.error) === 'ERR_KEY_NOT_FOUND')).toBe(true);
    expect(endpoint.requests).toBe(3);
  });

  it(`refuses a call past ${MAX_WAITING_CALLS} waiting in all, even for a kid that waits`, async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    endpoint.keys.push(spare[0]!);
    const waiting = Array.from({ length: MAX_WAITING_CALLS }, () => cache.keysFor('k2', 'ES256'));
    const error = await jwtRejection(cache.keysFor('k2', 'ES256'));
    expect(error.code).toBe('ERR_KEY_NOT_FOUND');
    expect(error.message).toContain(`${MAX_WAITING_CALLS} tokens with unknown kids`);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    expect((await Promise.all(waiting)).every((keys) => keys[0]?.kid === 'k2')).toBe(true);
    expect(endpoint.requests).toBe(3);
    // The waiters are gone with the refetch: a call may wait again.
    await startCooldownAgain(cache, endpoint);
  });

  async function startCooldownAgain(cache: JwksCache, endpoint: ReturnType<typeof jwksEndpoint>) {
    endpoint.keys.push(spare[1]!);
    const next = watch(cache.keysFor('k3', 'ES256'));
    await settle();
    expect(next.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    await settle();
    expect(next).toEqual({ settled: true, kid: 'k3' });
  }

  it('does not remember a refused kid: once the wait is over it is refetched like any other', async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    for (let i = 0; i < MAX_WAITING_UNKNOWN_KIDS; i++)
      void jwtRejection(cache.keysFor(`waiting-${i}`, 'ES256'));
    expect((await jwtRejection(cache.keysFor('k2', 'ES256'))).message).toContain('too many');
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    expect(endpoint.requests).toBe(3);
    // Published only now: a remembered kid would be refused without a request for 30 s.
    endpoint.keys.push(spare[0]!);
    const retried = cache.keysFor('k2', 'ES256');
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    expect((await retried)[0]?.kid).toBe('k2');
    expect(endpoint.requests).toBe(4);
  });

  it('verifies a rotated-in key on first sight right after a flood of 20 000 invented kids', async () => {
    const { endpoint, cache, events } = await warmCache();
    await startCooldown(cache);
    const codes = new Map<string, number>();
    const flood = Array.from({ length: 20_000 }, (_, i) =>
      cache.keysFor(`flood-${i}`, 'ES256').then(
        () => 'resolved',
        (error: unknown) => {
          const reason = String((error as Error).message).includes('too many') ? 'refused' : codeOf(error);
          codes.set(reason, (codes.get(reason) ?? 0) + 1);
        },
      ),
    );
    await settle();
    expect(codes.get('refused')).toBe(20_000 - MAX_WAITING_UNKNOWN_KIDS);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    await Promise.all(flood);
    expect(codes.get('ERR_KEY_NOT_FOUND')).toBe(MAX_WAITING_UNKNOWN_KIDS);
    expect(endpoint.requests).toBe(3);

    endpoint.keys.push(spare[0]!);
    const rotated = watch(cache.keysFor('k2', 'ES256'));
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    await settle();
    expect(rotated).toEqual({ settled: true, kid: 'k2' });
    expect(endpoint.requests).toBe(4);
    expect(events.filter((event) => event.type === 'jwks_fetched')).toHaveLength(4);
  });

  it(`verifies a rotated-in key on first sight while ${MAX_WAITING_UNKNOWN_KIDS - 1} invented kids wait with it`, async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    const flood = Array.from({ length: MAX_WAITING_UNKNOWN_KIDS - 1 }, (_, i) =>
      jwtRejection(cache.keysFor(`flood-${i}`, 'ES256')),
    );
    endpoint.keys.push(spare[0]!);
    const rotated = cache.keysFor('k2', 'ES256');
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    expect((await rotated)[0]?.kid).toBe('k2');
    for (const error of await Promise.all(flood)) expect(error.message).toContain('even after refetching');
    expect(endpoint.requests).toBe(3);
  });

  it(`verifies a rotated-in key on first sight while a flood of ${MAX_WAITING_UNKNOWN_KIDS} invented kids goes on`, async () => {
    const { endpoint, cache } = await warmCache();
    await startCooldown(cache);
    const wave = () =>
      Array.from({ length: MAX_WAITING_UNKNOWN_KIDS }, (_, i) =>
        Array.from({ length: 50 }, () => jwtRejection(cache.keysFor(`flood-${i}`, 'ES256'))),
      ).flat();
    // The first wave waits for one refetch; from then on its kids are refused from memory.
    const first = wave();
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    for (const error of await Promise.all(first)) expect(error.code).toBe('ERR_KEY_NOT_FOUND');
    endpoint.keys.push(spare[0]!);
    const during = wave();
    const rotated = cache.keysFor('k2', 'ES256');
    const after = wave();
    for (const error of await Promise.all([...during, ...after])) {
      expect(error.message).toContain('even after refetching');
    }
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    expect((await rotated)[0]?.kid).toBe('k2');
    expect(endpoint.requests).toBe(4);
  });
});

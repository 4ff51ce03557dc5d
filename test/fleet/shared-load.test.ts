import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VerifierEvent } from '../../src/events.js';
import { createMemoryJwksStore } from '../../src/fleet/memory-store.js';
import { type SharedLoadOptions, loadShared } from '../../src/fleet/shared-load.js';
import { STORE_FORMAT, type JwksStore } from '../../src/fleet/store.js';

// loadShared on its own, with a plain string value: what it takes from the store, when it
// fetches, what it writes back, and how it survives a store that fails.

interface Harness {
  options: SharedLoadOptions<string>;
  fetches: (string | undefined)[];
  events: VerifierEvent[];
  taken: string[];
}

function harness(store: JwksStore, overrides: Partial<SharedLoadOptions<string>> = {}): Harness {
  const fetches: (string | undefined)[] = [];
  const events: VerifierEvent[] = [];
  const taken: string[] = [];
  const options: SharedLoadOptions<string> = {
    store,
    key: 'https://issuer.test/jwks',
    previous: undefined,
    notBefore: undefined,
    now: () => Date.now(),
    storeTimeoutMs: 100,
    leaseMs: 1000,
    emit: (event) => events.push(event),
    decode: (parsed) => {
      const { value, fetchedAt, freshUntil } = parsed as Record<string, unknown>;
      return typeof value === 'string' && typeof fetchedAt === 'number' && typeof freshUntil === 'number'
        ? { value, fetchedAt, freshUntil }
        : { reason: 'not a test entry' };
    },
    encode: (entry) => entry,
    taken: (value) => taken.push(value),
    fetch: async (validators) => {
      fetches.push(validators);
      return { value: `fetched-${fetches.length}`, freshForMs: 60_000 };
    },
    ...overrides,
  };
  return { options, fetches, events, taken };
}

const stored = (value: string, fetchedAt: number, freshUntil: number) =>
  JSON.stringify({ format: STORE_FORMAT, value, fetchedAt, freshUntil });

beforeEach(() => {
  vi.useFakeTimers({ now: Date.UTC(2030, 0, 1) });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('loadShared', () => {
  it('fetches once on an empty store and writes the result for the others', async () => {
    const store = createMemoryJwksStore();
    const first = harness(store);
    const result = await loadShared(first.options);
    expect(result.value).toBe('fetched-1');
    expect(first.fetches).toEqual([undefined]);

    const second = harness(store);
    const shared = await loadShared(second.options);
    expect(shared.value).toBe('fetched-1');
    expect(second.fetches).toEqual([]);
    expect(second.taken).toEqual(['fetched-1']);
  });

  it('takes a fresh stored copy only when it is newer than the value in hand', async () => {
    const store = createMemoryJwksStore();
    const at = Date.now();
    await store.set('https://issuer.test/jwks', stored('theirs', at - 10, at + 60_000), 60_000);
    const older = harness(store, { previous: { value: 'ours', fetchedAt: at - 5 } });
    expect((await loadShared(older.options)).value).toBe('fetched-1');
    expect(older.fetches).toEqual(['ours']); // conditional on what we hold

    await store.set('https://issuer.test/jwks', stored('theirs', at - 1, at + 60_000), 60_000);
    const newer = harness(store, { previous: { value: 'ours', fetchedAt: at - 5 } });
    expect((await loadShared(newer.options)).value).toBe('theirs');
    expect(newer.fetches).toEqual([]);
  });

  it('does not take a copy fetched before notBefore (a kid asked for after it)', async () => {
    const store = createMemoryJwksStore();
    const at = Date.now();
    await store.set('https://issuer.test/jwks', stored('old', at - 100, at + 60_000), 60_000);
    const run = harness(store, { notBefore: at - 50 });
    expect((await loadShared(run.options)).value).toBe('fetched-1');
    expect(run.fetches).toEqual(['old']);
  });

  it('waits for the lease holder and takes its result instead of fetching too', async () => {
    const store = createMemoryJwksStore();
    let deliver!: () => void;
    const holder = harness(store, {
      fetch: () =>
        new Promise((resolve) => {
          deliver = () => resolve({ value: 'from-holder', freshForMs: 60_000 });
        }),
    });
    const holding = loadShared(holder.options);
    await vi.advanceTimersByTimeAsync(0);
    const waiter = harness(store);
    const waiting = loadShared(waiter.options);
    await vi.advanceTimersByTimeAsync(20);
    deliver();
    await vi.advanceTimersByTimeAsync(300);
    expect((await holding).value).toBe('from-holder');
    expect((await waiting).value).toBe('from-holder');
    expect(waiter.fetches).toEqual([]);
  });

  it('fetches by itself when the lease holder never delivers within the lease', async () => {
    const store = createMemoryJwksStore();
    await store.acquire!('https://issuer.test/jwks#none', 10_000); // a holder that died
    const run = harness(store, { leaseMs: 500 });
    const loading = loadShared(run.options);
    await vi.advanceTimersByTimeAsync(600);
    expect((await loading).value).toBe('fetched-1');
    expect(run.fetches).toHaveLength(1);
  });

  it('reports an unreadable stored value once, fetches, and overwrites it', async () => {
    const store = createMemoryJwksStore();
    await store.set('https://issuer.test/jwks', '{"format":1,"value":42}', 60_000);
    const run = harness(store);
    expect((await loadShared(run.options)).value).toBe('fetched-1');
    expect(run.events.filter((event) => event.type === 'store_failed')).toEqual([
      {
        type: 'store_failed',
        key: 'https://issuer.test/jwks',
        operation: 'read',
        reason: 'not a test entry',
      },
    ]);
    expect(JSON.parse((await store.get('https://issuer.test/jwks'))!).value).toBe('fetched-1');
  });

  it('fetches when the store rejects, and writes nothing more to a store that is down', async () => {
    const set = vi.fn(async () => undefined);
    const store: JwksStore = { get: async () => Promise.reject(new Error('connection refused')), set };
    const run = harness(store);
    expect((await loadShared(run.options)).value).toBe('fetched-1');
    expect(run.events).toContainEqual({
      type: 'store_failed',
      key: 'https://issuer.test/jwks',
      operation: 'get',
      reason: 'connection refused',
    });
    expect(set).not.toHaveBeenCalled();
  });

  it('fetches when the store hangs, after storeTimeoutMs', async () => {
    const store: JwksStore = { get: () => new Promise(() => undefined), set: async () => undefined };
    const run = harness(store, { storeTimeoutMs: 100 });
    const loading = loadShared(run.options);
    await vi.advanceTimersByTimeAsync(100);
    expect((await loading).value).toBe('fetched-1');
    expect(run.events.map((event) => event.type)).toEqual(['store_failed']);
  });
});

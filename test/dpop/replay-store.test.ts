// The bounded in-memory replay store: a key is new once until it expires, the store never
// holds more than `max`, and expired entries go first.
import { describe, expect, it } from 'vitest';
import { createMemoryDpopReplayStore } from '../../src/index.js';

describe('createMemoryDpopReplayStore', () => {
  it('answers true for a new key, false for it again until it expires, then true again', async () => {
    let nowMs = 1_000_000;
    const store = createMemoryDpopReplayStore({ now: () => nowMs });
    expect(await store.remember('a', nowMs + 300_000)).toBe(true);
    expect(await store.remember('a', nowMs + 300_000)).toBe(false);
    expect(await store.remember('b', nowMs + 300_000)).toBe(true);
    nowMs += 300_000;
    expect(await store.remember('a', nowMs + 300_000)).toBe(true);
  });

  it('holds at most max keys: the oldest unexpired one is forgotten first', async () => {
    const nowMs = 5_000;
    const store = createMemoryDpopReplayStore({ max: 3, now: () => nowMs });
    for (const key of ['k1', 'k2', 'k3', 'k4']) expect(await store.remember(key, nowMs + 60_000)).toBe(true);
    expect(await store.remember('k2', nowMs + 60_000)).toBe(false);
    expect(await store.remember('k3', nowMs + 60_000)).toBe(false);
    expect(await store.remember('k4', nowMs + 60_000)).toBe(false);
    // k1 made room for k4.
    expect(await store.remember('k1', nowMs + 60_000)).toBe(true);
  });

  it('drops expired keys before forgetting live ones', async () => {
    let nowMs = 0;
    const store = createMemoryDpopReplayStore({ max: 2, now: () => nowMs });
    await store.remember('short', 10);
    await store.remember('long', 1_000);
    nowMs = 20;
    expect(await store.remember('new', 1_000)).toBe(true);
    expect(await store.remember('long', 1_000)).toBe(false);
  });

  it('stays bounded under a flood of distinct keys', async () => {
    const store = createMemoryDpopReplayStore({ max: 100, now: () => 0 });
    for (let i = 0; i < 10_000; i++) await store.remember(`key-${i}`, 60_000);
    // Only the last 100 are still known.
    expect(await store.remember('key-9900', 60_000)).toBe(false);
    expect(await store.remember('key-9899', 60_000)).toBe(true);
  });

  it.each([{ max: 0 }, { max: 1.5 }, { max: -1 }, { now: 'x' }])(
    'refuses %j with a coded TypeError',
    (options) => {
      expect(() => createMemoryDpopReplayStore(options as never)).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' }),
      );
    },
  );
});

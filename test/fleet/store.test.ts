// A JwksStore shared by many verifiers: one of them fetches, the others read its result,
// so the issuer sees one JWKS request per fleet on cold start, on rotation and per refresh.
// The in-memory store stands in for Redis here (test/fleet/redis.test.ts runs a real one).
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  JwtVerifier,
  type JwtVerifierOptions,
  type JwksStore,
  createMemoryJwksStore,
} from '../../src/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { EventLog, stubIssuersOnFakeClock } from './helpers.js';

const FLEET = 20;

function fleetOf(
  issuer: TestIssuer,
  store: JwksStore | undefined,
  options: Partial<JwtVerifierOptions> = {},
) {
  const logs = Array.from({ length: FLEET }, () => new EventLog());
  const verifiers = logs.map(
    (log) =>
      new JwtVerifier({
        issuer: issuer.issuer,
        audience: 'https://api.test',
        onEvent: log.listener,
        ...options,
        cache: { ...(store ? { store } : {}), ...options.cache },
      }),
  );
  return { verifiers, logs };
}

async function verifyAll(verifiers: JwtVerifier[], token: string): Promise<string[]> {
  const results = await Promise.allSettled(verifiers.map((verifier) => verifier.verify(token)));
  return results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
}

describe('a shared store over real HTTP', () => {
  const issuer = useTestIssuer({ listen: true, audience: 'https://api.test' });
  beforeEach(() => issuer.reset());

  it('makes one JWKS request for 20 verifiers on cold start, and one on rotation', async () => {
    const { verifiers, logs } = fleetOf(issuer, createMemoryJwksStore());
    expect(await verifyAll(verifiers, await issuer.sign({ sub: 'u' }))).toEqual(Array(FLEET).fill('ok'));
    // One verifier discovered and fetched; the other 19 took both from the store.
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
    expect(logs.flatMap((log) => log.of('metadata_loaded'))).toHaveLength(FLEET - 1);
    expect(logs.flatMap((log) => log.of('jwks_loaded'))).toHaveLength(FLEET - 1);

    const [fresh] = await issuer.rotateKeys();
    const token = await issuer.sign({ sub: 'u' });
    expect(await verifyAll(verifiers, token)).toEqual(Array(FLEET).fill('ok'));
    expect(issuer.requests.jwks).toBe(2);
    expect(logs.map((log) => log.of('key_rotated').at(-1)?.added)).toEqual(Array(FLEET).fill([fresh!.kid]));
  });

  it('costs one JWKS request per fleet for a flood of one invented kid', async () => {
    const { verifiers } = fleetOf(issuer, createMemoryJwksStore());
    await Promise.all(verifiers.map((verifier) => verifier.warmup()));
    expect(issuer.requests.jwks).toBe(1);
    const token = await issuer.sign({ sub: 'u' }, { header: { kid: 'never-published' } });
    expect(await verifyAll(verifiers, token)).toEqual(Array(FLEET).fill('ERR_KEY_NOT_FOUND'));
    expect(await verifyAll(verifiers, token)).toEqual(Array(FLEET).fill('ERR_KEY_NOT_FOUND'));
    expect(issuer.requests.jwks).toBe(2);
    for (const verifier of verifiers) verifier.close();
  });

  it('makes one request per verifier without a store (the baseline the store improves on)', async () => {
    const { verifiers } = fleetOf(issuer, undefined);
    expect(await verifyAll(verifiers, await issuer.sign({ sub: 'u' }))).toEqual(Array(FLEET).fill('ok'));
    expect(issuer.requests).toMatchObject({ metadata: FLEET, jwks: FLEET });
  });

  it('falls back to fetching when the store fails, and says so', async () => {
    const broken: JwksStore = {
      get: async () => {
        throw new Error('connection refused');
      },
      set: async () => {
        throw new Error('connection refused');
      },
      acquire: async () => {
        throw new Error('connection refused');
      },
    };
    const { verifiers, logs } = fleetOf(issuer, broken);
    expect(await verifyAll(verifiers, await issuer.sign({ sub: 'u' }))).toEqual(Array(FLEET).fill('ok'));
    expect(issuer.requests).toMatchObject({ metadata: FLEET, jwks: FLEET });
    expect(logs[0]!.of('store_failed')).toMatchObject([
      { operation: 'get', key: `discovery:auto:${issuer.issuer}`, reason: 'connection refused' },
      { operation: 'get', key: issuer.metadata.jwks_uri, reason: 'connection refused' },
    ]);
  });

  it('falls back to fetching when the store hangs, within its own timeout', async () => {
    const hanging: JwksStore = { get: () => new Promise(() => {}), set: () => new Promise(() => {}) };
    const { verifiers, logs } = fleetOf(issuer, hanging, { timeoutMs: 200 });
    await verifiers[0]!.verify(await issuer.sign({ sub: 'u' }));
    expect(issuer.requests.jwks).toBe(1);
    expect(logs[0]!.of('store_failed').map((event) => event.operation)).toEqual(['get', 'get']);
  });

  it('fetches by itself when the lease holder never delivers', async () => {
    const store = createMemoryJwksStore();
    // Someone took the lease and died.
    const silent: JwksStore = { get: store.get, set: store.set, acquire: async () => false };
    const { verifiers } = fleetOf(issuer, silent, { timeoutMs: 100 });
    await verifiers[0]!.verify(await issuer.sign({ sub: 'u' }));
    expect(issuer.requests.jwks).toBe(1);
  });

  it('checks what it reads from the store like a JWKS from the network', async () => {
    const store = createMemoryJwksStore();
    const { verifiers, logs } = fleetOf(issuer, store);
    await verifiers[0]!.warmup();
    const uri = issuer.metadata.jwks_uri!;
    const stored = JSON.parse((await store.get(uri))!);
    stored.keys.push({ kty: 'RSA', kid: 'private', n: stored.keys[0].n, e: 'AQAB', d: 'AQAB' });
    await store.set(uri, JSON.stringify(stored), 60_000);
    await verifiers[1]!.warmup();
    expect(logs[1]!.of('store_failed')).toMatchObject([
      { operation: 'read', key: uri, reason: expect.stringContaining('private') },
    ]);
    await store.set(uri, 'not json', 60_000);
    await verifiers[2]!.warmup();
    expect(logs[2]!.of('store_failed')).toMatchObject([{ operation: 'read' }]);
    expect(issuer.requests.jwks).toBe(3);
    for (const verifier of verifiers) verifier.close();
  });

  it('checks discovery metadata read from the store like a discovered document', async () => {
    const store = createMemoryJwksStore();
    const { verifiers, logs } = fleetOf(issuer, store);
    await verifiers[0]!.warmup();
    const key = `discovery:auto:${issuer.issuer}`;
    const stored = JSON.parse((await store.get(key))!);
    expect(stored.document.issuer).toBe(issuer.issuer);
    stored.document.jwks_uri = 'https://attacker.example/jwks';
    stored.document.issuer = 'https://attacker.example';
    await store.set(key, JSON.stringify(stored), 60_000);
    await verifiers[1]!.warmup();
    expect(logs[1]!.of('store_failed')).toMatchObject([
      { operation: 'read', key, reason: expect.stringContaining('issuer is "https://attacker.example"') },
    ]);
    expect(logs[1]!.of('discovery')).toHaveLength(1);
    expect(issuer.requests.metadata).toBe(2);
    for (const verifier of verifiers) verifier.close();
  });

  it('refuses a store that is not a JwksStore, at construction', () => {
    expect(() => fleetOf(issuer, { get: async () => undefined } as never)).toThrow(TypeError);
    expect(() =>
      fleetOf(issuer, { get: async () => undefined, set: async () => {}, acquire: 1 } as never),
    ).toThrow(TypeError);
  });
});

describe('a shared store with refresh ahead', () => {
  const stubs = stubIssuersOnFakeClock({ issuer: 'https://fleet.test', audience: 'https://api.test' });
  let issuer: TestIssuer;
  beforeAll(() => {
    issuer = stubs[0]!;
  });

  it('refreshes once per lifetime for the whole fleet, each verifier on its own timer', async () => {
    const { verifiers, logs } = fleetOf(issuer, createMemoryJwksStore(), {
      jwksUri: issuer.metadata.jwks_uri!,
      cache: { maxAgeMs: 60_000 },
    });
    for (const verifier of verifiers) await verifier.warmup();
    expect(issuer.requests.jwks).toBe(1);
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    // One verifier alone refreshes every 48–54 s: 5 or 6 times in 5 minutes. The fleet's first
    // timer in each round refreshes; the other 19 take its copy from the store.
    const refreshes = issuer.requests.jwks - 1;
    expect(refreshes).toBeGreaterThanOrEqual(5);
    expect(refreshes).toBeLessThanOrEqual(7);
    // Every verifier stayed fresh: no verify needs a request.
    const token = await issuer.sign({ sub: 'u' });
    expect(await verifyAll(verifiers, token)).toEqual(Array(FLEET).fill('ok'));
    expect(issuer.requests.jwks).toBe(1 + refreshes);
    expect(logs.every((log) => log.of('jwks_loaded').length + log.of('jwks_revalidated').length >= 5)).toBe(
      true,
    );
    for (const verifier of verifiers) verifier.close();
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier } from '../../../src/index.js';
import { offload } from '../../../src/token/signature/offload.js';

const THREAD_POOL_THRESHOLD = offload.threshold;
import { createTestIssuer } from '../../../src/testing/index.js';
import type { TestIssuer } from '../../../src/testing/index.js';

// Records the in-flight count each signature check is given (it decides sync vs thread pool).
const seen = vi.hoisted(() => ({ inFlight: [] as number[], sync: 0, pool: 0 }));
vi.mock('../../../src/token/signature/index.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../src/token/signature/index.js')>();
  return {
    ...original,
    checkSignature: (...args: Parameters<typeof original.checkSignature>) => {
      seen.inFlight.push(args[3] ?? 1);
      const result = original.checkSignature(...args);
      if (typeof result === 'string') seen.sync++;
      else seen.pool++;
      return result;
    },
  };
});

const audience = 'https://api.test';
let issuer: TestIssuer;
let verifier: JwtVerifier;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, audience, algorithms: ['RS256'] });
  verifier = new JwtVerifier({ issuer: issuer.issuer, audience, cache: { refreshAhead: false } });
  await verifier.warmup();
});
afterAll(async () => {
  verifier.close();
  await issuer.close();
});
beforeEach(() => {
  seen.inFlight = [];
  seen.sync = 0;
  seen.pool = 0;
});

describe('verifications in flight (the thread-pool decision)', () => {
  it('answers one call at a time synchronously, each counted alone', async () => {
    const token = await issuer.sign({ sub: 'one' });
    for (let i = 0; i < 5; i++) await verifier.verify(token);
    expect(seen.inFlight).toEqual([1, 1, 1, 1, 1]);
    expect(seen.sync).toBe(5);
  });

  it('counts calls made together, though each warm one answers before the next starts', async () => {
    const tokens = await Promise.all(
      Array.from({ length: 16 }, (_, i) => issuer.sign({ sub: `burst-${i}` })),
    );
    const results = await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(results.map((r) => r.payload.sub)).toEqual(tokens.map((_, i) => `burst-${i}`));
    expect(seen.inFlight.slice(0, THREAD_POOL_THRESHOLD)).toEqual([1, 2, 3, 4]);
    expect(seen.sync).toBe(THREAD_POOL_THRESHOLD - 1);
    expect(seen.pool).toBe(16 - (THREAD_POOL_THRESHOLD - 1));
  });

  it('counts a call until it is settled, rejected ones included', async () => {
    const token = await issuer.sign({ sub: 'after' });
    await Promise.allSettled([verifier.verify('not.a.token'), verifier.verify(`${token.slice(0, -4)}AAAA`)]);
    await Promise.all(Array.from({ length: 8 }, () => verifier.verify(token)));
    await verifier.verify(token);
    expect(seen.inFlight.at(-1)).toBe(1);
  });
});

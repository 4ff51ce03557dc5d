import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { base64url } from 'jose';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { type JwtVerifyErrorCode, isJwtVerifyError } from '../../../src/errors.js';
import { createTestIssuer } from '../../../src/testing/index.js';
import type { TestIssuer } from '../../../src/testing/index.js';
import { MAX_REMEMBERED_UNKNOWN_KIDS, MAX_WAITING_UNKNOWN_KIDS } from '../../../src/keys/unknown-kids.js';
import type { JwtVerifierOptions } from '../../../src/verify/options.js';
import { AUDIENCE, ISSUER, observedVerifier, trackUnhandledRejections } from '../helpers.js';
import { segment } from '../../support/tokens.js';

const MAX_AGE_MS = 60_000;
const COOLDOWN_MS = 1000;
/** Not a speed assertion (that is `npm run bench`): room for a machine shared with other jobs. */
const LOAD_TIMEOUT_MS = 120_000;

let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] });
});

/** Runs `task(0 … total-1)` with at most `inFlight` calls pending at once. */
async function runPool(
  total: number,
  inFlight: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  let peak = 0;
  let pending = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < total) {
        const index = next++;
        pending++;
        peak = Math.max(peak, pending);
        await task(index);
        pending--;
      }
    }),
  );
  return peak;
}

function verifier(options: Partial<JwtVerifierOptions> = {}) {
  return observedVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    fetch: issuer.fetch,
    cache: { maxAgeMs: MAX_AGE_MS, cooldownMs: COOLDOWN_MS },
    ...options,
  });
}

// The bounds are proven by what the verifier does and by the heap it holds, never by reading
// its private fields: `gc` is taken from V8 here, so no test depends on `node --expose-gc`.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** The heap in use after a full collection, in bytes. */
function heapAfterGc(): number {
  collectGarbage();
  collectGarbage();
  return process.memoryUsage().heapUsed;
}

const MB = 2 ** 20;

/** A token with this kid, signed by no one (the kid decides its fate before the signature). */
function inventedKidToken(kid: string): string {
  const payload = segment({ iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 });
  return `${segment({ alg: 'ES256', kid })}.${payload}.${base64url.encode(new Uint8Array(64))}`;
}

describe('load', () => {
  it(
    'answers 50 000 verifications, 500 in flight, through a JWKS outage in the middle',
    async () => {
      const unhandled = trackUnhandledRejections();
      issuer.reset();
      const { verifier: v, events, clock } = verifier();
      const valid = await Promise.all(
        Array.from({ length: 50 }, (_, i) => issuer.sign({ sub: `user-${i}` })),
      );
      const expired = await issuer.sign({}, { expiresIn: -60 });
      const unknownKid = await issuer.sign({}, { unpublishedKey: true });
      const [h, p] = valid[0]!.split('.');
      const badSignature = `${h}.${p}.${base64url.encode(new Uint8Array(64))}`;
      const kinds = [
        'valid',
        'valid',
        'valid',
        'valid',
        'expired',
        'unknown kid',
        'unknown kid',
        'bad signature',
        'malformed',
        'malformed',
      ] as const;
      const tokenOf = (index: number, kind: (typeof kinds)[number]) =>
        kind === 'valid'
          ? valid[index % valid.length]!
          : kind === 'expired'
            ? expired
            : kind === 'unknown kid'
              ? unknownKid
              : kind === 'bad signature'
                ? badSignature
                : `garbage.${index}`;
      const expected: Record<(typeof kinds)[number], readonly (JwtVerifyErrorCode | 'ok')[]> = {
        valid: ['ok'],
        expired: ['ERR_TOKEN_EXPIRED'],
        'unknown kid': ['ERR_KEY_NOT_FOUND', 'ERR_ISSUER_UNAVAILABLE'],
        'bad signature': ['ERR_SIGNATURE_INVALID'],
        malformed: ['ERR_TOKEN_MALFORMED'],
      };
      await v.warmup();

      const TOTAL = 50_000;
      const answers = new Map<string, number>();
      const wrong: string[] = [];
      let jwksDuringOutage = 0;
      let outageStartedAt = 0;
      let outageMs = 0;
      const peak = await runPool(TOTAL, 500, async (index) => {
        if (index === TOTAL * 0.4) {
          // The cached set goes stale and the issuer starts failing.
          clock.offsetMs += MAX_AGE_MS + 1;
          issuer.failNext('jwks', { status: 503, times: Infinity });
          issuer.failNext('metadata', { status: 503, times: Infinity });
          jwksDuringOutage = issuer.requests.jwks;
          outageStartedAt = performance.now();
        }
        if (index === TOTAL * 0.8) {
          jwksDuringOutage = issuer.requests.jwks - jwksDuringOutage;
          outageMs = performance.now() - outageStartedAt;
          issuer.reset();
          clock.offsetMs += COOLDOWN_MS + 1;
        }
        const kind = kinds[index % kinds.length]!;
        let answer: string;
        try {
          await v.verify(tokenOf(index, kind));
          answer = 'ok';
        } catch (error) {
          answer = isJwtVerifyError(error) ? error.code : `thrown: ${String(error)}`;
        }
        answers.set(`${kind} → ${answer}`, (answers.get(`${kind} → ${answer}`) ?? 0) + 1);
        if (!expected[kind].includes(answer as never)) wrong.push(`${kind} → ${answer}`);
      });
      unhandled.stop();

      expect(wrong.slice(0, 5)).toEqual([]);
      expect([...answers.values()].reduce((a, b) => a + b, 0)).toBe(TOTAL);
      expect(answers.get('valid → ok')).toBe(TOTAL * 0.4);
      expect(peak).toBe(500);
      // The outage was seen, reported, and cost the issuer one request per cooldown at most
      // (the clock runs in real time there, so that bound depends on how long it lasted).
      const failures = events.filter((e) => e.type === 'jwks_failed');
      expect(failures.length).toBeGreaterThan(0);
      expect(failures.every((e) => (e as { servingStale: boolean }).servingStale)).toBe(true);
      expect(jwksDuringOutage).toBeGreaterThan(0);
      expect(jwksDuringOutage).toBeLessThanOrEqual(Math.ceil(outageMs / COOLDOWN_MS) + 1);
      expect(unhandled.reasons).toEqual([]);
    },
    LOAD_TIMEOUT_MS,
  );

  it(
    'holds memory flat while 20 000 concurrent tokens with invented kids arrive inside the cooldown',
    async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      try {
        issuer.reset();
        const { verifier: v } = verifier({ cache: { maxAgeMs: MAX_AGE_MS, cooldownMs: 5000 } });
        await v.warmup();
        // One unknown kid refetches at once and starts the cooldown.
        await expect(rejectionCodeOf(v.verify(inventedKidToken('opening')))).resolves.toBe(
          'ERR_KEY_NOT_FOUND',
        );
        expect(issuer.requests.jwks).toBe(2);

        const heapBefore = heapAfterGc();
        const answers = new Map<string, number>();
        let settled = 0;
        let allSettled!: () => void;
        const everyCallSettled = new Promise<void>((resolve) => (allSettled = resolve));
        // The flood's calls are not kept here: what stays in memory is what the verifier holds.
        for (let i = 0; i < 20_000; i++) {
          v.verify(inventedKidToken(`flood-${i}-${'x'.repeat(100)}`)).then(
            () => answers.set('verified', (answers.get('verified') ?? 0) + 1),
            (error: unknown) => {
              if (++settled === 20_000) allSettled();
              const code = isJwtVerifyError(error) ? error.code : `thrown: ${String(error)}`;
              const answer = /too many unknown kids/.test(String(error)) ? `${code} (refused at once)` : code;
              answers.set(answer, (answers.get(answer) ?? 0) + 1);
            },
          );
        }
        // One turn of the event loop, the clock standing still: every refusal is in.
        await new Promise((resolve) => setImmediate(resolve));
        const heapWhileWaiting = heapAfterGc();
        expect(settled).toBe(20_000 - MAX_WAITING_UNKNOWN_KIDS);
        // Without the bounds the 20 000 waiting calls held about 49 MB (docs/security.md).
        expect((heapWhileWaiting - heapBefore) / MB).toBeLessThan(4);

        await vi.advanceTimersByTimeAsync(5000);
        await everyCallSettled;
        expect(Object.fromEntries(answers)).toEqual({
          'ERR_KEY_NOT_FOUND (refused at once)': 20_000 - MAX_WAITING_UNKNOWN_KIDS,
          ERR_KEY_NOT_FOUND: MAX_WAITING_UNKNOWN_KIDS,
        });
        expect(issuer.requests.jwks).toBe(3);

        // The flood is over: a key published now verifies on its first token.
        await issuer.rotateKeys();
        const rotated = v.verify(await issuer.sign({ sub: 'after-the-flood' }));
        await vi.advanceTimersByTimeAsync(5000);
        expect((await rotated).payload.sub).toBe('after-the-flood');
        expect(issuer.requests.jwks).toBe(4);
      } finally {
        vi.useRealTimers();
      }
    },
    LOAD_TIMEOUT_MS,
  );

  it(
    'keeps the unknown-kid memory within its cap under a flood of 5000 invented kids',
    async () => {
      issuer.reset();
      const { verifier: v } = verifier({ cache: { cooldownMs: 0, maxAgeMs: MAX_AGE_MS } });
      await v.warmup();
      const kid = (index: number) => `flood-${index}-${'x'.repeat(200)}`;
      const heapBefore = heapAfterGc();
      const codes = new Set<string>();
      // In waves as large as may wait at once, so that every kid is refetched for and remembered.
      for (let from = 0; from < 5000; from += MAX_WAITING_UNKNOWN_KIDS) {
        const wave = Array.from({ length: Math.min(MAX_WAITING_UNKNOWN_KIDS, 5000 - from) }, (_, i) =>
          rejectionCodeOf(v.verify(inventedKidToken(kid(from + i)))),
        );
        for (const code of await Promise.all(wave)) codes.add(code);
      }
      expect([...codes]).toEqual(['ERR_KEY_NOT_FOUND']);
      // Each wave shared one refetch.
      expect(issuer.requests.jwks).toBe(1 + Math.ceil(5000 / MAX_WAITING_UNKNOWN_KIDS));
      // The last 1000 kids are remembered: refused without a request...
      const requests = issuer.requests.jwks;
      for (const index of [5000 - MAX_REMEMBERED_UNKNOWN_KIDS, 4500, 4999]) {
        await expect(rejectionCodeOf(v.verify(inventedKidToken(kid(index))))).resolves.toBe(
          'ERR_KEY_NOT_FOUND',
        );
      }
      expect(issuer.requests.jwks).toBe(requests);
      // ...and the ones before them were forgotten: asked about again.
      await expect(
        rejectionCodeOf(v.verify(inventedKidToken(kid(5000 - MAX_REMEMBERED_UNKNOWN_KIDS - 1)))),
      ).resolves.toBe('ERR_KEY_NOT_FOUND');
      expect(issuer.requests.jwks).toBe(requests + 1);
      expect((heapAfterGc() - heapBefore) / MB).toBeLessThan(8);
    },
    LOAD_TIMEOUT_MS,
  );

  it(
    'keeps no per-token state under a flood of 5000 distinct tokens',
    async () => {
      issuer.reset();
      const { verifier: v } = verifier();
      const valid = await issuer.sign({ sub: 'user-1' });
      await v.verify(valid);
      const [h] = valid.split('.');
      const signature = base64url.encode(new Uint8Array(64));
      const exp = Math.floor(Date.now() / 1000) + 600;
      const heapBefore = heapAfterGc();
      const codes = new Set<string>();
      await runPool(5000, 500, async (index) => {
        const token = `${h}.${segment({ iss: ISSUER, aud: AUDIENCE, exp, jti: `jti-${index}`, pad: 'p'.repeat(256) })}.${signature}`;
        const error = await v.verify(token).catch((e: unknown) => e);
        codes.add(isJwtVerifyError(error) ? error.code : String(error));
      });
      expect([...codes]).toEqual(['ERR_SIGNATURE_INVALID']);
      // Distinct tokens with a known kid neither refetch the set nor grow any cache.
      expect(issuer.requests.jwks).toBe(1);
      await expect(v.verify(valid)).resolves.toBeDefined();
      expect((heapAfterGc() - heapBefore) / MB).toBeLessThan(4);
    },
    LOAD_TIMEOUT_MS,
  );

  it(
    'keeps the opt-in verified-token cache within its cap under a flood of distinct valid tokens',
    async () => {
      issuer.reset();
      const tokens = await Promise.all(
        Array.from({ length: 10_000 }, (_, i) => issuer.sign({ sub: `user-${i}`, pad: 'p'.repeat(256) })),
      );
      const heapOf = async (verifiedTokens: number) => {
        const { verifier: v } = verifier({ cache: { verifiedTokens } });
        await v.verify(tokens[0]!);
        const before = heapAfterGc();
        await runPool(tokens.length, 500, async (index) => {
          await v.verify(tokens[index]!);
        });
        const growth = heapAfterGc() - before;
        // Still in use, so that the cache is not collected with it before the measurement.
        await expect(v.verify(tokens[0]!)).resolves.toBeDefined();
        return growth / MB;
      };
      const capped = await heapOf(100);
      const large = await heapOf(tokens.length);
      // What a cache of every token holds, against the cap's hundred entries.
      expect(large).toBeGreaterThan(4);
      expect(capped).toBeLessThan(large / 10);
      expect(issuer.requests.jwks).toBe(2);
    },
    LOAD_TIMEOUT_MS,
  );
});

/** The code a verification is refused with ('resolved' when it is not). */
function rejectionCodeOf(promise: Promise<unknown>): Promise<string> {
  return promise.then(
    () => 'resolved',
    (error: unknown) => (isJwtVerifyError(error) ? error.code : `thrown: ${String(error)}`),
  );
}

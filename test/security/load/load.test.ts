import { base64url } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type JwtVerifyErrorCode, isJwtVerifyError } from '../../../src/errors.js';
import { createTestIssuer } from '../../../src/testing/index.js';
import type { TestIssuer } from '../../../src/testing/index.js';
import type { JwtVerifier } from '../../../src/verify/verifier.js';
import type { JwtVerifierOptions } from '../../../src/verify/options.js';
import { AUDIENCE, ISSUER, observedVerifier, segment, trackUnhandledRejections } from '../helpers.js';

/** The cap of the unknown-kid memory in jwks-cache.ts (MAX_REMEMBERED_UNKNOWN_KIDS). */
const UNKNOWN_KID_CAP = 1000;
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

/** The JWKS cache's unknown-kid memory (private; read here to prove it stays bounded). */
function unknownKidMemory(v: JwtVerifier): Map<string, number> {
  return (v as unknown as { jwks: { unknownKids: Map<string, number> } }).jwks.unknownKids;
}

/** The opt-in verified-token cache (private; read here to prove it stays bounded). */
function verifiedTokenCacheSize(v: JwtVerifier): number | undefined {
  return (v as unknown as { verifiedTokens?: { size: number } }).verifiedTokens?.size;
}

function gcIfExposed(): number | undefined {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return undefined;
  gc();
  return process.memoryUsage().heapUsed;
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
    'keeps the unknown-kid memory within its cap under a flood of 5000 invented kids',
    async () => {
      issuer.reset();
      const { verifier: v } = verifier({ cache: { cooldownMs: 0, maxAgeMs: MAX_AGE_MS } });
      await v.warmup();
      const payload = segment({ iss: ISSUER, aud: AUDIENCE, exp: Math.floor(Date.now() / 1000) + 600 });
      const signature = base64url.encode(new Uint8Array(64));
      const heapBefore = gcIfExposed();
      const codes = new Set<string>();
      let maxRemembered = 0;
      await runPool(5000, 500, async (index) => {
        const token = `${segment({ alg: 'ES256', kid: `flood-${index}-${'x'.repeat(200)}` })}.${payload}.${signature}`;
        const error = await v.verify(token).catch((e: unknown) => e);
        codes.add(isJwtVerifyError(error) ? error.code : String(error));
        maxRemembered = Math.max(maxRemembered, unknownKidMemory(v).size);
      });
      expect([...codes]).toEqual(['ERR_KEY_NOT_FOUND']);
      expect(maxRemembered).toBeLessThanOrEqual(UNKNOWN_KID_CAP);
      expect(unknownKidMemory(v).size).toBe(UNKNOWN_KID_CAP);
      // Concurrent unknown kids share refetches: far fewer JWKS requests than kids.
      expect(issuer.requests.jwks).toBeLessThan(5000 / 10);
      const heapAfter = gcIfExposed();
      if (heapBefore !== undefined && heapAfter !== undefined) {
        expect(heapAfter - heapBefore).toBeLessThan(32 * 1024 * 1024);
      }
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
      const heapBefore = gcIfExposed();
      const codes = new Set<string>();
      await runPool(5000, 500, async (index) => {
        const token = `${h}.${segment({ iss: ISSUER, aud: AUDIENCE, exp, jti: `jti-${index}`, pad: 'p'.repeat(256) })}.${signature}`;
        const error = await v.verify(token).catch((e: unknown) => e);
        codes.add(isJwtVerifyError(error) ? error.code : String(error));
      });
      expect([...codes]).toEqual(['ERR_SIGNATURE_INVALID']);
      // Distinct tokens with a known kid neither refetch the set nor grow any cache.
      expect(issuer.requests.jwks).toBe(1);
      expect(unknownKidMemory(v).size).toBe(0);
      await expect(v.verify(valid)).resolves.toBeDefined();
      const heapAfter = gcIfExposed();
      if (heapBefore !== undefined && heapAfter !== undefined) {
        expect(heapAfter - heapBefore).toBeLessThan(16 * 1024 * 1024);
      }
    },
    LOAD_TIMEOUT_MS,
  );

  it('keeps the opt-in verified-token cache within its cap under a flood of distinct valid tokens', async () => {
    issuer.reset();
    const { verifier: v } = verifier({ cache: { verifiedTokens: 100 } });
    const tokens = await Promise.all(
      Array.from({ length: 1000 }, (_, i) => issuer.sign({ sub: `user-${i}` })),
    );
    let maxSize = 0;
    await runPool(tokens.length * 2, 500, async (index) => {
      await v.verify(tokens[index % tokens.length]!);
      maxSize = Math.max(maxSize, verifiedTokenCacheSize(v)!);
    });
    expect(maxSize).toBe(100);
    expect(issuer.requests.jwks).toBe(1);
  });
});

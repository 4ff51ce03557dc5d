import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isJwtVerifyError } from '../../../src/errors.js';
import { createTestIssuer } from '../../../src/testing/index.js';
import type { FailureOptions, TestIssuer } from '../../../src/testing/index.js';
import { AUDIENCE, observedVerifier, trackUnhandledRejections } from '../helpers.js';
import { rejectionCode } from '../../support/rejections.js';

const MAX_AGE_MS = 60_000;
const COOLDOWN_MS = 1000;

let live: TestIssuer;
let token: string;
const unhandled = trackUnhandledRejections();

beforeAll(async () => {
  live = await createTestIssuer({ listen: true, audience: AUDIENCE, algorithms: ['ES256'] });
  token = await live.sign({ sub: 'user-1' });
});

afterEach(() => {
  live.reset();
  expect(unhandled.reasons).toEqual([]);
});

afterAll(async () => {
  unhandled.stop();
  await live?.close();
});

function verifier(issuer: TestIssuer = live) {
  return observedVerifier({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    timeoutMs: 250,
    cache: { maxAgeMs: MAX_AGE_MS, cooldownMs: COOLDOWN_MS },
  });
}

type Code = 'ERR_ISSUER_UNAVAILABLE' | 'ERR_METADATA_INVALID';

/** Each fault, and what a metadata document answered that way is refused with. */
const FAULTS: [string, FailureOptions, Code][] = [
  ['500', { status: 500 }, 'ERR_ISSUER_UNAVAILABLE'],
  ['503 with an OAuth error body', { status: 503 }, 'ERR_ISSUER_UNAVAILABLE'],
  ['a truncated JSON body', { malformed: true }, 'ERR_ISSUER_UNAVAILABLE'],
  ['an HTML error page', { malformed: 'html', status: 502 }, 'ERR_ISSUER_UNAVAILABLE'],
  ['a plain-text 200', { status: 200, body: 'hello' }, 'ERR_ISSUER_UNAVAILABLE'],
  // JSON that is there but wrong is an invalid document, not an unreachable issuer.
  ['a JSON 200 of the wrong shape', { status: 200, body: { keys: 'none' } }, 'ERR_METADATA_INVALID'],
  ['an answer slower than the timeout', { delayMs: 2000 }, 'ERR_ISSUER_UNAVAILABLE'],
  ['429 with Retry-After', { status: 429, headers: { 'retry-after': '30' } }, 'ERR_ISSUER_UNAVAILABLE'],
];

describe('stub issuer faults over real HTTP (failNext)', () => {
  it.each(FAULTS)(
    'metadata answering %s: refused (unavailable, or invalid for wrong JSON) with a discovery_failed event',
    async (_name, fault, code) => {
      const { verifier: v, ofType } = verifier();
      live.failNext('metadata', { ...fault, times: 2 }); // both well-known documents
      expect(await rejectionCode(v.verify(token))).toBe(code);
      expect(ofType('discovery_failed')).toEqual([
        expect.objectContaining({ servingStale: false, error: expect.objectContaining({ code }) }),
      ]);
      expect(live.requests.jwks).toBe(0);
    },
  );

  it.each(FAULTS)(
    'JWKS answering %s: ERR_ISSUER_UNAVAILABLE and a jwks_failed event',
    async (_name, fault) => {
      const { verifier: v, ofType } = verifier();
      live.failNext('jwks', fault);
      expect(await rejectionCode(v.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
      expect(ofType('jwks_failed')).toEqual([
        expect.objectContaining({
          servingStale: false,
          error: expect.objectContaining({ code: 'ERR_ISSUER_UNAVAILABLE' }),
        }),
      ]);
    },
  );

  it.each(FAULTS)('warm cache, JWKS answering %s: known keys keep verifying', async (_name, fault) => {
    const { verifier: v, clock, ofType } = verifier();
    await v.verify(token);
    clock.offsetMs += MAX_AGE_MS + 1;
    live.failNext('jwks', { ...fault, times: Infinity });
    await expect(v.verify(token)).resolves.toMatchObject({ payload: { sub: 'user-1' } });
    expect(ofType('jwks_failed')).toEqual([expect.objectContaining({ servingStale: true })]);
  });

  it('keeps verifying known keys while metadata and JWKS both fail, and reports both', async () => {
    const { verifier: v, clock, ofType } = verifier();
    await v.verify(token);
    clock.offsetMs += MAX_AGE_MS + 1;
    live.failNext('metadata', { status: 500, times: Infinity });
    live.failNext('jwks', { status: 500, times: Infinity });
    await expect(v.verify(token)).resolves.toBeDefined();
    expect(ofType('discovery_failed')).toEqual([expect.objectContaining({ servingStale: true })]);
    expect(ofType('jwks_failed')).toEqual([expect.objectContaining({ servingStale: true })]);
  });

  it('respects 429 Retry-After: no JWKS request before it, one after (counted by the issuer)', async () => {
    const { verifier: v, clock } = verifier();
    live.failNext('jwks', { status: 429, headers: { 'retry-after': '30' } });
    const error = await v.verify(token).catch((e: unknown) => e);
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect((error as { details: { retryAfterSeconds?: number } }).details.retryAfterSeconds).toBe(30);
    expect(live.requests.jwks).toBe(1);
    clock.offsetMs += 29_000;
    for (let i = 0; i < 5; i++) expect(await rejectionCode(v.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(live.requests.jwks).toBe(1);
    clock.offsetMs += 1001;
    await expect(v.verify(token)).resolves.toBeDefined();
    expect(live.requests.jwks).toBe(2);
  });

  it('refuses a newly rotated kid during the outage, and verifies it once the issuer is back', async () => {
    const issuer = await createTestIssuer({ listen: true, audience: AUDIENCE, algorithms: ['ES256'] });
    try {
      const { verifier: v, clock } = verifier(issuer);
      await v.verify(await issuer.sign());
      issuer.failNext('jwks', { status: 503, times: Infinity });
      await issuer.rotateKeys();
      const rotated = await issuer.sign();
      expect(await rejectionCode(v.verify(rotated))).toBe('ERR_ISSUER_UNAVAILABLE');
      issuer.reset();
      clock.offsetMs += COOLDOWN_MS + 1;
      await expect(v.verify(rotated)).resolves.toBeDefined();
    } finally {
      await issuer.close();
    }
  });

  it('stops verifying tokens of a key the JWKS dropped, once the set is refreshed', async () => {
    const issuer = await createTestIssuer({ listen: true, audience: AUDIENCE, algorithms: ['ES256'] });
    try {
      const { verifier: v, clock, ofType } = verifier(issuer);
      const oldKid = issuer.keys[0]!.kid;
      const old = await issuer.sign({ sub: 'old' });
      await expect(v.verify(old)).resolves.toBeDefined();
      await issuer.rotateKeys({ keepPrevious: false });
      // Still fresh: the cached set has the old key.
      await expect(v.verify(old)).resolves.toBeDefined();
      clock.offsetMs += MAX_AGE_MS + 1;
      expect(await rejectionCode(v.verify(old))).toBe('ERR_KEY_NOT_FOUND');
      await expect(v.verify(await issuer.sign({ sub: 'new' }))).resolves.toMatchObject({
        payload: { sub: 'new' },
      });
      expect(ofType('key_rotated')).toEqual([
        { type: 'key_rotated', added: [issuer.keys[0]!.kid], removed: [oldKid] },
      ]);
      expect(await rejectionCode(v.verify(old))).toBe('ERR_KEY_NOT_FOUND');
    } finally {
      await issuer.close();
    }
  });
});

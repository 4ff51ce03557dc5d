import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions } from '../../src/index.js';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { MAX_CACHED_TOKEN_LENGTH, VerifiedTokenCache } from '../../src/verify/verified-token-cache.js';
import { expectRejection } from '../support/rejections.js';

// Counts signature checks, so a test can tell a cache hit from a full verification.
const { counting } = await vi.hoisted(() => import('../support/counting.js'));
const signatureChecks = vi.hoisted(() => ({ count: 0 }));
vi.mock('../../src/token/signature/index.js', async (original) =>
  counting(
    await original<typeof import('../../src/token/signature/index.js')>(),
    'checkSignature',
    signatureChecks,
  ),
);

const audience = 'https://api.test';
let clockMs = Date.UTC(2030, 0, 1);
const now = () => clockMs;
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, audience, now, algorithms: ['ES256', 'EdDSA'] });
});
afterAll(async () => {
  await issuer.close();
});
beforeEach(() => {
  clockMs = Date.UTC(2030, 0, 1);
  signatureChecks.count = 0;
});

function verifierWith(options: Partial<JwtVerifierOptions> & { verifiedTokens?: number } = {}): JwtVerifier {
  const { verifiedTokens = 100, ...rest } = options;
  return new JwtVerifier({ issuer: issuer.issuer, audience, now, cache: { verifiedTokens }, ...rest });
}

describe('cache.verifiedTokens', () => {
  it('verifies a repeated token without checking its signature again', async () => {
    const verifier = verifierWith();
    const token = await issuer.sign({ sub: 'repeat' });
    const first = await verifier.verify(token);
    const second = await verifier.verify(token);
    const third = await verifier.verify(token);
    expect(signatureChecks.count).toBe(1);
    expect(second).toEqual(first);
    expect(third.payload.sub).toBe('repeat');
    expect(issuer.requests.jwks).toBeGreaterThan(0);
  });

  it('checks every signature when the option is left out', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience, now });
    const token = await issuer.sign({ sub: 'uncached' });
    await verifier.verify(token);
    await verifier.verify(token);
    expect(signatureChecks.count).toBe(2);
  });

  it('rejects a cached token once it has expired, by the verifier clock', async () => {
    const verifier = verifierWith();
    const token = await issuer.sign({ sub: 'short' }, { expiresIn: 60 });
    await verifier.verify(token);
    clockMs += 61_000;
    await expectRejection(verifier.verify(token), 'ERR_TOKEN_EXPIRED', token);
  });

  it('keeps honouring clockTolerance on a hit', async () => {
    const verifier = verifierWith({ clockTolerance: 30 });
    const token = await issuer.sign({ sub: 'tolerant' }, { expiresIn: 60 });
    await verifier.verify(token);
    clockMs += 80_000;
    await expect(verifier.verify(token)).resolves.toMatchObject({ payload: { sub: 'tolerant' } });
    expect(signatureChecks.count).toBe(1);
    clockMs += 11_000;
    await expectRejection(verifier.verify(token), 'ERR_TOKEN_EXPIRED', token);
  });

  it('drops an entry when its exp passes, so it is not served again even if the clock goes back', async () => {
    const verifier = verifierWith();
    const token = await issuer.sign({ sub: 'dropped' }, { expiresIn: 60 });
    await verifier.verify(token);
    clockMs += 61_000;
    await expectRejection(verifier.verify(token), 'ERR_TOKEN_EXPIRED', token);
    expect(signatureChecks.count).toBe(2); // the entry was gone: a full verification refused it
    clockMs -= 30_000;
    await verifier.verify(token);
    expect(signatureChecks.count).toBe(3);
  });

  it('re-checks maxTokenAge on every hit', async () => {
    const verifier = verifierWith({ maxTokenAge: 120 });
    const token = await issuer.sign({ sub: 'aging' });
    await verifier.verify(token);
    clockMs += 100_000;
    await verifier.verify(token);
    expect(signatureChecks.count).toBe(1);
    clockMs += 30_000;
    await expectRejection(verifier.verify(token), 'ERR_TOKEN_TOO_OLD', token);
  });

  it('re-checks nbf and iat on every hit, when the clock steps back', async () => {
    const verifier = verifierWith();
    const token = await issuer.sign({ sub: 'early' }, { notBefore: 10 });
    clockMs += 20_000;
    await verifier.verify(token);
    clockMs -= 15_000;
    await expectRejection(verifier.verify(token), 'ERR_TOKEN_NOT_YET_VALID', token);
    expect(signatureChecks.count).toBe(1);
  });

  it('runs validate on every hit', async () => {
    const seen: string[] = [];
    let refuse = false;
    const verifier = verifierWith({
      validate: (payload) => {
        seen.push(String(payload.jti));
        if (refuse) throw new Error('revoked');
      },
    });
    const token = await issuer.sign({ sub: 'validated', jti: 'j-1' });
    await verifier.verify(token);
    await verifier.verify(token);
    refuse = true;
    await expectRejection(verifier.verify(token), 'ERR_CLAIM_INVALID', token);
    expect(seen).toEqual(['j-1', 'j-1', 'j-1']);
    expect(signatureChecks.count).toBe(1);
  });

  it('returns copies, so a caller changing a payload does not change the next result', async () => {
    const verifier = verifierWith();
    const token = await issuer.sign({ sub: 'original' });
    const first = await verifier.verify(token);
    first.payload.sub = 'changed';
    first.header.kid = 'changed';
    const second = await verifier.verify(token);
    second.payload.extra = true;
    const third = await verifier.verify(token);
    expect(third.payload.sub).toBe('original');
    expect(third.payload.extra).toBeUndefined();
    expect(third.header.kid).not.toBe('changed');
  });

  it('never caches a rejected token', async () => {
    const verifier = verifierWith();
    const token = await issuer.sign({ sub: 'tampered' });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const tampered = `${header}.${payload}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;
    await expectRejection(verifier.verify(tampered), 'ERR_SIGNATURE_INVALID', tampered);
    await expectRejection(verifier.verify(tampered), 'ERR_SIGNATURE_INVALID', tampered);
    expect(signatureChecks.count).toBe(2);
  });

  it('drops entries whose key left the JWKS, and refuses their tokens like an uncached verifier', async () => {
    const verifier = verifierWith({ cache: { verifiedTokens: 100, cooldownMs: 1 } });
    const old = await issuer.sign({ sub: 'old-key' }, { alg: 'ES256' });
    const other = await issuer.sign({ sub: 'other-key' }, { alg: 'EdDSA' });
    await verifier.verify(old);
    await verifier.verify(other);
    await issuer.rotateKeys({ keepPrevious: false });
    const fresh = await issuer.sign({ sub: 'new-key' }, { alg: 'ES256' });
    const jwksBefore = issuer.requests.jwks;
    await verifier.verify(fresh); // an unknown kid: the verifier refetches and sees the old keys gone
    expect(issuer.requests.jwks).toBe(jwksBefore + 1);
    const checksBefore = signatureChecks.count;
    await expectRejection(verifier.verify(old), 'ERR_KEY_NOT_FOUND', old);
    await expectRejection(verifier.verify(other), 'ERR_KEY_NOT_FOUND', other);
    expect(signatureChecks.count).toBe(checksBefore);
    const uncached = new JwtVerifier({ issuer: issuer.issuer, audience, now });
    await expectRejection(uncached.verify(old), 'ERR_KEY_NOT_FOUND', old);
  });

  it('keeps serving a hit across a refetch that still publishes the key', async () => {
    const verifier = verifierWith({
      cache: { verifiedTokens: 10, maxAgeMs: 60_000, minAgeMs: 0, refreshAhead: false },
    });
    const token = await issuer.sign({ sub: 'kept' }, { alg: 'ES256' });
    await verifier.verify(token);
    const jwksBefore = issuer.requests.jwks;
    clockMs += 61_000; // the JWKS is stale: the next call refetches it
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(jwksBefore + 1);
    expect(signatureChecks.count).toBe(1);
  });

  it('holds at most verifiedTokens entries, evicting the least recently used', async () => {
    const verifier = verifierWith({ verifiedTokens: 3 });
    const tokens = await Promise.all([1, 2, 3, 4].map((i) => issuer.sign({ sub: `lru-${i}` })));
    const [one, two, three, four] = tokens as [string, string, string, string];
    await verifier.verify(one);
    await verifier.verify(two);
    await verifier.verify(three);
    await verifier.verify(one); // a hit: `one` becomes the most recently used
    expect(signatureChecks.count).toBe(3);
    await verifier.verify(four); // evicts `two`
    await verifier.verify(one);
    await verifier.verify(three);
    await verifier.verify(four);
    expect(signatureChecks.count).toBe(4);
    await verifier.verify(two);
    expect(signatureChecks.count).toBe(5);
  });

  it('never caches tokens longer than the cap', async () => {
    const verifier = verifierWith();
    const token = await issuer.sign({ sub: 'long', padding: 'x'.repeat(MAX_CACHED_TOKEN_LENGTH) });
    expect(token.length).toBeGreaterThan(MAX_CACHED_TOKEN_LENGTH);
    await verifier.verify(token);
    await verifier.verify(token);
    expect(signatureChecks.count).toBe(2);
  });

  it('refuses a verifiedTokens that is not a whole number of tokens', () => {
    for (const value of [-1, 1.5, Number.NaN, '10', Infinity]) {
      let error: unknown;
      try {
        verifierWith({ verifiedTokens: value as number });
      } catch (caught) {
        error = caught;
      }
      expect((error as { code?: string })?.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error).toBeInstanceOf(TypeError);
    }
  });
});

describe('VerifiedTokenCache', () => {
  const entry = (kid: string | undefined, expiresAtMs = Infinity) => ({
    payload: {},
    header: { alg: 'ES256' },
    alg: 'ES256' as const,
    key: { kid, jwk: { kty: 'EC' } },
    expiresAtMs,
  });

  it('stays within its bound whatever arrives', () => {
    const cache = new VerifiedTokenCache(50, () => 0);
    for (let i = 0; i < 10_000; i++) cache.set(`token-${i}`, entry('k'));
    expect(cache.size).toBe(50);
    expect(cache.get('token-9999')).toBeDefined();
    expect(cache.get('token-0')).toBeUndefined();
  });

  it('drops the entries of removed kids, including keys without a kid', () => {
    const cache = new VerifiedTokenCache(10, () => 0);
    cache.set('a', entry('gone'));
    cache.set('b', entry('kept'));
    cache.set('c', entry(undefined));
    cache.dropKids(['gone', '(no kid)']);
    expect(cache.get('a')).toBeUndefined();
    expect(cache.get('c')).toBeUndefined();
    expect(cache.get('b')).toBeDefined();
  });

  it('does not keep an entry that has already expired', () => {
    const cache = new VerifiedTokenCache(10, () => 1000);
    cache.set('late', entry('k', 1000));
    expect(cache.size).toBe(0);
  });

  /** A cache for two entries, holding `a` and then `b`. */
  function cacheOfAThenB(): VerifiedTokenCache {
    const cache = new VerifiedTokenCache(2, () => 0);
    cache.set('a', entry('k'));
    cache.set('b', entry('k'));
    return cache;
  }

  it('evicts the least recently used, whether a hit is on the newest entry or an older one', () => {
    const cache = cacheOfAThenB();
    expect(cache.get('b')).toBeDefined(); // already the newest
    expect(cache.get('a')).toBeDefined(); // now a is the newest, b the oldest
    expect(cache.get('a')).toBeDefined();
    cache.set('c', entry('k'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
  });

  it('forgets a deleted newest entry, and takes it back as the newest when it is set again', () => {
    const cache = cacheOfAThenB();
    cache.delete('b');
    expect(cache.get('b')).toBeUndefined();
    cache.set('b', entry('k'));
    cache.get('a');
    cache.set('c', entry('k'));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
  });
});

// The JWKS through msw: single flight on a cold start, keys imported once, selection by kid
// and by kty/alg/use/key_ops, tokens without kid, odd keys skipped, duplicate kids.
import { base64url } from 'jose';
import { http } from 'msw';
import { describe, expect, it, vi } from 'vitest';
import { JwtVerifier, type VerifierEvent } from '../../src/index.js';
import { jsonResponse, useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';
import { type LooseKey, looseKey, signWith, weakRsaKeyPair } from '../support/tokens.js';

// Count key imports on both signature paths (node:crypto in Node, jose elsewhere).
const { counting } = await vi.hoisted(() => import('../support/counting.js'));
const imports = vi.hoisted(() => ({ count: 0 }));
vi.mock('node:crypto', async (original) =>
  counting(await original<typeof import('node:crypto')>(), 'createPublicKey', imports),
);
vi.mock('jose', async (original) => counting(await original<typeof import('jose')>(), 'importJWK', imports));

const AUDIENCE = 'https://api.test';
const KEYS_ISSUER = 'https://keys.test';
const JWKS_URL = `${KEYS_ISSUER}/jwks`;
const { server, issuer } = useMswIssuer({
  issuer: 'https://jwks.test',
  algorithms: ['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'],
});

/** Serves a hand-built JWKS at JWKS_URL and returns a verifier reading it (no discovery). */
function serveJwks(
  keys: unknown[],
  onEvent?: (event: VerifierEvent) => void,
): { verifier: JwtVerifier; served: () => number } {
  let served = 0;
  server.use(
    http.get(JWKS_URL, () => {
      served++;
      return jsonResponse({ keys });
    }),
  );
  const verifier = new JwtVerifier({ issuer: KEYS_ISSUER, audience: AUDIENCE, jwksUri: JWKS_URL, onEvent });
  return { verifier, served: () => served };
}

const claims = { iss: KEYS_ISSUER, aud: AUDIENCE };

/** A token with this header over a valid payload and a made-up signature. */
function forged(header: Record<string, unknown>): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { ...claims, exp: now + 60 };
  return `${base64url.encode(JSON.stringify(header))}.${base64url.encode(JSON.stringify(payload))}.${base64url.encode('sig')}`;
}

describe('cold start', () => {
  it('answers 100 parallel verify calls with 1 metadata and 1 JWKS request', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const tokens = await Promise.all(
      Array.from({ length: 100 }, (_, i) => issuer.sign({ sub: `user-${i}` })),
    );
    const results = await Promise.all(tokens.map((token) => verifier.verify(token)));
    expect(results.map((r) => r.payload.sub)).toEqual(tokens.map((_, i) => `user-${i}`));
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('imports each key once, not once per verification', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const token = await issuer.sign();
    const before = imports.count;
    await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    for (let i = 0; i < 30; i++) await verifier.verify(token);
    expect(imports.count - before).toBe(1);
    // Another algorithm's key: one more import, then reused as well.
    const es = await issuer.sign({}, { alg: 'ES256' });
    for (let i = 0; i < 10; i++) await verifier.verify(es);
    expect(imports.count - before).toBe(2);
  });
});

describe('refetches', () => {
  it('import again only the keys that changed', async () => {
    const [a, b] = [await rsaKey(0), await rsaKey(1)];
    const tokenA = await signWith(a, claims, { kid: 'a' });
    const tokenB = await signWith(b, claims, { kid: 'b' });
    let now = Date.now();
    let served = 0;
    let keys: unknown[] = [{ ...a.publicJwk, kid: 'a' }];
    server.use(
      http.get(JWKS_URL, () => {
        served++;
        return jsonResponse({ keys }, { headers: { 'cache-control': 'max-age=60' } });
      }),
    );
    const verifier = new JwtVerifier({
      issuer: KEYS_ISSUER,
      audience: AUDIENCE,
      jwksUri: JWKS_URL,
      now: () => now,
    });
    const before = imports.count;
    await verifier.verify(tokenA);
    now += 61_000;
    keys = [
      { ...a.publicJwk, kid: 'a' },
      { ...b.publicJwk, kid: 'b' },
    ];
    await verifier.verify(tokenA); // a refetch that brings key a unchanged
    await verifier.verify(tokenB);
    expect(served).toBe(2);
    expect(imports.count - before).toBe(2);

    // The same key material published with another use is a changed key: judged anew.
    now += 61_000;
    keys = [{ ...a.publicJwk, kid: 'a', use: 'enc' }];
    await expectRejection(verifier.verify(tokenA), 'ERR_KEY_NOT_FOUND', tokenA);
  });
});

describe('a kid whose key changes', () => {
  it('verifies with the new key only, once the new set is in, on the warm path too', async () => {
    const [before, after] = [await rsaKey(0), await rsaKey(1)];
    const [oldToken, newToken] = await Promise.all([
      signWith(before, claims, { kid: 'k' }),
      signWith(after, claims, { kid: 'k' }),
    ]);
    let now = Date.now();
    let keys: unknown[] = [{ ...before.publicJwk, kid: 'k' }];
    server.use(
      http.get(JWKS_URL, () => jsonResponse({ keys }, { headers: { 'cache-control': 'max-age=60' } })),
    );
    const verifier = new JwtVerifier({
      issuer: KEYS_ISSUER,
      audience: AUDIENCE,
      jwksUri: JWKS_URL,
      now: () => now,
    });
    await verifier.verify(oldToken);
    await verifier.verify(oldToken); // from the fresh set in hand
    now += 61_000;
    keys = [{ ...after.publicJwk, kid: 'k' }];
    await verifier.verify(newToken); // the stale set is fetched again
    expect((await verifier.verify(newToken)).header.kid).toBe('k');
    await expectRejection(verifier.verify(oldToken), 'ERR_SIGNATURE_INVALID', oldToken);
  });
});

describe('key selection', () => {
  it.each(['RS256', 'PS256', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const)(
    'picks the %s key by kid',
    async (alg) => {
      const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
      const { header } = await verifier.verify(await issuer.sign({}, { alg }));
      expect(header.alg).toBe(alg);
      expect(header.kid).toBe(issuer.keys.find((key) => key.alg === alg && key.active)!.kid);
    },
  );

  it('never uses a key of another type for a kid, and says so without refetching', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const ecKid = issuer.keys.find((key) => key.alg === 'ES256')!.kid;
    const token = await issuer.sign({}, { alg: 'RS256', header: { kid: ecKid } });
    const error = await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
    expect(error.message).toContain(ecKid);
    expect(error.message).toContain('RS256');
    expect(issuer.requests.jwks).toBe(1);
  });

  it.each([
    ['use "enc"', { use: 'enc' }, false],
    ['use "sig"', { use: 'sig' }, true],
    ['key_ops without "verify"', { key_ops: ['encrypt'] }, false],
    ['key_ops with "verify"', { key_ops: ['verify'] }, true],
    ['alg RS384 for an RS256 token', { alg: 'RS384' }, false],
    ['alg RS256', { alg: 'RS256' }, true],
  ])('a key with %s fits: %s', async (_what, members, fits) => {
    const key = await rsaKey();
    const { verifier } = serveJwks([{ ...key.publicJwk, ...members, kid: 'k1' }]);
    const token = await signWith(key, claims, { kid: 'k1' });
    if (fits) expect((await verifier.verify(token)).header.kid).toBe('k1');
    else await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
  });

  it('never uses an EC key of another curve', async () => {
    const p256 = await looseKey('ES256');
    const { verifier } = serveJwks([{ ...p256.publicJwk, kid: 'p256' }]);
    await expectRejection(verifier.verify(forged({ alg: 'ES384', kid: 'p256' })), 'ERR_KEY_NOT_FOUND');
  });
});

let rsa: Promise<LooseKey[]> | undefined;
/** Loose RSA keys, made once per file. */
async function rsaKey(index = 0): Promise<LooseKey> {
  rsa ??= Promise.all([looseKey(), looseKey(), looseKey()]);
  return (await rsa)[index]!;
}

describe('tokens without kid', () => {
  it('verifies when exactly one key of the set fits the alg', async () => {
    const [a, ec] = [await rsaKey(0), await looseKey('ES256')];
    const { verifier } = serveJwks([{ ...a.publicJwk, kid: 'rsa-1' }, ec.publicJwk]);
    expect((await verifier.verify(await signWith(a, claims))).payload.iss).toBe(KEYS_ISSUER);
    expect((await verifier.verify(await signWith(ec, claims))).header.alg).toBe('ES256');
  });

  it('refuses when two keys fit, rather than guess', async () => {
    const [a, b] = [await rsaKey(0), await rsaKey(1)];
    const { verifier, served } = serveJwks([a.publicJwk, b.publicJwk]);
    const token = await signWith(a, claims);
    const error = await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
    expect(error.message).toContain('exactly one');
    expect(error.message).toContain('2 do');
    expect(served()).toBe(1);
  });

  it('refuses when no key fits', async () => {
    const ec = await looseKey('ES256');
    const { verifier } = serveJwks([ec.publicJwk]);
    const token = await signWith(await rsaKey(0), claims);
    const error = await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
    expect(error.message).toContain('0 do');
  });
});

describe('odd keys in the set', () => {
  it('skips malformed and unsupported keys, reports each, and verifies with the good one', async () => {
    const good = await rsaKey(0);
    const weak = await weakRsaKeyPair();
    const weakJwk = await crypto.subtle.exportKey('jwk', weak.publicKey);
    const privateJwk = await crypto.subtle.exportKey('jwk', weak.privateKey);
    const events: VerifierEvent[] = [];
    const { verifier } = serveJwks(
      [
        'not a key',
        { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' },
        { kty: 'RSA', e: 'AQAB', kid: 'no-n' },
        { kty: weakJwk.kty, n: weakJwk.n, e: weakJwk.e, kid: 'weak' },
        { ...privateJwk, kid: 'private' },
        { kty: 'EC', crv: 'P-192', x: 'AA', y: 'AA', kid: 'p192' },
        { kty: 'OKP', crv: 'X25519', x: 'AA', kid: 'x25519' },
        { kty: 'XYZ', kid: 'unknown-kty' },
        { ...good.publicJwk, kid: 42 },
        { ...good.publicJwk, kid: 'good' },
      ],
      (event) => events.push(event),
    );
    expect((await verifier.verify(await signWith(good, claims, { kid: 'good' }))).header.kid).toBe('good');
    const skipped = events.filter((e) => e.type === 'key_skipped');
    expect(skipped.map((e) => e.kid)).toEqual([
      undefined,
      'hmac',
      'no-n',
      'weak',
      'private',
      'p192',
      'x25519',
      'unknown-kty',
      undefined,
    ]);
    expect(skipped.map((e) => e.reason)).toEqual([
      'not a JSON object',
      expect.stringContaining('private or symmetric'),
      expect.stringContaining('without "n"'),
      expect.stringContaining('1024 bits'),
      expect.stringContaining('private or symmetric'),
      expect.stringContaining('P-192'),
      expect.stringContaining('X25519'),
      expect.stringContaining('XYZ'),
      expect.stringContaining('"kid" is not a string'),
    ]);
    expect(events.find((e) => e.type === 'jwks_fetched')).toMatchObject({ kids: ['good'] });
  });

  it('refuses a token whose kid names a skipped key', async () => {
    const { verifier } = serveJwks([{ kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }, (await rsaKey(0)).publicJwk]);
    const token = forged({ alg: 'RS256', kid: 'hmac' });
    await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
  });

  it('treats a key that passes the checks but cannot be imported as not found', async () => {
    const { verifier } = serveJwks([
      {
        kty: 'EC',
        crv: 'P-256',
        kid: 'off-curve',
        x: base64url.encode(new Uint8Array(32).fill(1)),
        y: base64url.encode(new Uint8Array(32).fill(2)),
      },
    ]);
    const error = await expectRejection(
      verifier.verify(forged({ alg: 'ES256', kid: 'off-curve' })),
      'ERR_KEY_NOT_FOUND',
    );
    expect(error.message).toContain('could not be imported');
  });

  it('tries every key of a duplicated kid, and refuses a signature none of them made', async () => {
    const [a, b, c] = [await rsaKey(0), await rsaKey(1), await rsaKey(2)];
    const { verifier, served } = serveJwks([
      { ...a.publicJwk, kid: 'dup' },
      { ...b.publicJwk, kid: 'dup' },
    ]);
    expect((await verifier.verify(await signWith(a, claims, { kid: 'dup' }))).header.kid).toBe('dup');
    expect((await verifier.verify(await signWith(b, claims, { kid: 'dup' }))).header.kid).toBe('dup');
    const token = await signWith(c, claims, { kid: 'dup' });
    const error = await expectRejection(verifier.verify(token), 'ERR_SIGNATURE_INVALID', token);
    expect(error.message).toContain('"dup"');
    expect(served()).toBe(1);
  });

  it('refuses every token of a set with no usable keys, saying so', async () => {
    const { verifier } = serveJwks([]);
    const token = forged({ alg: 'RS256', kid: 'any' });
    const error = await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
    expect(error.message).toContain('no usable keys');
  });

  it.each([
    ['without a keys array', { keys: 'none' }],
    ['that is an array', [{ kty: 'RSA' }]],
  ])('treats a JWKS document %s as an unavailable issuer', async (_what, body) => {
    server.use(http.get(JWKS_URL, () => jsonResponse(body)));
    const verifier = new JwtVerifier({ issuer: KEYS_ISSUER, audience: AUDIENCE, jwksUri: JWKS_URL });
    const error = await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toContain(JWKS_URL);
    expect(error.message).toContain('"keys"');
  });
});

describe('the algorithms allow-list', () => {
  it('refuses an algorithm outside the list before any request', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, algorithms: ['ES256'] });
    const token = await issuer.sign({}, { alg: 'RS256' });
    const error = await expectRejection(verifier.verify(token), 'ERR_ALG_NOT_ALLOWED', token);
    expect(error.message).toContain('"RS256"');
    expect(error.message).toContain('ES256');
    expect(issuer.requests).toMatchObject({ metadata: 0, jwks: 0 });
    expect((await verifier.verify(await issuer.sign({}, { alg: 'ES256' }))).header.alg).toBe('ES256');
  });

  it('never accepts none or HMAC, whatever the JWKS holds', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const hmac = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
    for (const token of [
      await issuer.sign({}, { header: { alg: 'none' } }),
      await issuer.sign({}, { key: hmac as never }),
    ]) {
      await expectRejection(verifier.verify(token), 'ERR_ALG_NOT_ALLOWED', token);
    }
    expect(issuer.requests.jwks).toBe(0);
  });
});

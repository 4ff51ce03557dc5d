// Encrypted access tokens (compact JWE around a signed JWT) through the verifier: every
// algorithm pair jose supports, the Auth0 shape from the stub issuer (sign() and the token
// endpoint), kid selection, keys as JWK, CryptoKey and KeyObject, and every refusal with
// ERR_DECRYPTION_FAILED (one message for every cryptographic failure).
import { KeyObject } from 'node:crypto';
import { CompactEncrypt, type CryptoKey, type JWK, base64url, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  CONTENT_ENCRYPTION_ALGORITHMS,
  type DecryptionOptions,
  JwtOrIntrospectionVerifier,
  JwtVerifier,
  KEY_MANAGEMENT_ALGORITHMS,
  authenticate,
} from '../../src/index.js';
import { createTestIssuer } from '../../src/testing/index.js';
import { useMswIssuer } from '../support/msw.js';
import { caught, expectRejection } from '../support/rejections.js';

const { issuer } = useMswIssuer({ issuer: 'https://jwe.test' });
const FAILED = 'the encrypted token could not be decrypted with the configured keys';

interface KeyPair {
  /** A public JWK (imported by jose for each algorithm it is used with) or a secret. */
  publicKey: JWK | Uint8Array;
  privateJwk: JWK;
}
let rsa: KeyPair;
let ec: KeyPair;
let x25519: KeyPair;
const secrets = new Map<number, KeyPair>();

async function asymmetric(alg: string, kid: string, options = {}): Promise<KeyPair> {
  const pair = await generateKeyPair(alg, { extractable: true, ...options });
  return {
    publicKey: await exportJWK(pair.publicKey),
    privateJwk: { ...(await exportJWK(pair.privateKey)), kid },
  };
}

function secret(bytes: number): KeyPair {
  const k = crypto.getRandomValues(new Uint8Array(bytes));
  return { publicKey: k, privateJwk: { kty: 'oct', k: base64url.encode(k), kid: `oct-${bytes}` } };
}

beforeAll(async () => {
  [rsa, ec, x25519] = await Promise.all([
    asymmetric('RSA-OAEP-256', 'rsa-1'),
    asymmetric('ECDH-ES', 'ec-1'),
    asymmetric('ECDH-ES', 'x25519-1', { crv: 'X25519' }),
  ]);
  for (const bytes of [16, 24, 32, 48, 64]) secrets.set(bytes, secret(bytes));
});

const CEK_BYTES: Record<string, number> = {
  A128GCM: 16,
  A192GCM: 24,
  A256GCM: 32,
  'A128CBC-HS256': 32,
  'A192CBC-HS384': 48,
  'A256CBC-HS512': 64,
};

/** The key a JWE of `alg`/`enc` is made for. */
function keyFor(alg: string, enc: string): KeyPair {
  if (alg.startsWith('RSA')) return rsa;
  if (alg.startsWith('ECDH')) return ec;
  if (alg === 'dir') return secrets.get(CEK_BYTES[enc]!)!;
  return secrets.get(Number(alg.slice(1, 4)) / 8)!;
}

async function encrypt(
  plaintext: string,
  pair: KeyPair,
  header: Record<string, unknown> & { alg: string; enc: string },
): Promise<string> {
  return new CompactEncrypt(new TextEncoder().encode(plaintext))
    .setProtectedHeader({ cty: 'JWT', kid: pair.privateJwk.kid, ...header })
    .encrypt(pair.publicKey);
}

const allKeys = () => [rsa, ec, x25519, ...secrets.values()].map((pair) => pair.privateJwk);
const verifierWith = (decryption: Partial<DecryptionOptions> = {}) =>
  new JwtVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    decryption: { keys: allKeys(), ...decryption },
  });
const signed = (claims: Record<string, unknown> = {}, options = {}) =>
  issuer.sign({ sub: 'alice', ...claims }, { header: { typ: 'at+jwt' }, ...options });

/** A compact JWE with one part replaced by `replace(bytes)` (0 header … 4 tag). */
function withPart(token: string, index: number, replace: (bytes: Uint8Array) => Uint8Array): string {
  const parts = token.split('.');
  parts[index] = base64url.encode(replace(base64url.decode(parts[index]!)));
  return parts.join('.');
}
const flipLast = (bytes: Uint8Array) => {
  const copy = Uint8Array.from(bytes);
  copy[copy.length - 1]! ^= 1;
  return copy;
};

describe('every algorithm pair jose supports', () => {
  const pairs = KEY_MANAGEMENT_ALGORITHMS.flatMap((alg) =>
    CONTENT_ENCRYPTION_ALGORITHMS.map((enc) => [alg, enc] as const),
  );
  it.each(pairs)('%s with %s: decrypts, then verifies the signed JWT inside', async (alg, enc) => {
    const inner = await signed({ pair: `${alg} ${enc}` });
    const token = await encrypt(inner, keyFor(alg, enc), { alg, enc });
    const { payload, header } = await verifierWith().verify(token);
    expect(payload.pair).toBe(`${alg} ${enc}`);
    expect(header.typ).toBe('at+jwt');
  });

  it('decrypts for an X25519 key (ECDH-ES+A128KW)', async () => {
    const token = await encrypt(await signed(), x25519, { alg: 'ECDH-ES+A128KW', enc: 'A128GCM' });
    expect((await verifierWith().verify(token)).payload.sub).toBe('alice');
  });
});

describe('the Auth0 shape from the stub issuer (RSA-OAEP-256, A256GCM, cty JWT)', () => {
  let encrypting: Awaited<ReturnType<typeof createTestIssuer>>;
  beforeAll(async () => {
    encrypting = await createTestIssuer({
      issuer: 'https://tenant.auth0.test/',
      profile: 'auth0',
      encryptAccessTokens: { key: { ...(rsa.publicKey as JWK), kid: 'rsa-1' } },
    });
  });
  const auth0Verifier = (required = true) =>
    new JwtVerifier({
      issuer: encrypting.issuer,
      audience: encrypting.audience,
      fetch: (input, init) => encrypting.fetch(input as string, init),
      decryption: { keys: rsa.privateJwk, required },
    });

  it('sign() issues a JWE the verifier decrypts and verifies', async () => {
    const token = await encrypting.sign({ sub: 'auth0|1', scope: 'read' });
    expect(token.split('.')).toHaveLength(5);
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!)));
    expect(header).toEqual({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT', kid: 'rsa-1' });
    const { payload } = await auth0Verifier().verify(token);
    expect(payload).toMatchObject({ sub: 'auth0|1', scope: 'read', iss: encrypting.issuer });
  });

  it('the token endpoint issues JWE access tokens, and the ID token stays signed only', async () => {
    const response = await encrypting.fetch(`${encrypting.issuer}oauth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: 'worker',
        client_secret: 'anything',
        scope: 'read',
      }),
    });
    const body = (await response.json()) as { access_token: string };
    expect(response.status).toBe(200);
    expect(body.access_token.split('.')).toHaveLength(5);
    const { payload } = await auth0Verifier().verify(body.access_token);
    expect(payload).toMatchObject({ sub: 'worker', scope: 'read' });
  });

  it('authenticate() takes it from a request, and with required refuses the same token signed only', async () => {
    const token = await encrypting.sign({ sub: 'auth0|2' });
    const request = (t: string) =>
      new Request('https://api.test/orders', { headers: { authorization: `Bearer ${t}` } });
    const ok = await authenticate(auth0Verifier(), request(token));
    expect(ok.ok && ok.token.payload.sub).toBe('auth0|2');
    const plain = await encrypting.sign({ sub: 'auth0|2' }, { encrypt: false });
    const refused = await authenticate(auth0Verifier(), request(plain));
    expect(refused.ok).toBe(false);
    if (!refused.ok) {
      expect(refused.status).toBe(401);
      expect(refused.headers['WWW-Authenticate']).toMatch(/error="invalid_token"/);
      expect((refused.error as { code?: string }).code).toBe('ERR_DECRYPTION_FAILED');
    }
    expect((await auth0Verifier(false).verify(plain)).payload.sub).toBe('auth0|2');
  });
});

describe('refusals', () => {
  let token: string;
  beforeAll(async () => {
    token = await encrypt(await signed(), rsa, { alg: 'RSA-OAEP-256', enc: 'A256GCM' });
  });

  it('gives the same code and message for every cryptographic failure (no oracle)', async () => {
    const otherRsa = await asymmetric('RSA-OAEP-256', 'rsa-1');
    const failures = [
      ['a tampered tag', withPart(token, 4, flipLast)],
      ['a tampered ciphertext', withPart(token, 3, flipLast)],
      ['a tampered initialization vector', withPart(token, 2, flipLast)],
      ['a tampered encrypted key (OAEP padding)', withPart(token, 1, flipLast)],
      ['a truncated tag', withPart(token, 4, (bytes) => bytes.subarray(1))],
      [
        'a token for another key with the same kid',
        await encrypt(await signed(), otherRsa, { alg: 'RSA-OAEP-256', enc: 'A256GCM' }),
      ],
      [
        'a wrong dir key',
        await encrypt(await signed(), secret(32), { alg: 'dir', enc: 'A256GCM', kid: 'oct-32' }),
      ],
    ] as const;
    for (const [what, variant] of failures) {
      const error = await expectRejection(verifierWith().verify(variant), 'ERR_DECRYPTION_FAILED', variant);
      expect(error.message, what).toBe(FAILED);
      expect(error.cause, what).toBeUndefined();
    }
  });

  it.each([
    ['bare claims', JSON.stringify({ iss: 'https://jwe.test', sub: 'alice' }), /does not hold a signed JWT/],
    ['text that is not a JWS', 'hello.world', /does not hold a signed JWT/],
    ['bytes that are not UTF-8', '\ud800', /does not hold a signed JWT/],
  ])('refuses a plaintext of %s', async (_what, plaintext, message) => {
    const variant = await encrypt(plaintext, rsa, { alg: 'RSA-OAEP-256', enc: 'A256GCM' });
    const error = await expectRejection(verifierWith().verify(variant), 'ERR_DECRYPTION_FAILED', variant);
    expect(error.message).toMatch(message);
  });

  it('refuses a JWE inside a JWE', async () => {
    const nested = await encrypt(token, rsa, { alg: 'RSA-OAEP-256', enc: 'A256GCM' });
    const error = await expectRejection(verifierWith().verify(nested), 'ERR_DECRYPTION_FAILED', nested);
    expect(error.message).toBe(
      'the encrypted token holds another encrypted token; only one layer is accepted',
    );
  });

  it.each([
    ['a zip header', { zip: 'DEF' }, 'compressed encrypted tokens ("zip") are not accepted'],
    [
      'RSA1_5',
      { alg: 'RSA1_5' },
      /key-management algorithm "RSA1_5", which is not allowed; allowed: RSA-OAEP, /,
    ],
    ['PBES2', { alg: 'PBES2-HS256+A128KW' }, /"PBES2-HS256\+A128KW", which is not allowed/],
    ['an unknown enc', { enc: 'A256CTR' }, /content-encryption algorithm "A256CTR", which is not allowed/],
    ['a cty other than JWT', { cty: 'json' }, /content type is "json"; only a nested signed JWT/],
    ['crit', { crit: ['exp'], exp: 1 }, /marks header parameters as critical/],
  ])('refuses %s before decrypting', async (_what, change, message) => {
    const header = JSON.parse(new TextDecoder().decode(base64url.decode(token.split('.')[0]!)));
    const variant = [
      base64url.encode(JSON.stringify({ ...header, ...change })),
      ...token.split('.').slice(1),
    ].join('.');
    const error = await expectRejection(verifierWith().verify(variant), 'ERR_DECRYPTION_FAILED', variant);
    expect(error.message).toMatch(message);
  });

  it('takes cty JWT in any case, and no cty', async () => {
    for (const cty of ['jwt', 'Jwt', undefined]) {
      const variant = await encrypt(await signed(), rsa, { alg: 'RSA-OAEP-256', enc: 'A256GCM', cty });
      expect((await verifierWith().verify(variant)).payload.sub).toBe('alice');
    }
  });

  it('refuses what the allow-lists leave out', async () => {
    const verifier = verifierWith({
      keyManagementAlgorithms: ['ECDH-ES'],
      contentEncryptionAlgorithms: ['A128GCM'],
    });
    const error = await expectRejection(verifier.verify(token), 'ERR_DECRYPTION_FAILED');
    expect(error.message).toMatch(/"RSA-OAEP-256", which is not allowed; allowed: ECDH-ES$/);
  });

  it.each([
    [
      'longer than the cap',
      (t: string) => `${t}${'A'.repeat(60_000)}`,
      /characters long, more than the \d+ allowed/,
    ],
    ['six parts', (t: string) => `${t}.AAAA`, /^a compact JWS has 3 dot-separated parts, this token has 6$/],
    ['padding', (t: string) => t.replace(/\.([^.]+)$/, '.$1=='), /tag is not base64url/],
    [
      'a header that is not JSON',
      (t: string) => `${base64url.encode('{"alg"')}${t.slice(t.indexOf('.'))}`,
      /header is not valid UTF-8 JSON/,
    ],
  ])('is ERR_TOKEN_MALFORMED for %s, before any decryption', async (_what, change, message) => {
    const variant = change(token);
    const error = await expectRejection(verifierWith().verify(variant), 'ERR_TOKEN_MALFORMED', variant);
    expect(error.message).toMatch(message);
  });

  it('verifies the inner token exactly as a plain one', async () => {
    const cases = [
      [await signed({}, { expiresIn: -60 }), 'ERR_TOKEN_EXPIRED'],
      [await signed({ aud: 'https://other.test' }), 'ERR_AUDIENCE_MISMATCH'],
      [await signed({}, { unpublishedKey: true }), 'ERR_KEY_NOT_FOUND'],
      [await signed({}, { header: { alg: 'none' } }), 'ERR_ALG_NOT_ALLOWED'],
    ] as const;
    for (const [inner, code] of cases) {
      const variant = await encrypt(inner, rsa, { alg: 'RSA-OAEP-256', enc: 'A256GCM' });
      await expectRejection(verifierWith().verify(variant), code, variant);
    }
  });

  it('is ERR_TOKEN_MALFORMED, as before, for a JWE when decryption is not configured', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: issuer.audience });
    const error = await expectRejection(verifier.verify(token), 'ERR_TOKEN_MALFORMED', token);
    expect(error.message).toMatch(/is a JWE \(encrypted\)/);
  });

  it('with required, refuses a signed token that is not encrypted', async () => {
    const plain = await signed();
    const error = await expectRejection(
      verifierWith({ required: true }).verify(plain),
      'ERR_DECRYPTION_FAILED',
      plain,
    );
    expect(error.message).toBe('this API accepts encrypted tokens (JWE) only; the token is not encrypted');
    expect((await verifierWith().verify(plain)).payload.sub).toBe('alice');
    await expectRejection(verifierWith({ required: true }).verify(''), 'ERR_TOKEN_MISSING');
  });
});

describe('JwtOrIntrospectionVerifier', () => {
  it('sends encrypted tokens to its JWT side when that decrypts, never to introspection', async () => {
    const token = await encrypt(await signed(), rsa, { alg: 'RSA-OAEP-256', enc: 'A256GCM' });
    const verifier = new JwtOrIntrospectionVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      clientId: 'api',
      clientSecret: 'secret',
      jwt: { decryption: { keys: rsa.privateJwk } },
    });
    issuer.reset();
    expect((await verifier.verify(token)).payload.sub).toBe('alice');
    expect(issuer.requests.introspect).toBe(0);
  });
});

describe('keys', () => {
  it('takes a JWK, a CryptoKey and a KeyObject', async () => {
    const pair = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const token = await new CompactEncrypt(new TextEncoder().encode(await signed()))
      .setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM', cty: 'JWT' })
      .encrypt(pair.publicKey);
    const keys = [
      await exportJWK(pair.privateKey),
      pair.privateKey,
      KeyObject.from(pair.privateKey as globalThis.CryptoKey),
    ];
    for (const key of keys) {
      const verifier = new JwtVerifier({
        issuer: issuer.issuer,
        audience: issuer.audience,
        decryption: { keys: key },
      });
      expect((await verifier.verify(token)).payload.sub).toBe('alice');
    }
  });

  it('picks keys by kid; keys without kid serve a kid no key has', async () => {
    const [a, b] = await Promise.all([asymmetric('RSA-OAEP-256', 'a'), asymmetric('RSA-OAEP-256', 'b')]);
    const forB = await encrypt(await signed(), b, { alg: 'RSA-OAEP-256', enc: 'A256GCM' });
    const both = new JwtVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      decryption: { keys: [a.privateJwk, b.privateJwk] },
    });
    expect((await both.verify(forB)).payload.sub).toBe('alice');
    const onlyA = new JwtVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      decryption: { keys: a.privateJwk },
    });
    const error = await expectRejection(onlyA.verify(forB), 'ERR_DECRYPTION_FAILED');
    expect(error.message).toBe('no configured decryption key fits the token (kid "b", RSA-OAEP-256)');
    const { kid: _kid, ...unnamed } = b.privateJwk;
    const withUnnamed = new JwtVerifier({
      issuer: issuer.issuer,
      audience: issuer.audience,
      decryption: { keys: [a.privateJwk, unnamed] },
    });
    expect((await withUnnamed.verify(forB)).payload.sub).toBe('alice');
  });

  it.each([
    ['no keys', { keys: [] }, /one key or a list of 1 to 100 keys/],
    ['a public JWK', { keys: { kty: 'RSA', n: 'AQAB', e: 'AQAB' } }, /is a public JWK/],
    ['a signing JWK', { keys: { kty: 'oct', k: 'AAAA', use: 'sig' } }, /"use": "sig"/],
    ['a string', { keys: 'secret' }, /must be a private JWK, a CryptoKey or a KeyObject/],
    [
      'RSA1_5 in the list',
      { keys: { kty: 'oct', k: 'AAAA' }, keyManagementAlgorithms: ['RSA1_5'] },
      /keyManagementAlgorithms must be/,
    ],
    [
      'an empty enc list',
      { keys: { kty: 'oct', k: 'AAAA' }, contentEncryptionAlgorithms: [] },
      /contentEncryptionAlgorithms must be/,
    ],
    [
      'required not a boolean',
      { keys: { kty: 'oct', k: 'AAAA' }, required: 'yes' },
      /required must be a boolean/,
    ],
  ])('throws a TypeError at construction for %s', async (_what, decryption, message) => {
    const error = await caught(
      () =>
        new JwtVerifier({
          issuer: issuer.issuer,
          audience: issuer.audience,
          decryption: decryption as unknown as DecryptionOptions,
        }),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(message);
  });

  it('refuses a public CryptoKey at construction', async () => {
    const { publicKey } = await generateKeyPair('RSA-OAEP-256');
    const error = await caught(
      () =>
        new JwtVerifier({
          issuer: issuer.issuer,
          audience: issuer.audience,
          decryption: { keys: publicKey },
        }),
    );
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe('decryption.keys[0] is a public key; decrypting needs the private key');
  });
});

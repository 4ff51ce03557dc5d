import { base64url, exportJWK, exportSPKI, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { AUDIENCE, ISSUER, JWKS_URI, verifierWithJwks } from './helpers.js';
import { rawSegment, segment, signSegments } from '../support/tokens.js';
import { rejectionCode } from '../support/rejections.js';

let issuer: TestIssuer;
let esKid: string;
let esPrivate: CryptoKey;
let attacker: { privateKey: CryptoKey; jwk: JWK; spkiDer: string };

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256', 'RS256'] });
  const es = issuer.keys.find((key) => key.alg === 'ES256')!;
  esKid = es.kid;
  esPrivate = es.privateKey as CryptoKey;
  const pair = await generateKeyPair('ES256', { extractable: true });
  const pem = await exportSPKI(pair.publicKey);
  attacker = {
    privateKey: pair.privateKey as CryptoKey,
    jwk: { ...(await exportJWK(pair.publicKey)), kid: 'attacker' },
    spkiDer: pem.replace(/-----[A-Z ]+-----|\s/g, ''),
  };
});

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: ISSUER, aud: AUDIENCE, sub: 'user-1', iat: now, exp: now + 600, ...extra };
}

/** A verifier of the issuer's JWKS whose unknown-kid refetches are not held back. */
function verifier() {
  return verifierWithJwks(() => issuer.jwks(), { cache: { cooldownMs: 0 } });
}

describe('embedded keys and key URLs in the header (RFC 8725 §3.10): the attacker key is never used', () => {
  const attackerUrl = 'https://attacker.test/jwks.json';

  it.each([
    ['jwk with the attacker kid', () => ({ jwk: attacker.jwk, kid: 'attacker' }), 'ERR_KEY_NOT_FOUND'],
    ['jwk with the issuer kid', () => ({ jwk: attacker.jwk, kid: esKid }), 'ERR_SIGNATURE_INVALID'],
    ['jwk and no kid', () => ({ jwk: attacker.jwk, kid: undefined }), 'ERR_SIGNATURE_INVALID'],
    ['jku with the attacker kid', () => ({ jku: attackerUrl, kid: 'attacker' }), 'ERR_KEY_NOT_FOUND'],
    ['jku with the issuer kid', () => ({ jku: attackerUrl, kid: esKid }), 'ERR_SIGNATURE_INVALID'],
    ['x5u with the attacker kid', () => ({ x5u: attackerUrl, kid: 'attacker' }), 'ERR_KEY_NOT_FOUND'],
    ['x5c with the issuer kid', () => ({ x5c: [attacker.spkiDer], kid: esKid }), 'ERR_SIGNATURE_INVALID'],
    ['x5c and no kid', () => ({ x5c: [attacker.spkiDer], kid: undefined }), 'ERR_SIGNATURE_INVALID'],
  ])('refuses a token signed by the attacker with %s', async (_name, header, code) => {
    const { verifier: v, urls } = verifier();
    const token = await issuer.sign(claims(), { key: attacker.privateKey, alg: 'ES256', header: header() });
    expect(await rejectionCode(v.verify(token))).toBe(code);
    expect(urls.every((url) => url === JWKS_URI)).toBe(true);
  });

  it('verifies the issuer-signed token carrying the same jku, from the issuer JWKS only (control)', async () => {
    const { verifier: v, urls } = verifier();
    const token = await issuer.sign(claims(), {
      alg: 'ES256',
      header: { jku: attackerUrl, jwk: attacker.jwk },
    });
    await expect(v.verify(token)).resolves.toMatchObject({ payload: { sub: 'user-1' } });
    expect(urls).toEqual([JWKS_URI]);
  });
});

describe('kid injection', () => {
  it.each([
    ['path traversal', '../../../../etc/passwd'],
    ['path traversal to /dev/null', '../../../dev/null'],
    ['SQL injection', "' OR '1'='1' --"],
    ['SQL stacked query', 'x"; DROP TABLE keys; --'],
    ['1024 characters (the longest accepted)', 'k'.repeat(1024)],
    ['unicode', 'ключ-🔑'],
    ['right-to-left override', '\u202Egnp.xe'],
    ['the issuer kid with a trailing null byte', () => `${esKid}\u0000`],
    ['the issuer kid after a null byte', () => `\u0000${esKid}`],
    ['the issuer kid upper-cased', () => esKid.toUpperCase()],
    ['a prefix of the issuer kid', () => esKid.slice(0, 10)],
    ['an empty string', ''],
  ])('refuses a %s kid with ERR_KEY_NOT_FOUND', async (_name, kid) => {
    const { verifier: v } = verifier();
    const value = typeof kid === 'function' ? kid() : kid;
    const token = await issuer.sign(claims(), { alg: 'ES256', header: { kid: value } });
    expect(await rejectionCode(v.verify(token))).toBe('ERR_KEY_NOT_FOUND');
  });

  it.each([
    ['longer than 1024 characters', 'k'.repeat(1025)],
    ['a number', 1],
    ['null', null],
    ['an object', { $ne: null }],
    ['an array', ['issuer-kid']],
  ])('refuses a kid that is %s with ERR_TOKEN_MALFORMED, before fetching keys', async (_name, kid) => {
    const { verifier: v, urls } = verifier();
    const token = await issuer.sign(claims(), { alg: 'ES256', header: { kid } });
    expect(await rejectionCode(v.verify(token))).toBe('ERR_TOKEN_MALFORMED');
    expect(urls).toEqual([]);
  });

  it('never echoes more than a bounded kid into the error message', async () => {
    const { verifier: v } = verifier();
    const token = await issuer.sign(claims(), { alg: 'ES256', header: { kid: 'k'.repeat(1024) } });
    const error = (await v.verify(token).catch((e: unknown) => e)) as Error;
    expect(error.message).not.toContain(token);
  });
});

describe('critical and unencoded-payload headers (RFC 7515 §4.1.11, RFC 7797)', () => {
  it.each([
    ['an unknown crit name', { crit: ['urn:example:policy'], 'urn:example:policy': 1 }],
    ['crit naming a registered claim', { crit: ['exp'], exp: 1 }],
    ['crit naming b64', { crit: ['b64'], b64: true }],
    ['an empty crit list', { crit: [] }],
    ['crit that is not a list', { crit: 'urn:example:policy' }],
    // Found by the random-JSON property test: String() of it throws a bare TypeError.
    ['crit that cannot be turned into text', { crit: { toString: {} } }],
    ['b64: false with crit', { crit: ['b64'], b64: false }],
    ['b64: false without crit', { b64: false }],
    ['b64 that is not a boolean', { b64: 'false' }],
  ])('refuses %s with ERR_TOKEN_MALFORMED', async (_name, header) => {
    const { verifier: v } = verifier();
    const token = await issuer.sign(claims(), { alg: 'ES256', header });
    expect(await rejectionCode(v.verify(token))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('verifies the same token without those headers (control)', async () => {
    const { verifier: v } = verifier();
    await expect(v.verify(await issuer.sign(claims(), { alg: 'ES256' }))).resolves.toBeDefined();
  });
});

describe('duplicate JSON members (RFC 7515 §5.2, RFC 7519 §4): refused in header and payload', () => {
  const now = Math.floor(Date.now() / 1000);
  const body = `"iss":"${ISSUER}","aud":"${AUDIENCE}","sub":"user-1","exp":${now + 600}`;

  it.each([
    [
      'header alg twice (ES256 then none)',
      () => `{"alg":"ES256","kid":"${esKid}","alg":"none"}`,
      () => `{${body}}`,
    ],
    [
      'header alg twice through an escape',
      () => `{"alg":"none","kid":"${esKid}","\\u0061lg":"ES256"}`,
      () => `{${body}}`,
    ],
    ['header kid twice', () => `{"alg":"ES256","kid":"attacker","kid":"${esKid}"}`, () => `{${body}}`],
    [
      'payload iss twice',
      () => `{"alg":"ES256","kid":"${esKid}"}`,
      () => `{"iss":"https://evil.test",${body}}`,
    ],
    [
      'payload aud twice',
      () => `{"alg":"ES256","kid":"${esKid}"}`,
      () => `{"aud":"https://other.test",${body}}`,
    ],
    ['payload exp twice', () => `{"alg":"ES256","kid":"${esKid}"}`, () => `{${body},"exp":${now - 600}}`],
    [
      'payload sub twice through an escape',
      () => `{"alg":"ES256","kid":"${esKid}"}`,
      () => `{${body},"s\\u0075b":"admin"}`,
    ],
  ])('refuses %s, though the issuer signed it', async (_name, header, payload) => {
    const { verifier: v } = verifier();
    const token = await signSegments(rawSegment(header()), rawSegment(payload()), esPrivate);
    expect(await rejectionCode(v.verify(token))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('accepts the same members once each, and duplicates nested inside a claim value (documented policy)', async () => {
    const { verifier: v } = verifier();
    const header = rawSegment(`{"alg":"ES256","kid":"${esKid}"}`);
    const single = await signSegments(header, rawSegment(`{${body}}`), esPrivate);
    await expect(v.verify(single)).resolves.toMatchObject({ payload: { sub: 'user-1' } });
    const nested = await signSegments(
      header,
      rawSegment(`{${body},"ext":{"a":1,"a":2},"list":[{"b":1},{"b":2}]}`),
      esPrivate,
    );
    await expect(v.verify(nested)).resolves.toMatchObject({ payload: { ext: { a: 2 } } });
  });
});

describe('oversized tokens and headers', () => {
  it('refuses a token over the 32 KiB default with ERR_TOKEN_MALFORMED, before fetching keys', async () => {
    const { verifier: v, urls } = verifier();
    const token = await issuer.sign(claims({ padding: 'x'.repeat(33 * 1024) }), { alg: 'ES256' });
    expect(await rejectionCode(v.verify(token))).toBe('ERR_TOKEN_MALFORMED');
    expect(urls).toEqual([]);
  });

  it('refuses a header of 40 000 characters with ERR_TOKEN_MALFORMED', async () => {
    const { verifier: v } = verifier();
    const token = await issuer.sign(claims(), { alg: 'ES256', header: { x: 'h'.repeat(40_000) } });
    expect(await rejectionCode(v.verify(token))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('refuses a 16 MiB string at once, and through the Authorization header', async () => {
    const { verifier: v } = verifier();
    const huge = `${'a'.repeat(8 * 1024 * 1024)}.${'b'.repeat(8 * 1024 * 1024)}.c`;
    expect(await rejectionCode(v.verify(huge))).toBe('ERR_TOKEN_MALFORMED');
    expect(await rejectionCode(v.verifyAuthorizationHeader(`Bearer ${huge}`))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('holds a lower maxTokenLength exactly at its boundary', async () => {
    const token = await issuer.sign(claims(), { alg: 'ES256' });
    const atLimit = verifierWithJwks(() => issuer.jwks(), { maxTokenLength: token.length }).verifier;
    await expect(atLimit.verify(token)).resolves.toBeDefined();
    const belowLimit = verifierWithJwks(() => issuer.jwks(), { maxTokenLength: token.length - 1 }).verifier;
    expect(await rejectionCode(belowLimit.verify(token))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('refuses a JWE (five parts) and other part counts with ERR_TOKEN_MALFORMED', async () => {
    const { verifier: v } = verifier();
    for (const token of [
      'a.b.c.d.e',
      'a.b',
      'a',
      '....',
      `${segment({ alg: 'ES256' })}.${segment({})}.x.y`,
    ]) {
      expect(await rejectionCode(v.verify(token))).toBe('ERR_TOKEN_MALFORMED');
    }
  });
});

describe('prototype pollution payloads', () => {
  const pollutedNames = ['polluted', 'isAdmin', 'alg', 'iss'];

  function assertPrototypeClean(): void {
    for (const name of pollutedNames) {
      expect(Object.prototype.hasOwnProperty.call(Object.prototype, name)).toBe(false);
      expect(({} as Record<string, unknown>)[name]).toBeUndefined();
    }
  }

  it('verifies a token with __proto__ and constructor.prototype in header and payload without polluting anything', async () => {
    const { verifier: v } = verifier();
    const now = Math.floor(Date.now() / 1000);
    const header = `{"alg":"ES256","kid":"${esKid}","__proto__":{"alg":"none","polluted":true},"constructor":{"prototype":{"polluted":true}}}`;
    const payload =
      `{"iss":"${ISSUER}","aud":"${AUDIENCE}","sub":"user-1","exp":${now + 600},` +
      `"__proto__":{"isAdmin":true,"iss":"https://evil.test"},"constructor":{"prototype":{"isAdmin":true}}}`;
    const token = await signSegments(rawSegment(header), rawSegment(payload), esPrivate);
    const result = await v.verify(token);
    assertPrototypeClean();
    expect(result.header.alg).toBe('ES256');
    expect(result.payload.iss).toBe(ISSUER);
    expect(Object.getPrototypeOf(result.payload)).toBe(Object.prototype);
    expect(Object.getPrototypeOf(result.header)).toBe(Object.prototype);
    expect((result.payload as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(Object.getOwnPropertyDescriptor(result.payload, '__proto__')?.value).toEqual({
      isAdmin: true,
      iss: 'https://evil.test',
    });
  });

  it('does not let a __proto__ member stand in for a missing exp', async () => {
    const { verifier: v } = verifier();
    const payload = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","__proto__":{"exp":99999999999}}`;
    const token = await signSegments(
      rawSegment(`{"alg":"ES256","kid":"${esKid}"}`),
      rawSegment(payload),
      esPrivate,
    );
    expect(await rejectionCode(v.verify(token))).toBe('ERR_CLAIM_INVALID');
    assertPrototypeClean();
  });

  it('does not count inherited members (constructor, __proto__, toString) as required claims', async () => {
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const { verifier: v } = verifierWithJwks(() => issuer.jwks(), { requiredClaims: [name] });
      const token = await issuer.sign(claims(), { alg: 'ES256' });
      expect(await rejectionCode(v.verify(token))).toBe('ERR_CLAIM_INVALID');
    }
  });

  it('refuses a header whose own alg is missing though __proto__ names one', async () => {
    const { verifier: v } = verifier();
    const token = `${rawSegment(`{"__proto__":{"alg":"ES256"},"kid":"${esKid}"}`)}.${segment(claims())}.${base64url.encode('sig')}`;
    expect(await rejectionCode(v.verify(token))).toBe('ERR_TOKEN_MALFORMED');
    assertPrototypeClean();
  });
});

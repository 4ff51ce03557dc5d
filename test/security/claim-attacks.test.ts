import { describe, expect, it } from 'vitest';
import type { JwtVerifierOptions } from '../../src/verify/options.js';
import { AUDIENCE, ISSUER, useSecurityIssuer, verifierWithJwks } from './helpers.js';
import { rawSegment, signSegments } from '../support/tokens.js';
import { rejectionCode } from '../support/rejections.js';

/** The verifier's and the issuer's clock: a whole second, in milliseconds. */
const NOW_MS = 1_767_225_600_000;
const NOW = NOW_MS / 1000;

const issuer = useSecurityIssuer(['ES256'], { now: () => NOW_MS });
/** The issuer's ES256 key. */
const esKey = () => issuer.keys[0]!;

function verifier(options: Partial<JwtVerifierOptions> = {}) {
  return verifierWithJwks(() => issuer.jwks(), { now: () => NOW_MS, ...options }).verifier;
}

async function codeFor(claims: Record<string, unknown>, options: Partial<JwtVerifierOptions> = {}) {
  return rejectionCode(verifier(options).verify(await issuer.sign(claims)));
}

/** Signs a payload given as raw JSON text (for numbers JSON.stringify cannot write). */
async function codeForRawPayload(members: string, options: Partial<JwtVerifierOptions> = {}) {
  const header = rawSegment(`{"alg":"ES256","kid":"${esKey().kid}"}`);
  const payload = rawSegment(`{"iss":"${ISSUER}","aud":"${AUDIENCE}",${members}}`);
  return rejectionCode(
    verifier(options).verify(await signSegments(header, payload, esKey().privateKey as CryptoKey)),
  );
}

describe('issuer confusion (RFC 8725 §3.8: exact match)', () => {
  it.each([
    ['a trailing slash', `${ISSUER}/`],
    ['upper case', ISSUER.toUpperCase()],
    ['an upper-case host', 'https://ISSUER.test'],
    ['a Cyrillic і look-alike', 'https://\u0456ssuer.test'],
    ['a Cyrillic е look-alike', 'https://issuer.t\u0435st'],
    ['its punycode look-alike', 'https://xn--ssuer-n5e.test'],
    ['a leading space', ` ${ISSUER}`],
    ['a trailing space', `${ISSUER} `],
    ['a trailing newline', `${ISSUER}\n`],
    ['a trailing null byte', `${ISSUER}\u0000`],
    ['a suffix domain', `${ISSUER}.evil.test`],
    ['userinfo', 'https://issuer.test@evil.test'],
    ['a path', `${ISSUER}/tenant`],
    ['http instead of https', 'http://issuer.test'],
    ['a default port', 'https://issuer.test:443'],
    ['a fragment', `${ISSUER}#`],
  ])('refuses iss with %s with ERR_ISSUER_MISMATCH', async (_name, iss) => {
    expect(await codeFor({ iss })).toBe('ERR_ISSUER_MISMATCH');
  });

  it('refuses the bare issuer when the verifier expects it with a trailing slash', async () => {
    const expectsSlash = verifier({ issuer: `${ISSUER}/` });
    expect(await rejectionCode(expectsSlash.verify(await issuer.sign({ iss: ISSUER })))).toBe(
      'ERR_ISSUER_MISMATCH',
    );
  });

  it.each([
    ['an array', [ISSUER]],
    ['a number', 1],
    ['an object', { toString: ISSUER }],
    ['null', null],
  ])('refuses iss that is %s with ERR_CLAIM_INVALID', async (_name, iss) => {
    expect(await codeFor({ iss })).toBe('ERR_CLAIM_INVALID');
  });

  it('refuses a token without iss with ERR_CLAIM_INVALID', async () => {
    expect(await codeFor({ iss: undefined })).toBe('ERR_CLAIM_INVALID');
  });
});

describe('audience confusion (RFC 9068 §4, RFC 8725 §3.9)', () => {
  it.each([
    ['a trailing slash', `${AUDIENCE}/`],
    ['upper case', AUDIENCE.toUpperCase()],
    ['a Cyrillic а look-alike', 'https://\u0430pi.test'],
    ['a leading space', ` ${AUDIENCE}`],
    ['a trailing tab', `${AUDIENCE}\t`],
    ['a prefix of the audience', AUDIENCE.slice(0, -1)],
    ['a suffix domain', `${AUDIENCE}.evil.test`],
    ['another API', 'https://other-api.test'],
    ['an empty string', ''],
    ['an array of look-alikes', ['https://\u0430pi.test', `${AUDIENCE}/`]],
    ['an empty array', []],
  ])('refuses aud with %s with ERR_AUDIENCE_MISMATCH', async (_name, aud) => {
    expect(await codeFor({ aud })).toBe('ERR_AUDIENCE_MISMATCH');
  });

  it.each([
    ['a number', 1],
    ['an array holding a number', [AUDIENCE, 1]],
    ['an object', { 0: AUDIENCE }],
    ['null', null],
  ])('refuses aud that is %s with ERR_CLAIM_INVALID', async (_name, aud) => {
    expect(await codeFor({ aud })).toBe('ERR_CLAIM_INVALID');
  });

  it('refuses a token without aud, and accepts one listing the audience among others (control)', async () => {
    expect(await codeFor({ aud: undefined })).toBe('ERR_CLAIM_INVALID');
    await expect(
      verifier().verify(await issuer.sign({ aud: ['https://other.test', AUDIENCE] })),
    ).resolves.toBeDefined();
  });
});

describe('exp, nbf and iat of the wrong type (RFC 7519 §2 NumericDate)', () => {
  const wrongTypes: [string, unknown][] = [
    ['a numeric string', String(NOW + 600)],
    ['null', null],
    ['an array', [NOW + 600]],
    ['true', true],
    ['false', false],
    ['an object', { valueOf: NOW + 600 }],
  ];
  const cases = ['exp', 'nbf', 'iat'].flatMap((claim) =>
    wrongTypes.map(([name, value]) => [claim, name, value] as const),
  );

  it.each(cases)('refuses %s that is %s with ERR_CLAIM_INVALID', async (claim, _name, value) => {
    expect(await codeFor({ [claim]: value })).toBe('ERR_CLAIM_INVALID');
  });

  it('refuses NaN, which is not JSON at all, with ERR_TOKEN_MALFORMED', async () => {
    expect(await codeForRawPayload('"exp":NaN')).toBe('ERR_TOKEN_MALFORMED');
    expect(await codeForRawPayload('"exp":Infinity')).toBe('ERR_TOKEN_MALFORMED');
  });
});

describe('huge and negative NumericDates', () => {
  it.each([
    ['exp 1e400 (parses to Infinity)', '"exp":1e400'],
    ['exp -1e400 (parses to -Infinity)', `"exp":-1e400`],
    ['exp 1e308 (a token that never expires)', '"exp":1e308'],
    ['exp just beyond the largest JavaScript date', '"exp":8640000000001'],
    ['nbf -1e308', `"exp":${NOW + 600},"nbf":-1e308`],
    ['iat 1e400', `"exp":${NOW + 600},"iat":1e400`],
  ])('refuses %s with ERR_CLAIM_INVALID', async (_name, members) => {
    expect(await codeForRawPayload(members)).toBe('ERR_CLAIM_INVALID');
  });

  it('refuses a negative exp as expired, and a far-future nbf or iat as not yet valid', async () => {
    expect(await codeFor({ exp: -1 })).toBe('ERR_TOKEN_EXPIRED');
    expect(await codeFor({ exp: 0 })).toBe('ERR_TOKEN_EXPIRED');
    expect(await codeFor({ nbf: 8_640_000_000_000 })).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(await codeFor({ iat: 8_640_000_000_000 })).toBe('ERR_TOKEN_NOT_YET_VALID');
  });

  it('refuses a negative iat as too old when maxTokenAge is set', async () => {
    expect(await codeFor({ iat: -1 }, { maxTokenAge: 3600 })).toBe('ERR_TOKEN_TOO_OLD');
  });

  it('accepts exp at the largest JavaScript date, and an exp with a fraction (control)', async () => {
    await expect(verifier().verify(await issuer.sign({ exp: 8_640_000_000_000 }))).resolves.toBeDefined();
    await expect(verifier().verify(await issuer.sign({ exp: NOW + 0.5 }))).resolves.toBeDefined();
  });
});

describe('clock-tolerance boundaries', () => {
  it('refuses a token exactly at exp (RFC 7519 §4.1.4: now must be before exp)', async () => {
    expect(await codeFor({ exp: NOW })).toBe('ERR_TOKEN_EXPIRED');
    await expect(verifier().verify(await issuer.sign({ exp: NOW + 1 }))).resolves.toBeDefined();
  });

  it('with 30 s of tolerance: exp - 30 is refused, exp - 29 accepted', async () => {
    const options = { clockTolerance: 30 };
    expect(await codeFor({ exp: NOW - 30 }, options)).toBe('ERR_TOKEN_EXPIRED');
    await expect(verifier(options).verify(await issuer.sign({ exp: NOW - 29 }))).resolves.toBeDefined();
  });

  it('with 30 s of tolerance: nbf and iat at now + 30 are accepted, at now + 31 refused', async () => {
    const options = { clockTolerance: 30 };
    await expect(
      verifier(options).verify(await issuer.sign({ nbf: NOW + 30, iat: NOW + 30 })),
    ).resolves.toBeDefined();
    expect(await codeFor({ nbf: NOW + 31 }, options)).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(await codeFor({ iat: NOW + 31 }, options)).toBe('ERR_TOKEN_NOT_YET_VALID');
  });

  it('without tolerance: nbf = now is accepted, now + 1 refused', async () => {
    await expect(verifier().verify(await issuer.sign({ nbf: NOW }))).resolves.toBeDefined();
    expect(await codeFor({ nbf: NOW + 1 })).toBe('ERR_TOKEN_NOT_YET_VALID');
  });

  it('maxTokenAge 60: iat now - 60 accepted, now - 61 refused; tolerance extends it', async () => {
    await expect(
      verifier({ maxTokenAge: 60 }).verify(await issuer.sign({ iat: NOW - 60 })),
    ).resolves.toBeDefined();
    expect(await codeFor({ iat: NOW - 61 }, { maxTokenAge: 60 })).toBe('ERR_TOKEN_TOO_OLD');
    await expect(
      verifier({ maxTokenAge: 60, clockTolerance: 5 }).verify(await issuer.sign({ iat: NOW - 65 })),
    ).resolves.toBeDefined();
    expect(await codeFor({ iat: NOW - 66 }, { maxTokenAge: 60, clockTolerance: 5 })).toBe(
      'ERR_TOKEN_TOO_OLD',
    );
  });

  it('refuses a missing exp with ERR_CLAIM_INVALID, whatever the tolerance', async () => {
    expect(await codeFor({ exp: undefined }, { clockTolerance: 86_400 })).toBe('ERR_CLAIM_INVALID');
  });
});

describe('other registered claims of the wrong type', () => {
  it.each([
    ['sub', 42],
    ['jti', { id: 1 }],
    ['client_id', ['a']],
    ['scope', ['read']],
    ['scp', 7],
  ])('refuses %s of the wrong type with ERR_CLAIM_INVALID', async (claim, value) => {
    expect(await codeFor({ [claim]: value })).toBe('ERR_CLAIM_INVALID');
  });
});

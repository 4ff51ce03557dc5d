// Step-up authentication (RFC 9470) at the verifier: the acr / auth_time checks alone with an
// injected clock, the RFC 9470 §3 challenge, the options of JwtVerifier (through msw, the
// verifier's own clock and clockTolerance, the verified-token cache), and the stricter of two
// requirements.
import { describe, expect, it } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions, JwtVerifyError } from '../../src/index.js';
import { withChallenge } from '../../src/dpop/challenge.js';
import {
  checkAuthentication,
  parseRequireAuthentication,
  stricterRequirement,
} from '../../src/verify/authentication.js';
import { useMswIssuer } from '../support/msw.js';
import { expectRejection, thrown, thrownCode } from '../support/rejections.js';

const NOW = 1_900_000_000;
const MFA = { acrValues: ['mfa', 'hwk'] } as const;

describe('checkAuthentication (the clock injected)', () => {
  it('accepts an acr among acrValues, and refuses another or none', () => {
    expect(thrownCode(() => checkAuthentication({ acr: 'hwk' }, MFA, NOW, 0))).toBe('ok');
    expect(thrownCode(() => checkAuthentication({ acr: 'pwd' }, MFA, NOW, 0))).toBe(
      'ERR_INSUFFICIENT_AUTHENTICATION',
    );
    expect(thrownCode(() => checkAuthentication({}, MFA, NOW, 0))).toBe('ERR_INSUFFICIENT_AUTHENTICATION');
    // Exact, case-sensitive strings.
    expect(thrownCode(() => checkAuthentication({ acr: 'MFA' }, MFA, NOW, 0))).toBe(
      'ERR_INSUFFICIENT_AUTHENTICATION',
    );
  });

  it('measures auth_time against the maximum age, with the clock tolerance', () => {
    const age = { maxAgeSeconds: 300 };
    expect(thrownCode(() => checkAuthentication({ auth_time: NOW - 300 }, age, NOW, 0))).toBe('ok');
    expect(thrownCode(() => checkAuthentication({ auth_time: NOW - 301 }, age, NOW, 0))).toBe(
      'ERR_INSUFFICIENT_AUTHENTICATION',
    );
    expect(thrownCode(() => checkAuthentication({ auth_time: NOW - 330 }, age, NOW, 30))).toBe('ok');
    expect(thrownCode(() => checkAuthentication({ auth_time: NOW - 331 }, age, NOW, 30))).toBe(
      'ERR_INSUFFICIENT_AUTHENTICATION',
    );
    expect(thrownCode(() => checkAuthentication({ auth_time: NOW }, { maxAgeSeconds: 0 }, NOW, 0))).toBe(
      'ok',
    );
  });

  it('refuses a token without auth_time when a maximum age is set', () => {
    const error = thrown(() => checkAuthentication({ acr: 'mfa' }, { maxAgeSeconds: 60 }, NOW, 0));
    expect(error.code).toBe('ERR_INSUFFICIENT_AUTHENTICATION');
    expect(error.message).toMatch(/no "auth_time".*within 60 s/);
  });

  it('refuses an acr or auth_time of the wrong type as a malformed claim', () => {
    expect(thrownCode(() => checkAuthentication({ acr: ['mfa'] }, MFA, NOW, 0))).toBe('ERR_CLAIM_INVALID');
    for (const authTime of ['1700000000', Number.POSITIVE_INFINITY, null]) {
      expect(
        thrownCode(() => checkAuthentication({ auth_time: authTime }, { maxAgeSeconds: 1 }, NOW, 0)),
      ).toBe('ERR_CLAIM_INVALID');
    }
  });

  it('says what was required and what was found', () => {
    const acr = thrown(() => checkAuthentication({ acr: 'pwd' }, MFA, NOW, 0));
    expect(acr.message).toBe('the user\'s authentication (acr "pwd") is not one of mfa hwk');
    const stale = thrown(() =>
      checkAuthentication({ auth_time: NOW - 4000 }, { maxAgeSeconds: 600 }, NOW, 0),
    );
    expect(stale.message).toBe('the user logged in 4000 s ago, more than the 600 s allowed');
  });
});

describe('the ERR_INSUFFICIENT_AUTHENTICATION challenge (RFC 9470 §3)', () => {
  const failure = (requirement: Parameters<typeof checkAuthentication>[1], payload = {}) =>
    thrown(() => checkAuthentication(payload, requirement, NOW, 0)) as unknown as JwtVerifyError;

  it('is a 401 with insufficient_user_authentication and, of acr_values and max_age, those required', () => {
    const both = failure({ acrValues: ['urn:example:loa:3', 'hwk'], maxAgeSeconds: 120 });
    expect(both.code).toBe('ERR_INSUFFICIENT_AUTHENTICATION');
    expect(both.status).toBe(401);
    expect(both.details.requiredAuthentication).toEqual({
      acrValues: ['urn:example:loa:3', 'hwk'],
      maxAgeSeconds: 120,
    });
    expect(both.wwwAuthenticate('api')).toBe(
      `Bearer realm="api", error="insufficient_user_authentication", error_description="${both.message}", acr_values="urn:example:loa:3 hwk", max_age=120`,
    );
    expect(failure({ acrValues: ['mfa'] }).wwwAuthenticate()).toMatch(/, acr_values="mfa"$/);
    expect(failure({ maxAgeSeconds: 0 }).wwwAuthenticate()).toMatch(
      /^Bearer error="insufficient_user_authentication", error_description="[^"]+", max_age=0$/,
    );
    expect(both.toJSON()).toEqual({
      name: 'JwtVerifyError',
      code: 'ERR_INSUFFICIENT_AUTHENTICATION',
      status: 401,
      message: both.message,
    });
  });

  it('is printable ASCII without " or \\ in a quoted value, whatever acr the token holds', () => {
    const error = failure(MFA, { acr: 'p"w\\d\u00e9\n' });
    const header = error.wwwAuthenticate('a "realm"');
    expect(header).toMatch(/^[\x20-\x7e]+$/);
    for (const [, value] of header.matchAll(/="([^"]*)"/g)) expect(value).not.toMatch(/["\\]/);
    expect(header).toMatch(/, acr_values="mfa hwk"$/);
  });

  it('goes on the scheme the request used when the API accepts DPoP too (RFC 9449 §7.1)', () => {
    const error = withChallenge(failure({ acrValues: ['mfa'] }), {
      schemes: ['Bearer', 'DPoP'],
      algorithms: ['ES256'],
      scheme: 'DPoP',
    });
    expect(error.wwwAuthenticate('api')).toMatch(
      /^Bearer realm="api", DPoP realm="api", error="insufficient_user_authentication", error_description="[^"]+", acr_values="mfa", algs="ES256"$/,
    );
  });
});

describe('the requireAuthentication option, checked', () => {
  it('takes acrValues and maxAgeSeconds, or nothing', () => {
    expect(parseRequireAuthentication({ acrValues: ['mfa'], maxAgeSeconds: 60 })).toEqual({
      acrValues: ['mfa'],
      maxAgeSeconds: 60,
    });
    expect(parseRequireAuthentication(undefined)).toBeUndefined();
    expect(parseRequireAuthentication({})).toBeUndefined();
  });

  it.each([
    ['an acr with a space', { acrValues: ['a b'] }],
    ['an acr with a quote', { acrValues: ['a"'] }],
    ['an acr outside ASCII', { acrValues: ['stärk'] }],
    ['an empty acr list', { acrValues: [] }],
    ['acrValues as a string', { acrValues: 'mfa' }],
    ['a fractional age', { maxAgeSeconds: 0.5 }],
    ['a negative age', { maxAgeSeconds: -1 }],
    ['an age as a string', { maxAgeSeconds: '60' }],
    ['not an object', 'mfa'],
  ])('refuses %s with a coded TypeError', (_label, value) => {
    expect(thrown(() => parseRequireAuthentication(value))).toMatchObject({
      name: 'TypeError',
      code: 'ERR_INVALID_ARGUMENT',
    });
  });
});

describe('stricterRequirement', () => {
  it('keeps the acr values both accept and the smaller maximum age', () => {
    expect(
      stricterRequirement({ acrValues: ['mfa', 'hwk'], maxAgeSeconds: 300 }, { acrValues: ['hwk', 'phr'] }),
    ).toEqual({ acrValues: ['hwk'], maxAgeSeconds: 300 });
    expect(stricterRequirement({ maxAgeSeconds: 300 }, { maxAgeSeconds: 60, acrValues: ['mfa'] })).toEqual({
      acrValues: ['mfa'],
      maxAgeSeconds: 60,
    });
    expect(stricterRequirement({ acrValues: ['mfa'] }, undefined)).toEqual({ acrValues: ['mfa'] });
    expect(stricterRequirement(undefined, undefined)).toBeUndefined();
  });

  it("keeps the first list when two have nothing in common (no token meets both; the route's is asked for)", () => {
    expect(stricterRequirement({ acrValues: ['mfa'] }, { acrValues: ['pwd'] })).toEqual({
      acrValues: ['mfa'],
    });
  });
});

describe('JwtVerifier: acrValues and maxAuthAgeSeconds', () => {
  const AUDIENCE = 'https://api.test';
  const { issuer } = useMswIssuer({ issuer: 'https://step-up.test', audience: AUDIENCE });
  let clockMs = NOW * 1000;
  const verifierFor = (options: Partial<JwtVerifierOptions>) =>
    new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: () => clockMs, ...options });
  const sign = (claims: Record<string, unknown>) => issuer.sign({ iat: NOW, exp: NOW + 3600, ...claims });

  it('verifies a token that meets both, refuses one that does not, with the verifier clock', async () => {
    clockMs = NOW * 1000;
    const verifier = verifierFor({ acrValues: ['mfa'], maxAuthAgeSeconds: 600, clockTolerance: 5 });
    const token = await sign({ acr: 'mfa', auth_time: NOW - 60 });
    expect((await verifier.verify(token)).payload).toMatchObject({ acr: 'mfa', auth_time: NOW - 60 });
    clockMs = (NOW + 545) * 1000;
    await expect(verifier.verify(token)).resolves.toBeDefined();
    clockMs = (NOW + 546) * 1000;
    const error = await expectRejection(verifier.verify(token), 'ERR_INSUFFICIENT_AUTHENTICATION', token);
    expect(error.wwwAuthenticate()).toMatch(/, acr_values="mfa", max_age=600$/);
    clockMs = NOW * 1000;
    await expectRejection(
      verifier.verify(await sign({ acr: 'pwd', auth_time: NOW })),
      'ERR_INSUFFICIENT_AUTHENTICATION',
    );
    await expectRejection(verifier.verify(await sign({ acr: 'mfa' })), 'ERR_INSUFFICIENT_AUTHENTICATION');
    await expectRejection(verifier.verify(await sign({ auth_time: NOW })), 'ERR_INSUFFICIENT_AUTHENTICATION');
  });

  it('checks the login again on every verified-token cache hit, with the clock of that moment', async () => {
    clockMs = NOW * 1000;
    const verifier = verifierFor({ maxAuthAgeSeconds: 60, cache: { verifiedTokens: 10 } });
    const token = await sign({ auth_time: NOW });
    await verifier.verify(token);
    await verifier.verify(token);
    clockMs = (NOW + 61) * 1000;
    await expectRejection(verifier.verify(token), 'ERR_INSUFFICIENT_AUTHENTICATION', token);
  });

  it('checks the login before the scope: a fresh login is what the client must get first', async () => {
    clockMs = NOW * 1000;
    const verifier = verifierFor({ acrValues: ['mfa'], requiredScopes: 'pay' });
    await expectRejection(
      verifier.verify(await sign({ acr: 'pwd', scope: 'read' })),
      'ERR_INSUFFICIENT_AUTHENTICATION',
    );
    await expectRejection(
      verifier.verify(await sign({ acr: 'mfa', scope: 'read' })),
      'ERR_INSUFFICIENT_SCOPE',
    );
  });

  it('refuses bad options at construction', () => {
    for (const options of [{ acrValues: [] }, { acrValues: ['a b'] }, { maxAuthAgeSeconds: -5 }]) {
      expect(thrown(() => verifierFor(options as Partial<JwtVerifierOptions>))).toMatchObject({
        name: 'TypeError',
        code: 'ERR_INVALID_ARGUMENT',
      });
    }
    expect(thrown(() => verifierFor({ maxAuthAgeSeconds: 1.5 })).message).toMatch(/maxAuthAgeSeconds/);
    expect(thrown(() => verifierFor({ acrValues: [''] })).message).toMatch(/acrValues/);
  });
});

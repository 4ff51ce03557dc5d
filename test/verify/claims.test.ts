import { thrownCode } from '../support/rejections.js';
import { describe, expect, it } from 'vitest';
import { type ClaimRules, checkClaims, grantedScopes, normalizeTyp } from '../../src/verify/claims.js';
import { JwtVerifyError } from '../../src/errors.js';

const NOW = 1_800_000_000;
const rules = (over: Partial<ClaimRules> = {}): ClaimRules => ({
  issuer: 'https://issuer.test',
  audiences: ['https://api.test'],
  clockToleranceSeconds: 0,
  maxTokenAgeSeconds: undefined,
  typ: undefined,
  requiredClaims: [],
  requiredScopes: [],
  ...over,
});
const base = { iss: 'https://issuer.test', aud: 'https://api.test', exp: NOW + 60, iat: NOW - 10 };

function codeOf(
  payload: Record<string, unknown>,
  r = rules(),
  header: Record<string, unknown> = { alg: 'RS256' },
) {
  return thrownCode(() => checkClaims(payload, header as never, r, NOW));
}

describe('checkClaims', () => {
  it('accepts a token that satisfies every rule', () => {
    expect(codeOf(base)).toBe('ok');
  });

  it('requires iss, exp and aud (RFC 9068 §2.2), aud only when an audience is configured', () => {
    for (const name of ['iss', 'exp', 'aud']) {
      const { [name]: _omit, ...rest } = base as Record<string, unknown>;
      expect(codeOf(rest)).toBe('ERR_CLAIM_INVALID');
    }
    const { aud: _aud, ...noAud } = base;
    expect(codeOf(noAud, rules({ audiences: null }))).toBe('ok');
  });

  it('compares iss exactly', () => {
    expect(codeOf({ ...base, iss: 'https://issuer.test/' })).toBe('ERR_ISSUER_MISMATCH');
    expect(codeOf({ ...base, iss: 'https://ISSUER.test' })).toBe('ERR_ISSUER_MISMATCH');
  });

  it('accepts aud as a string or an array containing an expected audience', () => {
    expect(codeOf({ ...base, aud: ['x', 'https://api.test'] })).toBe('ok');
    expect(codeOf({ ...base, aud: ['x', 'y'] })).toBe('ERR_AUDIENCE_MISMATCH');
    expect(codeOf({ ...base, aud: 'https://api.test/' })).toBe('ERR_AUDIENCE_MISMATCH');
    expect(codeOf({ ...base, aud: 'b' }, rules({ audiences: ['a', 'b'] }))).toBe('ok');
  });

  it('checks the types of registered claims', () => {
    expect(codeOf({ ...base, exp: '1' })).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, nbf: null })).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, iat: true })).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, iss: 1 })).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, sub: {} })).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, aud: [1] })).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, scope: ['a'] })).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, scp: [1] })).toBe('ERR_CLAIM_INVALID');
  });

  it('refuses an expired token at exp, honouring the clock tolerance', () => {
    expect(codeOf({ ...base, exp: NOW })).toBe('ERR_TOKEN_EXPIRED');
    expect(codeOf({ ...base, exp: NOW + 1 })).toBe('ok');
    expect(codeOf({ ...base, exp: NOW - 5 }, rules({ clockToleranceSeconds: 5 }))).toBe('ERR_TOKEN_EXPIRED');
    expect(codeOf({ ...base, exp: NOW - 4 }, rules({ clockToleranceSeconds: 5 }))).toBe('ok');
    expect(codeOf({ ...base, exp: -1 })).toBe('ERR_TOKEN_EXPIRED');
  });

  it('refuses nbf and iat in the future beyond the tolerance', () => {
    expect(codeOf({ ...base, nbf: NOW + 1 })).toBe('ERR_TOKEN_NOT_YET_VALID');
    expect(codeOf({ ...base, nbf: NOW })).toBe('ok');
    expect(codeOf({ ...base, nbf: NOW + 3 }, rules({ clockToleranceSeconds: 3 }))).toBe('ok');
    expect(codeOf({ ...base, iat: NOW + 1 })).toBe('ERR_TOKEN_NOT_YET_VALID');
  });

  it('enforces maxTokenAge from iat, which it then requires', () => {
    const r = rules({ maxTokenAgeSeconds: 60 });
    expect(codeOf({ ...base, iat: NOW - 60 }, r)).toBe('ok');
    expect(codeOf({ ...base, iat: NOW - 61 }, r)).toBe('ERR_TOKEN_TOO_OLD');
    const { iat: _iat, ...noIat } = base;
    expect(codeOf(noIat, r)).toBe('ERR_CLAIM_INVALID');
  });

  it('compares typ the RFC 9068 way', () => {
    const r = rules({ typ: normalizeTyp('at+jwt') });
    expect(codeOf(base, r, { alg: 'RS256', typ: 'at+jwt' })).toBe('ok');
    expect(codeOf(base, r, { alg: 'RS256', typ: 'application/AT+JWT' })).toBe('ok');
    expect(codeOf(base, r, { alg: 'RS256', typ: 'JWT' })).toBe('ERR_TYPE_MISMATCH');
    expect(codeOf(base, r, { alg: 'RS256' })).toBe('ERR_TYPE_MISMATCH');
  });

  it('requires the configured claims', () => {
    expect(codeOf(base, rules({ requiredClaims: ['sub'] }))).toBe('ERR_CLAIM_INVALID');
    expect(codeOf({ ...base, sub: 'u' }, rules({ requiredClaims: ['sub'] }))).toBe('ok');
  });

  it('requires every scope, from scope or scp, with a 403 that names them', () => {
    const r = rules({ requiredScopes: ['read', 'write'] });
    expect(codeOf({ ...base, scope: 'read write admin' }, r)).toBe('ok');
    expect(codeOf({ ...base, scp: ['write', 'read'] }, r)).toBe('ok');
    expect(codeOf({ ...base, scope: 'read' }, r)).toBe('ERR_INSUFFICIENT_SCOPE');
    try {
      checkClaims({ ...base, scope: 'read' }, { alg: 'RS256' }, r, NOW);
    } catch (error) {
      expect((error as JwtVerifyError).status).toBe(403);
      expect((error as JwtVerifyError).wwwAuthenticate('api')).toContain('scope="read write"');
    }
  });

  it('says what was expected and what was found', () => {
    try {
      checkClaims({ ...base, aud: 'https://other.test' }, { alg: 'RS256' }, rules(), NOW);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('https://api.test');
      expect((error as Error).message).toContain('https://other.test');
    }
  });
});

describe('grantedScopes', () => {
  it('reads the space-delimited scope, else scp', () => {
    expect(grantedScopes({ scope: 'a  b' })).toEqual(['a', 'b']);
    expect(grantedScopes({ scp: ['c'] })).toEqual(['c']);
    expect(grantedScopes({ scp: 'd e' })).toEqual(['d', 'e']);
    expect(grantedScopes({})).toEqual([]);
  });
});

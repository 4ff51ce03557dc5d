import { describe, expect, it } from 'vitest';
import { JwtVerifyError } from '../src/errors.js';

describe('JwtVerifyError.wwwAuthenticate', () => {
  it('keeps the quoted values inside the RFC 6750 §3 character set: " becomes \', others ?', () => {
    const error = new JwtVerifyError('ERR_AUDIENCE_MISMATCH', 'expected audience "a", found "b\\c" — ü');
    expect(error.wwwAuthenticate('api "v1"')).toBe(
      `Bearer realm="api 'v1'", error="invalid_token", error_description="expected audience 'a', found 'b?c' ? ?"`,
    );
  });

  it('names no error for a missing token (RFC 6750 §3.1)', () => {
    expect(new JwtVerifyError('ERR_TOKEN_MISSING', 'no token').wwwAuthenticate('api')).toBe(
      'Bearer realm="api"',
    );
  });
});

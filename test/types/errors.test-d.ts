// Error codes as callers narrow them: one union, exhaustive switches, the guard.
import { describe, expectTypeOf, it } from 'vitest';
import { ERROR_STATUS, JwtVerifyError, type JwtVerifyErrorCode, isJwtVerifyError } from '../../src/index.js';

/** The HTTP answer per code, written the way a resource server would. */
function describeCode(error: JwtVerifyError): string {
  switch (error.code) {
    case 'ERR_TOKEN_MISSING':
    case 'ERR_TOKEN_MALFORMED':
    case 'ERR_ALG_NOT_ALLOWED':
    case 'ERR_KEY_NOT_FOUND':
    case 'ERR_SIGNATURE_INVALID':
    case 'ERR_TOKEN_EXPIRED':
    case 'ERR_TOKEN_NOT_YET_VALID':
    case 'ERR_TOKEN_TOO_OLD':
    case 'ERR_ISSUER_MISMATCH':
    case 'ERR_AUDIENCE_MISMATCH':
    case 'ERR_TYPE_MISMATCH':
    case 'ERR_CLAIM_INVALID':
    case 'ERR_CERTIFICATE_BINDING':
    case 'ERR_DPOP_PROOF_INVALID':
    case 'ERR_DPOP_NONCE_REQUIRED':
    case 'ERR_DPOP_BINDING':
    case 'ERR_DECRYPTION_FAILED':
      return 'unauthorized';
    case 'ERR_INSUFFICIENT_AUTHENTICATION':
      return 'log in again';
    case 'ERR_INSUFFICIENT_SCOPE':
      return 'forbidden';
    case 'ERR_ISSUER_UNAVAILABLE':
    case 'ERR_METADATA_INVALID':
      return 'unavailable';
    default: {
      // Exhaustive: a code added to the union without a case above stops this compiling.
      const unhandled: never = error.code;
      return unhandled;
    }
  }
}

describe('JwtVerifyErrorCode', () => {
  it('is the union of the contract codes', () => {
    expectTypeOf<JwtVerifyErrorCode>().toEqualTypeOf<
      | 'ERR_TOKEN_MISSING'
      | 'ERR_TOKEN_MALFORMED'
      | 'ERR_ALG_NOT_ALLOWED'
      | 'ERR_KEY_NOT_FOUND'
      | 'ERR_SIGNATURE_INVALID'
      | 'ERR_TOKEN_EXPIRED'
      | 'ERR_TOKEN_NOT_YET_VALID'
      | 'ERR_TOKEN_TOO_OLD'
      | 'ERR_ISSUER_MISMATCH'
      | 'ERR_AUDIENCE_MISMATCH'
      | 'ERR_TYPE_MISMATCH'
      | 'ERR_CLAIM_INVALID'
      | 'ERR_INSUFFICIENT_SCOPE'
      | 'ERR_ISSUER_UNAVAILABLE'
      | 'ERR_METADATA_INVALID'
      | 'ERR_CERTIFICATE_BINDING'
      | 'ERR_DPOP_PROOF_INVALID'
      | 'ERR_DPOP_NONCE_REQUIRED'
      | 'ERR_DPOP_BINDING'
      | 'ERR_INSUFFICIENT_AUTHENTICATION'
      | 'ERR_DECRYPTION_FAILED'
    >();
    expectTypeOf<keyof typeof ERROR_STATUS>().toEqualTypeOf<JwtVerifyErrorCode>();
  });

  it('narrows in an exhaustive switch over err.code', () => {
    expectTypeOf(describeCode).returns.toEqualTypeOf<string>();
    expectTypeOf<JwtVerifyError['code']>().toEqualTypeOf<JwtVerifyErrorCode>();
  });

  it('refuses a comparison with a code that does not exist', (context) => {
    const error = new JwtVerifyError('ERR_TOKEN_EXPIRED', 'expired');
    // @ts-expect-error: no such code, the comparison can never be true
    context.expect(error.code === 'ERR_EXPIRED').toBe(false);
  });

  it('constructs only with a known code', () => {
    // @ts-expect-error: not a code
    void new JwtVerifyError('ERR_NOPE', 'message');
  });
});

describe('isJwtVerifyError', () => {
  it('narrows unknown to JwtVerifyError', () => {
    const caught: unknown = new Error('x');
    if (isJwtVerifyError(caught)) {
      expectTypeOf(caught).toEqualTypeOf<JwtVerifyError>();
      expectTypeOf(caught.status).toEqualTypeOf<number>();
      expectTypeOf(caught.wwwAuthenticate).returns.toEqualTypeOf<string>();
    }
  });

  it('narrows the code to the one asked for', () => {
    const caught: unknown = new Error('x');
    if (isJwtVerifyError(caught, 'ERR_TOKEN_EXPIRED')) {
      expectTypeOf(caught.code).toEqualTypeOf<'ERR_TOKEN_EXPIRED'>();
      expectTypeOf(caught.status).toEqualTypeOf<number>();
    }
  });
});

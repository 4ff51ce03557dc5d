import { JwtVerifyError } from '../errors.js';

/**
 * Extracts the token from an `Authorization` header value: `Bearer` (any case), one or
 * more spaces, then a b64token (RFC 6750 §2.1).
 */
export function bearerToken(authorization: string | readonly string[] | null | undefined): string {
  if (authorization === undefined || authorization === null || authorization === '') {
    throw new JwtVerifyError('ERR_TOKEN_MISSING', 'no Authorization header');
  }
  if (typeof authorization !== 'string') {
    throw new JwtVerifyError('ERR_TOKEN_MALFORMED', 'more than one Authorization header');
  }
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/.exec(authorization.trim());
  if (!match || match[1]!.toLowerCase() !== 'bearer') {
    throw new JwtVerifyError('ERR_TOKEN_MISSING', 'the Authorization header has no Bearer credentials');
  }
  const credentials = match[2] ?? '';
  if (credentials === '') throw new JwtVerifyError('ERR_TOKEN_MISSING', 'the Bearer credentials are empty');
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(credentials)) {
    throw new JwtVerifyError(
      'ERR_TOKEN_MALFORMED',
      'the Bearer credentials are not a single b64token (RFC 6750 §2.1)',
    );
  }
  return credentials;
}

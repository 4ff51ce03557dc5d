/** The `Authorization` header (RFC 6750 §2.1, RFC 9449 §7.1): its scheme and token, read strictly. */
import { type AuthScheme, JwtVerifyError, describeValue } from '../errors.js';

/**
 * Reads an `Authorization` header value: the scheme (`Bearer`, or `DPoP` when
 * `acceptDpop`; any case), one or more spaces, then a b64token (RFC 6750 §2.1, RFC 9449 §7.1).
 */
export function authorizationCredentials(
  authorization: string | readonly string[] | null | undefined,
  acceptDpop: boolean,
): { scheme: AuthScheme; token: string } {
  if (authorization === undefined || authorization === null || authorization === '') {
    throw new JwtVerifyError('ERR_TOKEN_MISSING', 'no Authorization header');
  }
  if (typeof authorization !== 'string') {
    throw new JwtVerifyError(
      'ERR_TOKEN_MALFORMED',
      Array.isArray(authorization)
        ? 'more than one Authorization header'
        : `the Authorization header is not text: found ${describeValue(authorization)}`,
    );
  }
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/.exec(authorization.trim());
  const name = match?.[1]!.toLowerCase();
  const scheme: AuthScheme | undefined =
    name === 'bearer' ? 'Bearer' : name === 'dpop' && acceptDpop ? 'DPoP' : undefined;
  if (scheme === undefined) {
    throw new JwtVerifyError(
      'ERR_TOKEN_MISSING',
      `the Authorization header has no ${acceptDpop ? 'Bearer or DPoP' : 'Bearer'} credentials`,
    );
  }
  const credentials = match![2] ?? '';
  if (credentials === '')
    throw new JwtVerifyError('ERR_TOKEN_MISSING', `the ${scheme} credentials are empty`);
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(credentials)) {
    throw new JwtVerifyError(
      'ERR_TOKEN_MALFORMED',
      `the ${scheme} credentials are not a single b64token (RFC 6750 section 2.1)`,
    );
  }
  return { scheme, token: credentials };
}

/**
 * Extracts the token from an `Authorization` header value: `Bearer` (any case), one or
 * more spaces, then a b64token (RFC 6750 §2.1).
 *
 * @example
 * bearerToken('Bearer eyJhbGciOi...'); // 'eyJhbGciOi...'
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-2.1
 */
export function bearerToken(authorization: string | readonly string[] | null | undefined): string {
  return authorizationCredentials(authorization, false).token;
}

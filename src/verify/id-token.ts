/** `verifyIdToken()`: the OpenID Connect ID token checks on top of the verifier (nonce, auth_time, at_hash, c_hash). */
import { JwtVerifyError, invalidArgument } from '../errors.js';
import { functionOption, nonEmptyStringOption, nonNegativeNumberOption } from '../option-checks.js';
import { encodeBase64Url, sha2 } from '../token/base64url.js';
import type { JwtPayload } from '../token/parse.js';
import { normalizeTyp } from './claims.js';
import type { VerifyResult } from './options.js';
import type { JwtVerifier } from './verifier.js';

/** Options of {@link verifyIdToken}: what the client sent and received with the ID token. */
export interface VerifyIdTokenOptions {
  /**
   * The `nonce` of the authentication request (what `buildAuthorizationUrl` returned): the
   * token's must equal it. Required: pass `null` when none was sent (a refreshed ID token),
   * explicitly; then a `nonce` in the token is not checked.
   */
  nonce: string | null;
  /** The `max_age` sent, in seconds: `auth_time` is then required and may be at most this old. */
  maxAge?: number;
  /** The access token issued with the ID token: when the ID token has `at_hash`, it must match. */
  accessToken?: string;
  /** The authorization code the ID token came with (hybrid flow): `c_hash` is then required and must match. */
  code?: string;
  /** Seconds of clock skew tolerated for `auth_time`. Default 0. */
  clockTolerance?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. For tests. */
  now?: () => number;
}

/**
 * Verifies an OpenID Connect ID token (Core §3.1.3.7): the signature, `iss`, `aud`, `exp`
 * with `verifier` (a `JwtVerifier` built with `audience: clientId`), then `sub` and `iat`
 * present, `azp` (required when `aud` has several values, and then the client), `nonce`,
 * `auth_time` with `maxAge`, and the left-half SHA-2 hashes `at_hash` (when present) and
 * `c_hash` (required when `code` is given) of the access token and code. An access token
 * (`typ: at+jwt`) is refused. Rejects with a `JwtVerifyError`: `ERR_CLAIM_INVALID` for a
 * missing or mismatched claim, `ERR_AUDIENCE_MISMATCH` for another client's `azp`,
 * `ERR_TOKEN_TOO_OLD` past `maxAge`, `ERR_TYPE_MISMATCH` for an access token.
 *
 * @example
 * const tokens = await exchangeAuthorizationCode(metadata, { clientId, code, codeVerifier, redirectUri });
 * const idTokens = new JwtVerifier({ issuer: metadata.issuer, audience: clientId });
 * const { payload } = await verifyIdToken(idTokens, tokens.id_token!, {
 *   nonce: saved.nonce,
 *   accessToken: tokens.access_token,
 * });
 * payload.sub;
 * @see https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation
 */
export async function verifyIdToken<Payload extends JwtPayload = JwtPayload>(
  verifier: JwtVerifier,
  idToken: string,
  options: VerifyIdTokenOptions,
): Promise<VerifyResult<Payload>> {
  const clientId = verifier?.audience?.length === 1 ? verifier.audience[0]! : undefined;
  if (typeof verifier?.verify !== 'function' || clientId === undefined) {
    throw invalidArgument('verifyIdToken needs a JwtVerifier built with audience: <client_id> (one string)');
  }
  const checked = checkOptions(options);
  // An ID token goes to the client, never to a resource server as a credential: a `cnf` in
  // it binds nothing this check could refuse.
  const result = await verifier.verify<Payload>(idToken, { allowBoundTokens: true });
  const { payload, header } = result;
  if (typeof header.typ === 'string' && normalizeTyp(header.typ) === 'at+jwt') {
    throw new JwtVerifyError(
      'ERR_TYPE_MISMATCH',
      'the token is an access token (typ at+jwt), not an ID token',
    );
  }
  if (payload.sub === undefined) throw claimInvalid('the required "sub" claim is missing');
  if (payload.iat === undefined) throw claimInvalid('the required "iat" claim is missing');
  checkAuthorizedParty(payload, clientId);
  checkNonce(payload.nonce, checked.nonce);
  if (checked.maxAge !== undefined) checkAuthTime(payload.auth_time, checked);
  if (checked.accessToken !== undefined && payload.at_hash !== undefined) {
    await checkHash(payload, 'at_hash', header.alg, checked.accessToken, 'access token');
  }
  if (checked.code !== undefined) await checkHash(payload, 'c_hash', header.alg, checked.code, 'code');
  return result;
}

/**
 * The `at_hash` / `c_hash` of a value: the left half of its hash by the SHA-2 of the ID
 * token's `alg` (SHA-512 for EdDSA), base64url (Core §3.1.3.6, §3.3.2.11).
 */
export async function idTokenHash(alg: string, value: string): Promise<string> {
  const bits = /(256|384|512)$/.exec(alg)?.[1] ?? (/^(EdDSA|Ed25519)$/.test(alg) ? '512' : undefined);
  if (bits === undefined) throw claimInvalid(`no hash is defined for ID tokens signed with ${alg}`);
  const digest = await sha2(`SHA-${bits}` as 'SHA-256', value);
  return encodeBase64Url(digest.subarray(0, digest.length / 2));
}

type CheckedOptions = Required<Pick<VerifyIdTokenOptions, 'clockTolerance' | 'now'>> &
  Pick<VerifyIdTokenOptions, 'nonce' | 'maxAge' | 'accessToken' | 'code'>;

function checkOptions(options: VerifyIdTokenOptions): CheckedOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('verifyIdToken needs options with nonce (null when none was sent)');
  }
  const { nonce, maxAge, accessToken, code, clockTolerance, now } = options;
  if (nonce !== null && (typeof nonce !== 'string' || nonce === '')) {
    throw invalidArgument(
      'nonce must be the string sent in the authorization request, or null when none was sent',
    );
  }
  for (const [name, value] of [
    ['accessToken', accessToken],
    ['code', code],
  ] as const) {
    if (value !== undefined) nonEmptyStringOption(value, name);
  }
  functionOption(now, 'now');
  return {
    nonce,
    maxAge: maxAge === undefined ? undefined : nonNegativeNumberOption(maxAge, 'maxAge', 0),
    accessToken,
    code,
    clockTolerance: nonNegativeNumberOption(clockTolerance, 'clockTolerance', 0),
    now: now ?? (() => Date.now()),
  };
}

function claimInvalid(message: string): JwtVerifyError {
  return new JwtVerifyError('ERR_CLAIM_INVALID', message);
}

/** Core §3.1.3.7 steps 4 and 5: `azp` is required with several audiences, and names this client. */
function checkAuthorizedParty(payload: JwtPayload, clientId: string): void {
  const { aud, azp } = payload;
  if (azp === undefined) {
    if (Array.isArray(aud) && aud.length > 1) {
      throw claimInvalid(`the token has ${aud.length} audiences and no "azp" claim naming the client`);
    }
    return;
  }
  if (azp !== clientId) {
    throw new JwtVerifyError(
      'ERR_AUDIENCE_MISMATCH',
      `the token was issued to another client: expected azp ${JSON.stringify(clientId)}, found ${JSON.stringify(azp)}`,
    );
  }
}

/** The nonce is not echoed: it binds the token to one browser session. */
function checkNonce(found: unknown, expected: string | null): void {
  if (expected === null) return;
  if (found === undefined)
    throw claimInvalid('the token has no "nonce", but the authorization request sent one');
  if (found !== expected) {
    throw claimInvalid('the token\'s "nonce" differs from the one sent in the authorization request');
  }
}

function checkAuthTime(authTime: unknown, options: CheckedOptions): void {
  if (typeof authTime !== 'number' || !Number.isFinite(authTime)) {
    throw claimInvalid(
      `"auth_time" is required with maxAge and must be a NumericDate, found ${authTime === undefined ? 'nothing' : typeof authTime}`,
    );
  }
  const now = Math.floor(options.now() / 1000);
  const { clockTolerance, maxAge } = options;
  if (authTime > now + clockTolerance) {
    throw claimInvalid(
      `"auth_time" ${authTime} is in the future (now ${now}, clock tolerance ${clockTolerance} s)`,
    );
  }
  if (now - authTime - clockTolerance > maxAge!) {
    throw new JwtVerifyError(
      'ERR_TOKEN_TOO_OLD',
      `the user authenticated ${now - authTime} s ago, more than the maxAge of ${maxAge} s: authenticate again`,
    );
  }
}

async function checkHash(
  payload: JwtPayload,
  claim: 'at_hash' | 'c_hash',
  alg: string,
  value: string,
  what: string,
): Promise<void> {
  const found = payload[claim];
  if (found === undefined) throw claimInvalid(`the token has no "${claim}", which the ${what} requires`);
  if (typeof found !== 'string' || found !== (await idTokenHash(alg, value))) {
    throw claimInvalid(`the token's "${claim}" does not match the ${what} it came with`);
  }
}

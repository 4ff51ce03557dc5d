/** Step-up authentication (RFC 9470): the `acr` and `auth_time` a resource requires, checked. */
import { type AuthenticationRequirement, JwtVerifyError, describeValue, invalidArgument } from '../errors.js';
import { ChallengedError } from '../dpop/challenge.js';
import type { JwtPayload } from '../token/parse.js';

export type { AuthenticationRequirement } from '../errors.js';

/**
 * An `acr` value as it can travel in a challenge's space-separated `acr_values`: printable
 * ASCII without space, `"` or `\` (RFC 9470 §3, RFC 6750 §3).
 */
const ACR_VALUE = /^[!#-[\]-~]+$/;

/** A requirement's parts, checked; `undefined` when it requires nothing. `names` are the options' names, for messages. */
export function parseAuthenticationRequirement(
  acrValues: unknown,
  maxAgeSeconds: unknown,
  names: { acrValues: string; maxAgeSeconds: string },
): AuthenticationRequirement | undefined {
  if (
    acrValues !== undefined &&
    (!Array.isArray(acrValues) ||
      acrValues.length === 0 ||
      acrValues.some((value) => typeof value !== 'string' || !ACR_VALUE.test(value)))
  ) {
    throw invalidArgument(
      `${names.acrValues} must be a non-empty array of acr values (printable ASCII without space, " or \\)`,
    );
  }
  if (
    maxAgeSeconds !== undefined &&
    (typeof maxAgeSeconds !== 'number' || !Number.isSafeInteger(maxAgeSeconds) || maxAgeSeconds < 0)
  ) {
    throw invalidArgument(`${names.maxAgeSeconds} must be a whole number of seconds, 0 or more`);
  }
  if (acrValues === undefined && maxAgeSeconds === undefined) return undefined;
  return {
    ...(acrValues === undefined ? {} : { acrValues: Object.freeze([...(acrValues as string[])]) }),
    ...(maxAgeSeconds === undefined ? {} : { maxAgeSeconds: maxAgeSeconds as number }),
  };
}

/**
 * The `requireAuthentication` option of `authenticate()` and an adapter's route:
 * `{ acrValues?, maxAgeSeconds? }`, checked; `undefined` when it requires nothing.
 */
export function parseRequireAuthentication(value: unknown): AuthenticationRequirement | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) {
    throw invalidArgument('requireAuthentication must be an object: { acrValues?, maxAgeSeconds? }');
  }
  const { acrValues, maxAgeSeconds } = value as AuthenticationRequirement;
  return parseAuthenticationRequirement(acrValues, maxAgeSeconds, {
    acrValues: 'requireAuthentication.acrValues',
    maxAgeSeconds: 'requireAuthentication.maxAgeSeconds',
  });
}

/**
 * The stricter of two requirements, as both must hold: the `acr` values both accept (in
 * `a`'s order) and the smaller maximum age. Two lists with no value in common keep `a`'s
 * list: no token could meet both, and the challenge should still name something to ask for.
 */
export function stricterRequirement(
  a: AuthenticationRequirement | undefined,
  b: AuthenticationRequirement | undefined,
): AuthenticationRequirement | undefined {
  if (!a || !b) return a ?? b;
  const common = a.acrValues && b.acrValues && a.acrValues.filter((acr) => b.acrValues!.includes(acr));
  const acrValues = common?.length ? common : (a.acrValues ?? b.acrValues);
  const ages = [a.maxAgeSeconds, b.maxAgeSeconds].filter((age): age is number => age !== undefined);
  return {
    ...(acrValues ? { acrValues } : {}),
    ...(ages.length ? { maxAgeSeconds: Math.min(...ages) } : {}),
  };
}

/**
 * Throws `ERR_INSUFFICIENT_AUTHENTICATION` unless the payload meets the requirement: its
 * `acr` is one of `acrValues` (a token without `acr` does not), and its `auth_time` is at
 * most `maxAgeSeconds` (plus `toleranceSeconds`) before `nowSeconds` (a token without
 * `auth_time` does not). An `acr` or `auth_time` of the wrong type is `ERR_CLAIM_INVALID`.
 * The error's challenge names the whole requirement: the client's next login must meet all of it.
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function checkAuthentication(
  payload: JwtPayload,
  requirement: AuthenticationRequirement,
  nowSeconds: number,
  toleranceSeconds: number,
): void {
  const { acrValues, maxAgeSeconds } = requirement;
  const { acr, auth_time: authTime } = payload;
  if (acrValues) {
    if (acr !== undefined && typeof acr !== 'string') {
      throw new JwtVerifyError(
        'ERR_CLAIM_INVALID',
        `the "acr" claim must be a string, found ${describeValue(acr)}`,
      );
    }
    if (acr === undefined || !acrValues.includes(acr)) {
      throw insufficient(
        `the user's authentication (acr ${describeValue(acr)}) is not one of ${acrValues.join(' ')}`,
        requirement,
      );
    }
  }
  if (maxAgeSeconds !== undefined) {
    if (authTime !== undefined && (typeof authTime !== 'number' || !Number.isFinite(authTime))) {
      throw new JwtVerifyError(
        'ERR_CLAIM_INVALID',
        `the "auth_time" claim must be a NumericDate (seconds), found ${describeValue(authTime)}`,
      );
    }
    if (authTime === undefined) {
      throw insufficient(
        `the token has no "auth_time", and the user must have logged in within ${maxAgeSeconds} s`,
        requirement,
      );
    }
    const age = nowSeconds - authTime;
    if (age - toleranceSeconds > maxAgeSeconds) {
      throw insufficient(
        `the user logged in ${age} s ago, more than the ${maxAgeSeconds} s allowed`,
        requirement,
      );
    }
  }
}

function insufficient(message: string, requiredAuthentication: AuthenticationRequirement): JwtVerifyError {
  // A ChallengedError writes `insufficient_user_authentication` with `acr_values` and
  // `max_age`, also after `verifyRequest()` gives it the request's schemes.
  return new ChallengedError('ERR_INSUFFICIENT_AUTHENTICATION', message, {
    details: { requiredAuthentication },
  });
}

// What the Express, Fastify and Hono adapters share: the verifier and options checked once, at
// start-up, and the per-route scope and step-up checks that read back the options that authenticated.
import type { RequestVerifyResult } from '../verify/request.js';
import { invalidArgument } from '../errors.js';
import {
  type AuthenticationRequirement,
  parseRequireAuthentication,
  stricterRequirement,
} from '../verify/authentication.js';
import {
  type AuthenticateFailure,
  type AuthenticateOptions,
  type AuthenticateRequest,
  type AuthenticateResult,
  type ResolvedAuthenticateOptions,
  type TokenVerifier,
  authenticate,
  authorizeToken,
  checkVerifier,
  parseRequiredScopes,
  resolveAuthenticateOptions,
} from './authenticate.js';

/** The options of the `bearerAuth()` that authenticated a request, by the framework's request object. */
const authenticatedWith = new WeakMap<object, ResolvedAuthenticateOptions>();

/**
 * `bearerAuth()`'s decision for one request (`key` is the framework's request object, for
 * `requireScopes()`); throws a coded `TypeError` for a bad verifier or options, here.
 */
export function requestAuthenticator(
  verifier: TokenVerifier,
  options: AuthenticateOptions | undefined,
): (request: AuthenticateRequest, key: object) => Promise<AuthenticateResult> {
  checkVerifier(verifier);
  const resolved = resolveAuthenticateOptions(options);
  return async (request, key) => {
    const result = await authenticate(verifier, request, resolved);
    if (result.ok) authenticatedWith.set(key, resolved);
    return result;
  };
}

const NOT_AUTHENTICATED = 'requireScopes() must run after bearerAuth(): this request was not authenticated';

/**
 * `requireScopes()`'s decision: `undefined` when the token grants every scope, else the 403.
 * Throws `Error(notAuthenticated)` when `bearerAuth()` did not authenticate the request.
 */
export function scopeRequirement(
  scopes: readonly string[],
  notAuthenticated = NOT_AUTHENTICATED,
): (token: RequestVerifyResult | null | undefined, key: object) => AuthenticateFailure | undefined {
  const required = parseRequiredScopes(scopes);
  return (token, key) => {
    const options = authenticatedWith.get(key);
    if (!token || options === undefined) throw new Error(notAuthenticated);
    const result = authorizeToken(token, required, undefined, options);
    return result.ok ? undefined : result;
  };
}

/**
 * `requireAuthentication()`'s decision (RFC 9470): `undefined` when the token's `acr` and
 * `auth_time` meet both the route's requirement and `bearerAuth()`'s `requireAuthentication`,
 * else the 401 `insufficient_user_authentication` naming the stricter of the two. Throws a
 * coded `TypeError` at once for a requirement that requires nothing.
 */
export function authenticationRequirement(
  requirement: AuthenticationRequirement,
  notAuthenticated = NOT_AUTHENTICATED.replace('requireScopes', 'requireAuthentication'),
): (token: RequestVerifyResult | null | undefined, key: object) => AuthenticateFailure | undefined {
  const route = parseRequireAuthentication(requirement);
  if (!route) throw invalidArgument('requireAuthentication needs acrValues, maxAgeSeconds or both');
  return (token, key) => {
    const options = authenticatedWith.get(key);
    if (!token || options === undefined) throw new Error(notAuthenticated);
    const result = authorizeToken(token, [], stricterRequirement(route, options.authentication), options);
    return result.ok ? undefined : result;
  };
}

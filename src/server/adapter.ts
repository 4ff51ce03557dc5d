// What the Express, Fastify and Hono adapters share: the verifier and options checked once, at
// start-up, and the per-route scope check that reads back the options that authenticated.
import type { RequestVerifyResult } from '../verify/request.js';
import {
  type AuthenticateFailure,
  type AuthenticateOptions,
  type AuthenticateRequest,
  type AuthenticateResult,
  type ResolvedAuthenticateOptions,
  type TokenVerifier,
  authenticate,
  authorizeScopes,
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
    const result = authorizeScopes(token, required, options);
    return result.ok ? undefined : result;
  };
}

/**
 * `oauth-jwt-verify/hono`: bearer-token middleware for Hono over `authenticate()`
 * (401/403/503 with the RFC 6750 `WWW-Authenticate` header). Hono is an optional peer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import type { AuthenticateFailure, AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';
import { authenticationRequirement, requestAuthenticator, scopeRequirement } from '../server/adapter.js';
import type { AuthenticationRequirement } from '../verify/authentication.js';
import type { RequestVerifyResult } from '../verify/request.js';
import type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';
import { resourceMetadataResponder } from '../server/resource-metadata.js';

export type { AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';
export type { AuthenticationRequirement } from '../verify/authentication.js';
export type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';

/**
 * The Hono `Env` of routes behind {@link bearerAuth}: `c.get('auth')` is the verified token.
 *
 * @example
 * const app = new Hono<BearerAuthEnv>();
 */
export interface BearerAuthEnv {
  Variables: {
    /** The verified access token (`{ payload, header }`). */
    auth: RequestVerifyResult;
  };
}

function toResponse(failure: AuthenticateFailure): Response {
  return new Response(JSON.stringify(failure.body), { status: failure.status, headers: failure.headers });
}

/**
 * Hono 4 middleware that requires a valid `Authorization: Bearer` access token and sets
 * `c.get('auth')` (`{ payload, header }`); otherwise it answers with the RFC 6750 rejection
 * `authenticate()` decided (401, 403, 503 with `Retry-After`, or 500). Runs wherever Hono
 * runs (Node, Workers, Deno, Bun). Bad options throw a `TypeError` here, at start-up.
 *
 * @example
 * import { Hono } from 'hono';
 * import { JwtVerifier } from 'oauth-jwt-verify';
 * import { type BearerAuthEnv, bearerAuth, requireScopes } from 'oauth-jwt-verify/hono';
 *
 * const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
 * const app = new Hono<BearerAuthEnv>();
 * app.use('/api/*', bearerAuth(verifier, { realm: 'api' }));
 * app.get('/api/orders', requireScopes('read:orders'), (c) => c.json({ sub: c.get('auth').payload.sub }));
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
export function bearerAuth(
  verifier: TokenVerifier,
  options?: AuthenticateOptions,
): MiddlewareHandler<BearerAuthEnv> {
  const authenticateRequest = requestAuthenticator(verifier, options);
  return async (c, next) => {
    const result = await authenticateRequest(c.req.raw, c.req.raw);
    if (!result.ok) return toResponse(result);
    for (const [name, value] of Object.entries(result.headers ?? {})) c.header(name, value);
    c.set('auth', result.token);
    await next();
  };
}

/**
 * Per-route scope requirement, after {@link bearerAuth}: answers 403 `insufficient_scope`
 * (naming the scopes) unless the token grants every one. Each argument is a scope or a
 * space-delimited list.
 *
 * @example
 * app.delete('/api/orders/:id', requireScopes('write:orders'), (c) => c.body(null, 204));
 */
export function requireScopes(...scopes: string[]): MiddlewareHandler<BearerAuthEnv> {
  return routeCheck(scopeRequirement(scopes));
}

/**
 * Per-route step-up authentication (RFC 9470), after {@link bearerAuth}: answers 401
 * `insufficient_user_authentication` with `acr_values` / `max_age` unless the token's
 * `acr` is one of `acrValues` and its `auth_time` is at most `maxAgeSeconds` ago (by this
 * server's clock). With `bearerAuth()`'s own `requireAuthentication`, both hold: the
 * challenge names the stricter.
 *
 * @example
 * app.post('/api/payments', requireAuthentication({ acrValues: ['mfa'], maxAgeSeconds: 300 }), (c) => c.body(null, 201));
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function requireAuthentication(
  requirement: AuthenticationRequirement,
): MiddlewareHandler<BearerAuthEnv> {
  return routeCheck(authenticationRequirement(requirement));
}

function routeCheck(
  check: (token: RequestVerifyResult | undefined, key: object) => AuthenticateFailure | undefined,
): MiddlewareHandler<BearerAuthEnv> {
  return async (c, next) => {
    const failure = check(c.get('auth') as RequestVerifyResult | undefined, c.req.raw);
    if (failure) return toResponse(failure);
    await next();
  };
}

/**
 * Hono middleware that serves a resource's RFC 9728 metadata at its well-known path
 * (`/.well-known/oauth-protected-resource/<path of the resource>`, CORS-readable) and passes
 * every other request on. Use it on `*`, before `bearerAuth()`.
 *
 * @example
 * import { protectedResourceMetadata } from 'oauth-jwt-verify';
 * import { bearerAuth, serveResourceMetadata } from 'oauth-jwt-verify/hono';
 *
 * const metadata = protectedResourceMetadata({
 *   resource: 'https://api.example.com/orders',
 *   authorizationServers: ['https://issuer.example.com'],
 * });
 * app.use('*', serveResourceMetadata(metadata));
 * app.use('/orders/*', bearerAuth(verifier, { resourceMetadata: metadata }));
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function serveResourceMetadata(metadata: ProtectedResourceMetadata): MiddlewareHandler {
  const answer = resourceMetadataResponder(metadata);
  return async (c, next) => {
    const found = answer(c.req.raw);
    if (!found) return next();
    return new Response(found.body, found);
  };
}

/**
 * `oauth-jwt-verify/hono`: bearer-token middleware for Hono over {@link authenticate}
 * (401/403/503 with the RFC 6750 `WWW-Authenticate` header). Hono is an optional peer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @module
 */
import type { MiddlewareHandler } from 'hono';
import {
  type AuthenticateFailure,
  type AuthenticateOptions,
  type ResolvedAuthenticateOptions,
  type TokenVerifier,
  authenticate,
  authorizeScopes,
  checkVerifier,
  parseRequiredScopes,
  resolveAuthenticateOptions,
} from '../server/authenticate.js';
import type { RequestVerifyResult } from '../verify/request.js';

export type { AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';

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

/** The options of the `bearerAuth()` that authenticated a request, for the realm of `requireScopes()`. */
const settings = new WeakMap<object, ResolvedAuthenticateOptions>();

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
  checkVerifier(verifier);
  const resolved = resolveAuthenticateOptions(options);
  return async (c, next) => {
    const result = await authenticate(verifier, c.req.raw, resolved);
    if (!result.ok) return toResponse(result);
    for (const [name, value] of Object.entries(result.headers ?? {})) c.header(name, value);
    c.set('auth', result.token);
    settings.set(c.req.raw, resolved);
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
  const required = parseRequiredScopes(scopes);
  return async (c, next) => {
    const auth = c.get('auth') as RequestVerifyResult | undefined;
    const options = settings.get(c.req.raw);
    if (auth === undefined || options === undefined) {
      throw new Error('requireScopes() must run after bearerAuth(): this request was not authenticated');
    }
    const result = authorizeScopes(auth, required, options);
    if (!result.ok) return toResponse(result);
    await next();
  };
}

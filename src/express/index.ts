/**
 * `oauth-jwt-verify/express`: bearer-token middleware for Express over `authenticate()`
 * (401/403/503 with the RFC 6750 `WWW-Authenticate` header). Express is an optional peer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @module
 */
import type { RequestHandler, Response } from 'express';
import type { AuthenticateFailure, AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';
import { authenticationRequirement, requestAuthenticator, scopeRequirement } from '../server/adapter.js';
import type { AuthenticationRequirement } from '../verify/authentication.js';
import type { RequestVerifyResult } from '../verify/request.js';
import type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';
import { resourceMetadataMiddleware } from '../server/resource-metadata.js';

export type { AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';
export type { AuthenticationRequirement } from '../verify/authentication.js';
export type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';

declare global {
  namespace Express {
    interface Request {
      /** The verified access token, set by `bearerAuth()` (absent on routes it does not guard). */
      auth?: RequestVerifyResult;
    }
  }
}

function send(res: Response, failure: AuthenticateFailure): void {
  res.status(failure.status).set(failure.headers).send(JSON.stringify(failure.body));
}

/**
 * Express middleware (Express 4 and 5) that requires a valid `Authorization: Bearer`
 * access token and sets `req.auth` (`{ payload, header }`); otherwise it answers with the
 * RFC 6750 rejection `authenticate()` decided (401, 403, 503 with `Retry-After`, or 500).
 * Bad options throw a `TypeError` here, at start-up.
 *
 * @example
 * import express from 'express';
 * import { JwtVerifier } from 'oauth-jwt-verify';
 * import { bearerAuth, requireScopes } from 'oauth-jwt-verify/express';
 *
 * const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
 * const app = express();
 * app.use('/api', bearerAuth(verifier, { realm: 'api' }));
 * app.get('/api/orders', requireScopes('read:orders'), (req, res) => {
 *   res.json({ sub: req.auth?.payload.sub });
 * });
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
export function bearerAuth(verifier: TokenVerifier, options?: AuthenticateOptions): RequestHandler {
  const authenticateRequest = requestAuthenticator(verifier, options);
  return (req, res, next) => {
    authenticateRequest(req, req).then((result) => {
      if (!result.ok) return send(res, result);
      if (result.headers) res.set(result.headers);
      req.auth = result.token;
      next();
    }, next);
  };
}

/**
 * Per-route scope requirement, after `bearerAuth()`: answers 403 `insufficient_scope`
 * (naming the scopes) unless the token grants every one. Each argument is a scope or a
 * space-delimited list.
 *
 * @example
 * app.delete('/api/orders/:id', requireScopes('write:orders'), (req, res) => {
 *   res.status(204).end();
 * });
 */
export function requireScopes(...scopes: string[]): RequestHandler {
  return routeCheck(scopeRequirement(scopes));
}

/**
 * Per-route step-up authentication (RFC 9470), after `bearerAuth()`: answers 401
 * `insufficient_user_authentication` with `acr_values` / `max_age` unless the token's
 * `acr` is one of `acrValues` and its `auth_time` is at most `maxAgeSeconds` ago (by this
 * server's clock). With `bearerAuth()`'s own `requireAuthentication`, both hold: the
 * challenge names the stricter (the common `acr` values, the smaller age).
 *
 * @example
 * app.post('/api/payments', requireAuthentication({ acrValues: ['mfa'], maxAgeSeconds: 300 }), (req, res) => {
 *   res.status(201).end();
 * });
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function requireAuthentication(requirement: AuthenticationRequirement): RequestHandler {
  return routeCheck(authenticationRequirement(requirement));
}

function routeCheck(
  check: (token: RequestVerifyResult | undefined, key: object) => AuthenticateFailure | undefined,
): RequestHandler {
  return (req, res, next) => {
    let failure: AuthenticateFailure | undefined;
    try {
      failure = check(req.auth, req);
    } catch (error) {
      next(error);
      return;
    }
    if (failure) send(res, failure);
    else next();
  };
}

/**
 * Express middleware that serves a resource's RFC 9728 metadata at its well-known path
 * (`/.well-known/oauth-protected-resource/<path of the resource>`, CORS-readable) and passes
 * every other request on. Mount it at the application root, before `bearerAuth()`.
 *
 * @example
 * import { protectedResourceMetadata } from 'oauth-jwt-verify';
 * import { bearerAuth, serveResourceMetadata } from 'oauth-jwt-verify/express';
 *
 * const metadata = protectedResourceMetadata({
 *   resource: 'https://api.example.com/orders',
 *   authorizationServers: ['https://issuer.example.com'],
 * });
 * app.use(serveResourceMetadata(metadata));
 * app.use('/orders', bearerAuth(verifier, { resourceMetadata: metadata }));
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function serveResourceMetadata(metadata: ProtectedResourceMetadata): RequestHandler {
  return resourceMetadataMiddleware(metadata);
}

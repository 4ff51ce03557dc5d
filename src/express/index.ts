/**
 * `oauth-jwt-verify/express`: bearer-token middleware for Express over {@link authenticate}
 * (401/403/503 with the RFC 6750 `WWW-Authenticate` header). Express is an optional peer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @module
 */
import type { RequestHandler, Response } from 'express';
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

declare global {
  namespace Express {
    interface Request {
      /** The verified access token, set by `bearerAuth()` (absent on routes it does not guard). */
      auth?: RequestVerifyResult;
    }
  }
}

/** The options of the `bearerAuth()` that authenticated a request, for the realm of `requireScopes()`. */
const settings = new WeakMap<object, ResolvedAuthenticateOptions>();

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
  checkVerifier(verifier);
  const resolved = resolveAuthenticateOptions(options);
  return (req, res, next) => {
    authenticate(verifier, req, resolved).then((result) => {
      if (!result.ok) return send(res, result);
      if (result.headers) res.set(result.headers);
      req.auth = result.token;
      settings.set(req, resolved);
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
  const required = parseRequiredScopes(scopes);
  return (req, res, next) => {
    const options = settings.get(req);
    if (req.auth === undefined || options === undefined) {
      next(new Error('requireScopes() must run after bearerAuth(): this request was not authenticated'));
      return;
    }
    const result = authorizeScopes(req.auth, required, options);
    if (result.ok) next();
    else send(res, result);
  };
}

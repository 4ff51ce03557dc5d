/**
 * `oauth-jwt-verify/fastify`: a bearer-token plugin for Fastify over {@link authenticate}
 * (401/403/503 with the RFC 6750 `WWW-Authenticate` header). Fastify is an optional peer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
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

declare module 'fastify' {
  interface FastifyRequest {
    /** The verified access token, set by the `bearerAuth` plugin; `null` where it does not apply. */
    auth: RequestVerifyResult | null;
  }
}

/** Options of the {@link bearerAuth} plugin: the verifier, plus those of `authenticate()`. */
export interface FastifyBearerAuthOptions extends AuthenticateOptions {
  /** A `JwtVerifier`, a `MultiIssuerVerifier`, or anything with `verify(token)`. */
  verifier: TokenVerifier;
}

/** The options of the `bearerAuth` that authenticated a request, for the realm of `requireScopes()`. */
const settings = new WeakMap<object, ResolvedAuthenticateOptions>();

function send(reply: FastifyReply, failure: AuthenticateFailure): FastifyReply {
  return reply.code(failure.status).headers(failure.headers).send(JSON.stringify(failure.body));
}

const plugin: FastifyPluginAsync<FastifyBearerAuthOptions> = async (fastify, { verifier, ...options }) => {
  checkVerifier(verifier);
  const resolved = resolveAuthenticateOptions(options);
  // Registered again in a child context (another realm, say): the decorator is inherited.
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
  fastify.addHook('onRequest', async (request, reply) => {
    const result = await authenticate(verifier, request.raw, resolved);
    if (!result.ok) return send(reply, result);
    if (result.headers) reply.headers(result.headers);
    request.auth = result.token;
    settings.set(request, resolved);
  });
};

/**
 * Fastify 5 plugin: an `onRequest` hook that requires a valid `Authorization: Bearer`
 * access token on every route of the context it is registered in, and sets `request.auth`
 * (`{ payload, header }`); otherwise it answers with the RFC 6750 rejection `authenticate()`
 * decided (401, 403, 503 with `Retry-After`, or 500). Register it inside a child context
 * (`app.register(async (api) => { … })`) to leave other routes public. Bad options make
 * `register` (and so `ready()`/`listen()`) fail.
 *
 * @example
 * import Fastify from 'fastify';
 * import { JwtVerifier } from 'oauth-jwt-verify';
 * import { bearerAuth, requireScopes } from 'oauth-jwt-verify/fastify';
 *
 * const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
 * const app = Fastify();
 * await app.register(bearerAuth, { verifier, realm: 'api' });
 * app.get('/orders', { onRequest: requireScopes('read:orders') }, async (request) => ({ sub: request.auth?.payload.sub }));
 * @see https://www.rfc-editor.org/rfc/rfc6750
 */
export const bearerAuth = fastifyPlugin(plugin, { fastify: '5.x', name: 'oauth-jwt-verify' });

/**
 * Per-route scope requirement, as a route's `onRequest` hook (it runs after the plugin's):
 * answers 403 `insufficient_scope` (naming the scopes) unless the token grants every one.
 * Each argument is a scope or a space-delimited list.
 *
 * @example
 * app.delete('/orders/:id', { onRequest: requireScopes('write:orders') }, async (request, reply) => reply.code(204).send());
 */
export function requireScopes(...scopes: string[]): onRequestAsyncHookHandler {
  const required = parseRequiredScopes(scopes);
  return async (request, reply) => {
    const options = settings.get(request);
    if (request.auth === null || options === undefined) {
      throw new Error(
        'requireScopes() needs the bearerAuth plugin registered in this context: the request was not authenticated',
      );
    }
    const result = authorizeScopes(request.auth, required, options);
    if (!result.ok) return send(reply, result);
  };
}

export default bearerAuth;

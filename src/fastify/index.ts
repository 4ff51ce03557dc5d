/**
 * `oauth-jwt-verify/fastify`: a bearer-token plugin for Fastify over `authenticate()`
 * (401/403/503 with the RFC 6750 `WWW-Authenticate` header). Fastify is an optional peer.
 *
 * @see https://www.rfc-editor.org/rfc/rfc6750
 * @module
 */
import type { FastifyPluginAsync, FastifyReply, onRequestAsyncHookHandler } from 'fastify';
import fastifyPlugin from 'fastify-plugin';
import type { AuthenticateFailure, AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';
import { authenticationRequirement, requestAuthenticator, scopeRequirement } from '../server/adapter.js';
import type { AuthenticationRequirement } from '../verify/authentication.js';
import type { RequestVerifyResult } from '../verify/request.js';
import { type ProtectedResourceMetadata, resourceMetadataUrl } from '../issuer/resource-metadata.js';
import { resourceMetadataResponder } from '../server/resource-metadata.js';

export type { AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';
export type { AuthenticationRequirement } from '../verify/authentication.js';
export type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';

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

/** Route config marking the metadata route, which `bearerAuth` leaves public wherever it is registered. */
const PUBLIC_ROUTE = 'oauthJwtVerifyPublic';

function send(reply: FastifyReply, failure: AuthenticateFailure): FastifyReply {
  return reply.code(failure.status).headers(failure.headers).send(JSON.stringify(failure.body));
}

const plugin: FastifyPluginAsync<FastifyBearerAuthOptions> = async (fastify, { verifier, ...options }) => {
  const authenticateRequest = requestAuthenticator(verifier, options);
  // Registered again in a child context (another realm, say): the decorator is inherited.
  if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
  fastify.addHook('onRequest', async (request, reply) => {
    if ((request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[PUBLIC_ROUTE])
      return;
    const result = await authenticateRequest(request.raw, request);
    if (!result.ok) return send(reply, result);
    if (result.headers) reply.headers(result.headers);
    request.auth = result.token;
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
  const check = scopeRequirement(
    scopes,
    'requireScopes() needs the bearerAuth plugin registered in this context: the request was not authenticated',
  );
  return async (request, reply) => {
    const failure = check(request.auth, request);
    if (failure) return send(reply, failure);
  };
}

/**
 * Per-route step-up authentication (RFC 9470), as a route's `onRequest` hook (it runs after
 * the plugin's): answers 401 `insufficient_user_authentication` with `acr_values` /
 * `max_age` unless the token's `acr` is one of `acrValues` and its `auth_time` is at most
 * `maxAgeSeconds` ago (by this server's clock). With the plugin's own
 * `requireAuthentication`, both hold: the challenge names the stricter.
 *
 * @example
 * app.post('/payments', { onRequest: requireAuthentication({ acrValues: ['mfa'], maxAgeSeconds: 300 }) }, async (request, reply) => reply.code(201).send());
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function requireAuthentication(requirement: AuthenticationRequirement): onRequestAsyncHookHandler {
  const check = authenticationRequirement(
    requirement,
    'requireAuthentication() needs the bearerAuth plugin registered in this context: the request was not authenticated',
  );
  return async (request, reply) => {
    const failure = check(request.auth, request);
    if (failure) return send(reply, failure);
  };
}

/** Options of the {@link serveResourceMetadata} plugin. */
export interface ServeResourceMetadataOptions {
  /** The document `protectedResourceMetadata()` built. */
  metadata: ProtectedResourceMetadata;
}

const metadataPlugin: FastifyPluginAsync<ServeResourceMetadataOptions> = async (fastify, { metadata }) => {
  const answer = resourceMetadataResponder(metadata);
  const { pathname } = new URL(resourceMetadataUrl(metadata.resource));
  fastify.all(pathname, { config: { [PUBLIC_ROUTE]: true } }, async (request, reply) => {
    const found = answer(request.raw);
    if (!found) return reply.callNotFound();
    return reply
      .code(found.status)
      .headers(found.headers)
      .send(found.body ?? undefined);
  });
};

/**
 * Fastify 5 plugin that serves a resource's RFC 9728 metadata at its well-known path
 * (`/.well-known/oauth-protected-resource/<path of the resource>`, CORS-readable), public
 * even where `bearerAuth` guards every route. Register it without a `prefix`: the path
 * comes from the resource identifier. Bad options make `register` (and so
 * `ready()`/`listen()`) fail.
 *
 * @example
 * import { protectedResourceMetadata } from 'oauth-jwt-verify';
 * import { bearerAuth, serveResourceMetadata } from 'oauth-jwt-verify/fastify';
 *
 * const metadata = protectedResourceMetadata({
 *   resource: 'https://api.example.com/orders',
 *   authorizationServers: ['https://issuer.example.com'],
 * });
 * await app.register(serveResourceMetadata, { metadata });
 * await app.register(async (api) => {
 *   await api.register(bearerAuth, { verifier, resourceMetadata: metadata });
 *   api.get('/orders', async (request) => ({ sub: request.auth?.payload.sub }));
 * });
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export const serveResourceMetadata = metadataPlugin;

export default bearerAuth;

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import {
  type AuthenticateOptions,
  type ProtectedResourceMetadata,
  type TokenVerifier,
  answerResourceMetadata,
  authenticate,
} from '../../src/index.js';
import * as forExpress from '../../src/express/index.js';
import * as forFastify from '../../src/fastify/index.js';
import * as forHono from '../../src/hono/index.js';

/** What a client sees of a response. */
export interface Answer {
  status: number;
  wwwAuthenticate: string | null;
  retryAfter: string | null;
  cacheControl: string | null;
  contentType: string | null;
  dpopNonce: string | null;
  body: unknown;
}

/**
 * One way of serving the same protected routes: `GET /orders` needing `read:orders`, and
 * `GET /payments` needing a step-up login ({@link STEP_UP}, RFC 9470).
 */
export interface Target {
  name: string;
  /** Sends `GET /orders`, with this Authorization header when given, and the extra `headers` (a `DPoP` proof). */
  get(authorization?: string, path?: string, headers?: Record<string, string>): Promise<Answer>;
  /** The URL a client calls for `path`: what a DPoP proof's `htu` names. */
  url(path?: string): string;
  /** Any request, answered as it came. */
  send(path: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

export const ROUTE_SCOPE = 'read:orders';
/** What `GET /payments` requires of the user's login: `requireAuthentication` / the adapters' route check. */
export const STEP_UP = { acrValues: ['mfa', 'hwk'], maxAgeSeconds: 300 } as const;

/** authenticate()'s options for a path, as the adapters' routes ask: step-up on `/payments`, else the scope. */
function routeOptions(options: AuthenticateOptions, path: string): AuthenticateOptions {
  return path === '/payments'
    ? { ...options, requireAuthentication: STEP_UP }
    : { ...options, requiredScopes: ROUTE_SCOPE };
}

/** The route's answer once the token is accepted: the same in every framework. */
const granted = (payload: Record<string, unknown>) => ({ sub: payload.sub, iss: payload.iss });

async function toAnswer(response: Response): Promise<Answer> {
  const text = await response.text();
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get('www-authenticate'),
    retryAfter: response.headers.get('retry-after'),
    cacheControl: response.headers.get('cache-control'),
    contentType: response.headers.get('content-type'),
    dpopNonce: response.headers.get('dpop-nonce'),
    body: text ? JSON.parse(text) : undefined,
  };
}

function httpTarget(name: string, origin: string, close: () => Promise<void>): Target {
  return {
    name,
    async get(authorization, path = '/orders', extra = {}) {
      const headers: Record<string, string> =
        authorization === undefined ? extra : { authorization, ...extra };
      return toAnswer(await fetch(`${origin}${path}`, { headers }));
    },
    url: (path = '/orders') => `${origin}${path}`,
    send: (path, init) => fetch(`${origin}${path}`, init),
    close,
  };
}

function closeServer(server: Server): () => Promise<void> {
  return () =>
    new Promise<void>((resolve, reject) => {
      server.closeAllConnections();
      server.close((error) => (error ? reject(error) : resolve()));
    });
}

function originOf(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function listenOn(server: Server): Promise<Server> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return server;
}

/** Any Express app on 127.0.0.1, as a target named `name`. */
export async function startExpressApp(name: string, app: express.Express): Promise<Target> {
  const server = await listenOn(createServer(app));
  return httpTarget(name, originOf(server), closeServer(server));
}

export async function startExpress(
  verifier: TokenVerifier,
  options: AuthenticateOptions,
  metadata?: ProtectedResourceMetadata,
): Promise<Target> {
  const app = express();
  if (metadata) app.use(forExpress.serveResourceMetadata(metadata));
  app.use(forExpress.bearerAuth(verifier, options));
  app.get('/orders', forExpress.requireScopes(ROUTE_SCOPE), (req, res) => {
    res.json(granted(req.auth!.payload));
  });
  app.get('/payments', forExpress.requireAuthentication(STEP_UP), (req, res) => {
    res.json(granted(req.auth!.payload));
  });
  return startExpressApp('express', app);
}

export async function startFastify(
  verifier: TokenVerifier,
  options: AuthenticateOptions,
  metadata?: ProtectedResourceMetadata,
): Promise<Target> {
  const app = Fastify();
  // The metadata is public: the bearer plugin goes in a context of its own beside it.
  if (metadata) await app.register(forFastify.serveResourceMetadata, { metadata });
  await app.register(async (api) => {
    await api.register(forFastify.bearerAuth, { verifier, ...options });
    api.get('/orders', { onRequest: forFastify.requireScopes(ROUTE_SCOPE) }, async (request) =>
      granted(request.auth!.payload),
    );
    api.get('/payments', { onRequest: forFastify.requireAuthentication(STEP_UP) }, async (request) =>
      granted(request.auth!.payload),
    );
  });
  const origin = await app.listen({ port: 0, host: '127.0.0.1' });
  return httpTarget('fastify', origin, () => app.close());
}

export function honoApp(
  verifier: TokenVerifier,
  options: AuthenticateOptions,
  metadata?: ProtectedResourceMetadata,
) {
  const app = new Hono<forHono.BearerAuthEnv>();
  if (metadata) app.use('*', forHono.serveResourceMetadata(metadata));
  app.use('*', forHono.bearerAuth(verifier, options));
  app.get('/orders', forHono.requireScopes(ROUTE_SCOPE), (c) => c.json(granted(c.get('auth').payload)));
  app.get('/payments', forHono.requireAuthentication(STEP_UP), (c) => c.json(granted(c.get('auth').payload)));
  return app;
}

export async function startHono(
  verifier: TokenVerifier,
  options: AuthenticateOptions,
  metadata?: ProtectedResourceMetadata,
): Promise<Target> {
  const app = honoApp(verifier, options, metadata);
  const server = await new Promise<Server>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started as Server),
    );
  });
  return httpTarget('hono', originOf(server), closeServer(server));
}

/** `node:http` with nothing but `authenticate()`, as docs/resource-server.md shows it. */
export async function startNodeHttp(
  verifier: TokenVerifier,
  options: AuthenticateOptions,
  metadata?: ProtectedResourceMetadata,
): Promise<Target> {
  const server = createServer(async (req, res) => {
    const found = metadata && answerResourceMetadata(metadata, req);
    if (found) {
      res.writeHead(found.status, found.headers).end(found.body ?? undefined);
      return;
    }
    const result = await authenticate(verifier, req, routeOptions(options, req.url!));
    if (!result.ok) {
      res.writeHead(result.status, result.headers).end(JSON.stringify(result.body));
      return;
    }
    res
      .writeHead(200, { 'content-type': 'application/json', ...result.headers })
      .end(JSON.stringify(granted(result.token.payload)));
  });
  await listenOn(server);
  return httpTarget('node:http', originOf(server), closeServer(server));
}

/** A Fetch-style handler (Workers, Deno, Bun), called with a `Request` directly. */
export function fetchHandlerTarget(
  verifier: TokenVerifier,
  options: AuthenticateOptions,
  metadata?: ProtectedResourceMetadata,
): Target {
  const handle = async (request: Request): Promise<Response> => {
    const found = metadata && answerResourceMetadata(metadata, request);
    if (found) return new Response(found.body, found);
    const result = await authenticate(
      verifier,
      request,
      routeOptions(options, new URL(request.url).pathname),
    );
    if (!result.ok) {
      return new Response(JSON.stringify(result.body), { status: result.status, headers: result.headers });
    }
    return Response.json(granted(result.token.payload), { headers: result.headers });
  };
  return {
    name: 'fetch handler',
    async get(authorization, path = '/orders', extra = {}) {
      const headers: Record<string, string> =
        authorization === undefined ? extra : { authorization, ...extra };
      return toAnswer(await handle(new Request(`https://api.example${path}`, { headers })));
    },
    url: (path = '/orders') => `https://api.example${path}`,
    send: (path, init) => handle(new Request(`https://api.example${path}`, init)),
    close: async () => undefined,
  };
}

/** Every target, serving the same route with the same verifier and options. */
export async function startAll(
  verifier: TokenVerifier,
  options: AuthenticateOptions,
  metadata?: ProtectedResourceMetadata,
): Promise<Target[]> {
  return Promise.all([
    startExpress(verifier, options, metadata),
    startFastify(verifier, options, metadata),
    startHono(verifier, options, metadata),
    startNodeHttp(verifier, options, metadata),
    fetchHandlerTarget(verifier, options, metadata),
  ]);
}

type Closable = { close(): unknown } | undefined;

/** Closes every server and issuer given (lists flattened, missing ones skipped), in parallel. */
export async function closeAll(...closables: Array<Closable | readonly Closable[]>): Promise<void> {
  await Promise.all(closables.flat().map((closable) => closable?.close()));
}

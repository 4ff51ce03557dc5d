// The stub issuer's router: a Fetch request to the endpoint that answers it, counted and faulted.
import { authorize } from './authorize.js';
import { loadClientDocument } from './client-metadata-document.js';
import type { IssuerContext } from './context.js';
import { type Endpoints, type Route, routeKey } from './endpoints.js';
import { type FaultQueue, delay } from './faults.js';
import { introspect } from './introspect.js';
import { logout } from './login/logout.js';
import { json, withCors } from './responses.js';
import { register } from './register.js';
import { revoke } from './revoke.js';
import { token } from './token.js';
import { userinfo } from './userinfo.js';
import type { RequestCounts, TestIssuerEndpoint } from './types.js';

/** Everything the request handler serves from. */
export interface HandlerState {
  ctx: IssuerContext;
  endpoints: Endpoints;
  faults: FaultQueue;
  counts: RequestCounts;
}

const ENDPOINT_OF: Record<Route, TestIssuerEndpoint> = {
  'oauth-metadata': 'metadata',
  'oidc-metadata': 'metadata',
  jwks: 'jwks',
  authorize: 'authorize',
  token: 'token',
  revoke: 'revoke',
  register: 'register',
  introspect: 'introspect',
  logout: 'logout',
  userinfo: 'userinfo',
};

function document(request: Request, body: unknown): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return json(
      405,
      { error: 'method_not_allowed', error_description: `use GET, not ${request.method}` },
      { allow: 'GET, HEAD, OPTIONS' },
    );
  }
  return json(200, body);
}

/**
 * The JWKS with an `ETag`, answering `If-None-Match` with 304 as real issuers do, so
 * conditional revalidation can be tested (RFC 9110 §13.1.2). Serialised once per key set.
 */
function jwksDocument(request: Request, { text, etag }: { text: string; etag: string }): Response {
  if (request.method !== 'GET' && request.method !== 'HEAD') return document(request, null);
  const ifNoneMatch = request.headers.get('if-none-match');
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)) {
    return new Response(null, { status: 304, headers: { etag } });
  }
  return new Response(text, { status: 200, headers: { 'content-type': 'application/json', etag } });
}

function serve(state: HandlerState, route: Route, request: Request): Response | Promise<Response> {
  switch (route) {
    case 'oauth-metadata':
      return document(request, state.endpoints.oauth);
    case 'oidc-metadata':
      return document(request, state.endpoints.oidc);
    case 'jwks':
      return jwksDocument(request, state.ctx.keys.serializedJwks());
    case 'authorize':
      return authorize(state.ctx, request);
    case 'token':
      return token(state.ctx, request);
    case 'revoke':
      return revoke(state.ctx, request);
    case 'register':
      return register(state.ctx, request);
    case 'introspect':
      return introspect(state.ctx, request);
    case 'logout':
      return logout(state.ctx, request);
    case 'userinfo':
      return userinfo(state.ctx, request);
  }
}

async function respond(state: HandlerState, request: Request): Promise<Response> {
  const route = state.endpoints.routes.get(routeKey(request.url));
  if (!route) {
    const { pathname } = new URL(request.url);
    return json(404, {
      error: 'not_found',
      error_description: `the test issuer ${state.ctx.issuer} serves nothing at ${pathname}`,
    });
  }
  // CORS preflights are answered, never counted nor failed: the real request follows.
  if (request.method === 'OPTIONS') return new Response(null, { status: 204 });
  const endpoint = ENDPOINT_OF[route];
  state.counts[endpoint] += 1;
  const fault = state.faults.take(endpoint);
  if (fault) {
    await delay(fault.delayMs, request.signal);
    if (fault.response) return fault.response();
  }
  const documents = state.ctx.clientDocuments;
  const refused = documents && (await loadClientDocument(documents, route, request));
  return refused || serve(state, route, request);
}

/**
 * The issuer's one request handler, on the Fetch API: msw handlers, `listen` mode and
 * `issuer.fetch` all call it.
 */
export function createHandler(state: HandlerState): (request: Request) => Promise<Response> {
  return async (request) => withCors(await respond(state, request), request);
}

/** RFC 9728 protected resource metadata: the document built from options, and the responders that serve it. */
import { invalidArgument } from '../errors.js';
import { parseIssuerOption } from '../issuer/discovery.js';
import { booleanOption, nonEmptyStringOption, parseOptionUrl } from '../option-checks.js';
import { type ProtectedResourceMetadata, resourceMetadataUrl } from '../issuer/resource-metadata.js';
import { isSupportedAlgorithm } from '../token/algorithms.js';

/** Options of {@link protectedResourceMetadata}: the RFC 9728 §2 members, camel-cased. */
export interface ProtectedResourceMetadataOptions {
  /**
   * The resource identifier: the URL clients call, exactly as they spell it (an MCP
   * server's URL, e.g. `https://mcp.example.com/mcp`). https (http only to loopback hosts,
   * or with `allowInsecureHttp`), no fragment. Tokens are issued for it (RFC 8707).
   */
  resource: string;
  /** Issuer identifiers of the authorization servers clients get tokens from: at least one. */
  authorizationServers: readonly string[];
  /** Scopes clients may ask for; MCP clients request all of them by default. */
  scopesSupported?: readonly string[];
  /** How tokens may be sent. Default `['header']` (RFC 6750 §2.1; the only one `authenticate()` reads). */
  bearerMethodsSupported?: readonly ('header' | 'body' | 'query')[];
  /** The resource's own public keys (for signed responses), not the issuer's. */
  jwksUri?: string;
  /** JWS algorithms the resource signs responses with (never `none`). */
  resourceSigningAlgValuesSupported?: readonly string[];
  /** A human-readable name, for consent screens. */
  resourceName?: string;
  /** A page for developers about the resource. */
  resourceDocumentation?: string;
  resourcePolicyUri?: string;
  resourceTosUri?: string;
  /** The resource accepts only certificate-bound tokens (RFC 8705). */
  tlsClientCertificateBoundAccessTokens?: boolean;
  /** RFC 9396 authorization details types the resource understands. */
  authorizationDetailsTypesSupported?: readonly string[];
  /** The JWS algorithms the resource accepts for DPoP proofs (RFC 9449); states DPoP support. */
  dpopSigningAlgValuesSupported?: readonly string[];
  /** The resource accepts only DPoP-bound tokens (RFC 9449). */
  dpopBoundAccessTokensRequired?: boolean;
  /**
   * More members, as they appear in the document (`resource_name#fr`, `signed_metadata`, your
   * own); they cannot replace one set above.
   */
  extraMembers?: Record<string, unknown>;
  /** Allow `http:` URLs to hosts other than loopback. Default false. */
  allowInsecureHttp?: boolean;
}

/** RFC 6749 §3.3 scope-token: printable ASCII but space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

function list(
  value: unknown,
  name: string,
  what: string,
  check: (item: string) => boolean,
): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string' || !check(item))) {
    throw invalidArgument(`${name} must be an array of ${what}`);
  }
  return Object.freeze([...value]) as string[];
}

/**
 * Builds the RFC 9728 protected resource metadata document of a resource server: what an
 * MCP client (or any OAuth client) reads to learn which authorization server issues tokens
 * for it, which scopes to ask for and how to send the token. Every option is checked (a
 * mistake is a coded `TypeError` now); the result is a frozen plain object with the
 * protocol's member names, ready for `JSON.stringify`. Serve it with the adapters'
 * `serveResourceMetadata()` (or {@link answerResourceMetadata}) at its well-known URL, and
 * name it in challenges with `authenticate(…, { resourceMetadata })`.
 *
 * @example
 * const metadata = protectedResourceMetadata({
 *   resource: 'https://mcp.example.com/mcp',
 *   authorizationServers: ['https://auth.example.com'],
 *   scopesSupported: ['tools:read', 'tools:call'],
 *   resourceName: 'Example MCP server',
 * });
 * resourceMetadataUrl(metadata.resource); // 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-2
 */
export function protectedResourceMetadata(
  options: ProtectedResourceMetadataOptions,
): ProtectedResourceMetadata {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument(
      'protectedResourceMetadata needs an options object with resource and authorizationServers',
    );
  }
  const insecure = options.allowInsecureHttp === true;
  const url = (value: unknown, name: string) =>
    value === undefined ? undefined : parseOptionUrl(value, name, insecure) && (value as string);
  const resource = options.resource;
  if (
    typeof resource !== 'string' ||
    parseOptionUrl(resource, 'resource', insecure).hash ||
    resource.includes('#')
  ) {
    throw invalidArgument(
      `resource must be an https URL without a fragment (RFC 9728 section 1.2), got ${JSON.stringify(resource)}`,
    );
  }
  const servers = options.authorizationServers;
  if (!Array.isArray(servers) || servers.length === 0) {
    throw invalidArgument(
      'authorizationServers must name at least one issuer (the MCP authorization spec requires one)',
    );
  }
  const algorithm = (alg: string) => alg !== 'none' && alg !== '';
  const members: Record<string, unknown> = {
    resource,
    authorization_servers: Object.freeze(servers.map((server) => parseIssuerOption(server, insecure))),
    jwks_uri: url(options.jwksUri, 'jwksUri'),
    scopes_supported: list(
      options.scopesSupported,
      'scopesSupported',
      'scope tokens (RFC 6749 section 3.3)',
      (scope) => SCOPE_TOKEN.test(scope),
    ),
    bearer_methods_supported: list(
      options.bearerMethodsSupported ?? ['header'],
      'bearerMethodsSupported',
      "'header', 'body' or 'query'",
      (method) => ['header', 'body', 'query'].includes(method),
    ),
    resource_signing_alg_values_supported: list(
      options.resourceSigningAlgValuesSupported,
      'resourceSigningAlgValuesSupported',
      'JWS algorithm names other than none',
      algorithm,
    ),
    resource_name: options.resourceName,
    resource_documentation: url(options.resourceDocumentation, 'resourceDocumentation'),
    resource_policy_uri: url(options.resourcePolicyUri, 'resourcePolicyUri'),
    resource_tos_uri: url(options.resourceTosUri, 'resourceTosUri'),
    tls_client_certificate_bound_access_tokens: booleanOption(
      options.tlsClientCertificateBoundAccessTokens,
      'tlsClientCertificateBoundAccessTokens',
    ),
    authorization_details_types_supported: list(
      options.authorizationDetailsTypesSupported,
      'authorizationDetailsTypesSupported',
      'non-empty strings',
      (type) => type !== '',
    ),
    // DPoP proofs are signed with the client's own asymmetric key (RFC 9449 §4.2).
    dpop_signing_alg_values_supported: list(
      options.dpopSigningAlgValuesSupported,
      'dpopSigningAlgValuesSupported',
      'asymmetric JWS algorithms (RS256, ES256, EdDSA, ...)',
      isSupportedAlgorithm,
    ),
    dpop_bound_access_tokens_required: booleanOption(
      options.dpopBoundAccessTokensRequired,
      'dpopBoundAccessTokensRequired',
    ),
  };
  if (options.resourceName !== undefined) nonEmptyStringOption(options.resourceName, 'resourceName');
  const extra = options.extraMembers ?? {};
  if (typeof extra !== 'object' || extra === null) throw invalidArgument('extraMembers must be an object');
  for (const [member, value] of Object.entries(extra)) {
    if (members[member] !== undefined)
      throw invalidArgument(`extraMembers.${member} would replace a member set by an option`);
    members[member] = value;
  }
  const document = Object.fromEntries(Object.entries(members).filter(([, value]) => value !== undefined));
  return Object.freeze(document) as ProtectedResourceMetadata;
}

/** What {@link answerResourceMetadata} decided: ready to send. */
export interface ResourceMetadataAnswer {
  /** 200 with the document, 204 for a CORS preflight, 405 for another method. */
  status: 200 | 204 | 405;
  headers: Record<string, string>;
  /** The JSON document (200 to GET), else `null`: `new Response(answer.body, answer)` works as it is. */
  body: string | null;
}

/** The request as {@link answerResourceMetadata} reads it: a Fetch `Request` or a Node `IncomingMessage`. */
export interface ResourceMetadataRequest {
  /** `GET`, `HEAD`, `OPTIONS`, … */
  readonly method?: string | undefined;
  /** An absolute URL (Fetch) or the request target (`/path?query`, Node). */
  readonly url?: string | undefined;
  /** Fetch `Headers` or Node's header object: `Access-Control-Request-Headers` is read for preflights. */
  readonly headers?: unknown;
}

function requestHeader(request: ResourceMetadataRequest, name: string): string | undefined {
  const headers = request.headers as
    { get?: (name: string) => string | null } | Record<string, string | string[] | undefined> | undefined;
  if (typeof headers?.get === 'function') return headers.get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined> | undefined)?.[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/**
 * {@link answerResourceMetadata} for one document, checked once: the adapters call it when
 * they are set up, so a bad document is a `TypeError` at start-up.
 */
export function resourceMetadataResponder(
  metadata: ProtectedResourceMetadata,
): (request: ResourceMetadataRequest) => ResourceMetadataAnswer | undefined {
  const resource = (metadata as ProtectedResourceMetadata | null)?.resource;
  let wellKnown: URL | undefined;
  try {
    wellKnown = new URL(resourceMetadataUrl(resource as string));
  } catch {
    // reported below
  }
  if (!wellKnown || typeof resource !== 'string') {
    throw invalidArgument('the resource metadata must be what protectedResourceMetadata() returns');
  }
  const { pathname, search } = wellKnown;
  const body = JSON.stringify(metadata);
  return (request) => {
    const target = new URL(request.url ?? '/', 'http://localhost');
    if (target.pathname !== pathname || (search && target.search !== search)) return undefined;
    const cors = { 'access-control-allow-origin': '*' };
    const method = (request.method ?? 'GET').toUpperCase();
    if (method === 'OPTIONS') {
      return {
        status: 204,
        headers: {
          ...cors,
          'access-control-allow-methods': 'GET, HEAD, OPTIONS',
          'access-control-allow-headers': requestHeader(request, 'access-control-request-headers') ?? '*',
          'access-control-max-age': '600',
        },
        body: null,
      };
    }
    if (method !== 'GET' && method !== 'HEAD') {
      return { status: 405, headers: { ...cors, allow: 'GET, HEAD, OPTIONS' }, body: null };
    }
    return {
      status: 200,
      headers: { ...cors, 'content-type': 'application/json', 'cache-control': 'public, max-age=300' },
      body: method === 'HEAD' ? null : body,
    };
  };
}

/**
 * Answers a request for a resource's metadata at its RFC 9728 well-known path
 * (`/.well-known/oauth-protected-resource/<path>`), or `undefined` when the request is for
 * another path (pass it on). GET and HEAD get the JSON document, readable from any origin
 * (`Access-Control-Allow-Origin: *`: browser-based MCP clients fetch it) and cacheable for
 * 300 seconds; OPTIONS gets a CORS preflight answer; other methods 405. The adapters'
 * `serveResourceMetadata()` are this; use it directly in `node:http` or a Fetch handler.
 * Behind a proxy that rewrites paths, the path matched is the public one, from the
 * resource identifier.
 *
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` when `metadata` is not a document.
 * @example
 * // A Fetch handler (Workers, Deno, Bun):
 * const answer = answerResourceMetadata(metadata, request);
 * if (answer) return new Response(answer.body, answer);
 * // node:http
 * const found = answerResourceMetadata(metadata, req);
 * if (found) return res.writeHead(found.status, found.headers).end(found.body ?? undefined);
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function answerResourceMetadata(
  metadata: ProtectedResourceMetadata,
  request: ResourceMetadataRequest,
): ResourceMetadataAnswer | undefined {
  const known = typeof metadata === 'object' && metadata !== null ? responders.get(metadata) : undefined;
  if (known) return known(request);
  const answer = resourceMetadataResponder(metadata);
  // The documents protectedResourceMetadata() builds are frozen: checked and serialised once.
  if (Object.isFrozen(metadata)) responders.set(metadata, answer);
  return answer(request);
}

const responders = new WeakMap<
  object,
  (request: ResourceMetadataRequest) => ResourceMetadataAnswer | undefined
>();

/** The part of a Node `ServerResponse` (Express's `res` is one) the metadata middleware writes to. */
export interface NodeResponseLike {
  writeHead(status: number, headers: Record<string, string>): { end(body?: string): unknown };
}

/**
 * Connect-style middleware (Express, the MCP SDK's servers) over {@link resourceMetadataResponder}:
 * answers the well-known path, passes anything else to `next()`. `originalUrl` is read
 * when present, so it works mounted under a path too.
 */
export function resourceMetadataMiddleware(
  metadata: ProtectedResourceMetadata,
): (
  req: { method?: string; url?: string; originalUrl?: string; headers?: unknown },
  res: NodeResponseLike,
  next: () => void,
) => void {
  const answer = resourceMetadataResponder(metadata);
  return (req, res, next) => {
    const found = answer({ method: req.method, url: req.originalUrl ?? req.url, headers: req.headers });
    if (found) res.writeHead(found.status, found.headers).end(found.body ?? undefined);
    else next();
  };
}

/** The `resource_metadata` URL named by a `resourceMetadata` option: a URL, or the well-known URL of a document. */
export function parseResourceMetadataOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const resource = (value as { resource?: unknown } | null)?.resource;
  let url: URL | undefined;
  try {
    url = new URL(typeof value === 'string' ? value : resourceMetadataUrl(resource as string));
  } catch {
    // reported below
  }
  if (
    !url ||
    (typeof value !== 'string' && typeof resource !== 'string') ||
    !/^https?:$/.test(url.protocol)
  ) {
    throw invalidArgument(
      'resourceMetadata must be the URL of the resource metadata or the document protectedResourceMetadata() built',
    );
  }
  return url.href;
}

/**
 * Adds `name="value"` to a one-challenge `WWW-Authenticate` value (`Bearer` alone, or with
 * params); `value` is a serialised URL, which holds no `"` or `\\`.
 */
export function withParam(challenge: string, name: string, value: string | undefined): string {
  if (value === undefined) return challenge;
  return `${challenge}${challenge.includes(' ') ? ',' : ''} ${name}="${value}"`;
}

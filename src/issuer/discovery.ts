/** Discovery (RFC 8414, OpenID Connect Discovery): the well-known URLs, the metadata's checks, the fetch. */
import { JwtVerifyError, invalidArgument } from '../errors.js';
import { type HttpOptions, type ResolvedHttpOptions, requestJson } from './http.js';
import { isSecureUrl, parseOptionUrl } from '../option-checks.js';
import { resolveHttpOptions } from './verifier-http.js';

/** Which well-known documents to try: RFC 8414, OpenID Connect, or RFC 8414 then OIDC. */
export type DiscoveryMode = 'auto' | 'oauth' | 'oidc';

/**
 * Authorization server metadata (RFC 8414 §2; OpenID Connect Discovery 1.0 §3).
 * Unknown members are kept as the server sent them.
 */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri?: string;
  authorization_endpoint?: string;
  token_endpoint?: string;
  revocation_endpoint?: string;
  introspection_endpoint?: string;
  userinfo_endpoint?: string;
  end_session_endpoint?: string;
  registration_endpoint?: string;
  scopes_supported?: string[];
  response_types_supported?: string[];
  response_modes_supported?: string[];
  grant_types_supported?: string[];
  code_challenge_methods_supported?: string[];
  token_endpoint_auth_methods_supported?: string[];
  id_token_signing_alg_values_supported?: string[];
  authorization_response_iss_parameter_supported?: boolean;
  service_documentation?: string;
  [member: string]: unknown;
}

/** A well-known metadata URL to try, in order, and which kind of document it serves. */
export interface DiscoveryCandidate {
  /** `'oauth'` (RFC 8414) or `'oidc'` (OpenID Connect Discovery 1.0). */
  kind: 'oauth' | 'oidc';
  /** The absolute URL of the document. */
  url: string;
}

/** What {@link discoverMetadata} found, and where. */
export interface DiscoveryResult {
  metadata: AuthorizationServerMetadata;
  /** The well-known URL whose document was used. */
  url: string;
  kind: 'oauth' | 'oidc';
  /** Response headers of that document (for Cache-Control). */
  headers: Headers;
}

/**
 * The members that hold URLs a client fetches or sends secrets to (RFC 8414 §2, OpenID
 * Connect Discovery §3, RFC 9728 §2): `jwks_uri`, every `*_endpoint`, `authorization_servers`.
 */
const URL_MEMBER = /^jwks_uri$|_endpoint$|^authorization_servers$/;

/**
 * The well-known URLs to try for an issuer, in order.
 *
 * RFC 8414 §3.1 inserts `/.well-known/oauth-authorization-server` between the host and the
 * issuer's path (after removing a terminating `/`); OpenID Connect Discovery §4 appends
 * `/.well-known/openid-configuration` to the issuer. In `'auto'` mode an issuer with a
 * path gets the order the MCP authorization spec fixes: RFC 8414, then the OpenID Connect
 * document inserted the RFC 8414 way, then appended.
 *
 * @example
 * discoveryUrls('https://h/t1', 'auto');
 * // [{ kind: 'oauth', url: 'https://h/.well-known/oauth-authorization-server/t1' },
 * //  { kind: 'oidc',  url: 'https://h/.well-known/openid-configuration/t1' },
 * //  { kind: 'oidc',  url: 'https://h/t1/.well-known/openid-configuration' }]
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery
 */
export function discoveryUrls(issuer: string, mode: DiscoveryMode = 'auto'): DiscoveryCandidate[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const origin = url.origin;
  const oauth = { kind: 'oauth' as const, url: `${origin}/.well-known/oauth-authorization-server${path}` };
  const oidc = { kind: 'oidc' as const, url: `${origin}${path}/.well-known/openid-configuration` };
  if (mode === 'oauth') return [oauth];
  if (mode === 'oidc') return [oidc];
  return path
    ? [oauth, { kind: 'oidc', url: `${origin}/.well-known/openid-configuration${path}` }, oidc]
    : [oauth, oidc];
}

/** Checks an issuer identifier given in options (RFC 8414 §2: https, no query, no fragment). */
export function parseIssuerOption(issuer: unknown, allowInsecureHttp = false): string {
  const url = parseOptionUrl(issuer, 'issuer', allowInsecureHttp);
  if (url.search || url.hash) {
    throw invalidArgument(`issuer must not have a query or fragment: ${url.href}`);
  }
  return String(issuer);
}

export function parseDiscoveryMode(value: unknown): DiscoveryMode {
  if (value === undefined || value === 'auto' || value === 'oauth' || value === 'oidc')
    return value ?? 'auto';
  throw invalidArgument(`discovery must be 'auto', 'oauth' or 'oidc', got ${String(value)}`);
}

function invalidMetadata(url: string, message: string): JwtVerifyError {
  return new JwtVerifyError('ERR_METADATA_INVALID', `metadata at ${url}: ${message}`, { details: { url } });
}

/** What {@link validateMetadata} checks besides the identifier. */
export interface MetadataChecks {
  /** `jwks_uri` must be present. */
  requireJwksUri?: boolean;
  allowInsecureHttp?: boolean;
  /**
   * The member that must equal the expected identifier: `issuer` (RFC 8414 §3.3, the
   * default) or `resource` (protected resource metadata, RFC 9728 §3.3).
   */
  identifier?: 'issuer' | 'resource';
}

/**
 * Validates a metadata document against the identifier it was fetched for: it must be an
 * object whose `issuer` (or `resource`) equals the expected one exactly (RFC 8414 §3.3,
 * RFC 9728 §3.3), and whose URL members are https (or loopback). `jwks_uri` is required
 * when `requireJwksUri`.
 */
export function validateMetadata<Metadata = AuthorizationServerMetadata>(
  body: unknown,
  expected: string,
  url: string,
  options: MetadataChecks = {},
): Metadata {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidMetadata(url, 'the document is not a JSON object');
  }
  const metadata = body as Record<string, unknown>;
  const { identifier = 'issuer' } = options;
  if (metadata[identifier] !== expected) {
    throw invalidMetadata(
      url,
      `${identifier} is ${JSON.stringify(metadata[identifier])}, expected ${JSON.stringify(expected)} exactly`,
    );
  }
  if (options.requireJwksUri && metadata.jwks_uri === undefined)
    throw invalidMetadata(url, 'jwks_uri is missing');
  for (const [member, value] of Object.entries(metadata)) {
    if (!URL_MEMBER.test(member) || value === undefined) continue;
    // authorization_servers is a list of URLs; the others are one each.
    for (const item of Array.isArray(value) ? value : [value]) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(typeof item === 'string' ? item : '?');
      } catch {
        throw invalidMetadata(url, `${member} is not a URL: ${JSON.stringify(item)}`);
      }
      if (!isSecureUrl(parsed, options.allowInsecureHttp))
        throw invalidMetadata(url, `${member} must use https: ${parsed.href}`);
    }
  }
  return metadata as Metadata;
}

/**
 * Fetches the candidates' URLs in order and returns the first document there, validated
 * against `expected`, with its candidate. A document that cannot be had
 * (`ERR_ISSUER_UNAVAILABLE`: 404, network, not JSON) sends the search on; one that is there
 * but invalid is reported, not skipped.
 */
export async function firstValidDocument<Candidate extends { url: string }, Metadata>(
  candidates: readonly Candidate[],
  expected: string,
  http: ResolvedHttpOptions,
  checks: MetadataChecks,
): Promise<{ candidate: Candidate; metadata: Metadata; headers: Headers }> {
  // requestJson rejects with JwtVerifyError only (it wraps everything else).
  const failures: JwtVerifyError[] = [];
  for (const candidate of candidates) {
    try {
      const { body, headers } = await requestJson(candidate.url, http);
      const metadata = validateMetadata<Metadata>(body, expected, candidate.url, {
        ...checks,
        allowInsecureHttp: http.allowInsecureHttp,
      });
      return { candidate, metadata, headers };
    } catch (error) {
      if ((error as JwtVerifyError).code !== 'ERR_ISSUER_UNAVAILABLE') throw error;
      failures.push(error as JwtVerifyError);
    }
  }
  const [first, last = first!] = failures;
  throw last === first
    ? first
    : new JwtVerifyError(
        'ERR_ISSUER_UNAVAILABLE',
        `no metadata found for ${expected}: ${failures.map((failure) => failure.message).join('; ')}`,
        { cause: last, details: last.details },
      );
}

/**
 * Fetches and validates the issuer's metadata. In `auto` mode the RFC 8414 document is
 * tried first and OpenID Connect's when that one cannot be had (see {@link discoveryUrls});
 * a document that is there but invalid is reported, not skipped.
 */
export async function discoverMetadata(
  issuer: string,
  mode: DiscoveryMode,
  http: ResolvedHttpOptions,
  options: { requireJwksUri?: boolean } = {},
): Promise<DiscoveryResult> {
  const { candidate, metadata, headers } = await firstValidDocument<
    DiscoveryCandidate,
    AuthorizationServerMetadata
  >(discoveryUrls(issuer, mode), issuer, http, options);
  return { metadata, url: candidate.url, kind: candidate.kind, headers };
}

/** Options of {@link discover}. */
export interface DiscoverOptions extends HttpOptions {
  /** Which well-known documents to try. Default `'auto'`. */
  discovery?: DiscoveryMode;
}

/**
 * Discovers an issuer's metadata (RFC 8414, then OpenID Connect in `'auto'` mode) and
 * checks that it belongs to that issuer. Browser-safe.
 *
 * @example
 * const metadata = await discover('https://signin.altostrat.io/');
 * metadata.authorization_endpoint; // 'https://signin.altostrat.io/authorize'
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export async function discover(
  issuer: string,
  options: DiscoverOptions = {},
): Promise<AuthorizationServerMetadata> {
  return discoverUsing(issuer, options, resolveHttpOptions(options));
}

/**
 * {@link discover} over a given transport: the one implementation of the discovery rules,
 * which `./pkce` calls with the browser-sized core transport (no redirect following).
 */
export async function discoverUsing(
  issuer: string,
  options: DiscoverOptions,
  http: ResolvedHttpOptions,
): Promise<AuthorizationServerMetadata> {
  const checkedIssuer = parseIssuerOption(issuer, http.allowInsecureHttp);
  return (await discoverMetadata(checkedIssuer, parseDiscoveryMode(options.discovery), http)).metadata;
}

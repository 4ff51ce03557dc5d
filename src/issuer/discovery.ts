import { JwtVerifyError, invalidArgument } from '../errors.js';
import {
  type HttpOptions,
  type ResolvedHttpOptions,
  isSecureUrl,
  parseOptionUrl,
  requestJson,
} from './http.js';
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

/** The members that hold endpoint URLs (RFC 8414 §2, OpenID Connect Discovery §3): `jwks_uri` and every `*_endpoint`. */
const URL_MEMBER = /^jwks_uri$|_endpoint$/;

/**
 * The well-known URLs to try for an issuer, in order.
 *
 * RFC 8414 §3.1 inserts `/.well-known/oauth-authorization-server` between the host and the
 * issuer's path (after removing a terminating `/`); OpenID Connect Discovery §4 appends
 * `/.well-known/openid-configuration` to the issuer.
 *
 * @example
 * discoveryUrls('https://h/t1', 'auto');
 * // [{ kind: 'oauth', url: 'https://h/.well-known/oauth-authorization-server/t1' },
 * //  { kind: 'oidc',  url: 'https://h/t1/.well-known/openid-configuration' }]
 */
export function discoveryUrls(issuer: string, mode: DiscoveryMode = 'auto'): DiscoveryCandidate[] {
  const url = new URL(issuer);
  const path = url.pathname.replace(/\/+$/, '');
  const origin = url.origin;
  const oauth = { kind: 'oauth' as const, url: `${origin}/.well-known/oauth-authorization-server${path}` };
  const oidc = { kind: 'oidc' as const, url: `${origin}${path}/.well-known/openid-configuration` };
  if (mode === 'oauth') return [oauth];
  if (mode === 'oidc') return [oidc];
  return [oauth, oidc];
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

/**
 * Validates a metadata document against the issuer it was fetched for: it must be an
 * object whose `issuer` equals the expected issuer exactly (RFC 8414 §3.3), and whose
 * endpoint URLs are https (or loopback). `jwks_uri` is required when `requireJwksUri`.
 */
export function validateMetadata(
  body: unknown,
  expectedIssuer: string,
  url: string,
  options: { requireJwksUri?: boolean; allowInsecureHttp?: boolean } = {},
): AuthorizationServerMetadata {
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw invalidMetadata(url, 'the document is not a JSON object');
  }
  const metadata = body as AuthorizationServerMetadata;
  const { issuer } = metadata;
  if (issuer !== expectedIssuer) {
    throw invalidMetadata(
      url,
      `issuer is ${JSON.stringify(issuer)}, expected ${JSON.stringify(expectedIssuer)} exactly (RFC 8414 §3.3)`,
    );
  }
  if (options.requireJwksUri && metadata.jwks_uri === undefined)
    throw invalidMetadata(url, 'jwks_uri is missing');
  for (const [member, value] of Object.entries(metadata)) {
    if (!URL_MEMBER.test(member) || value === undefined) continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(typeof value === 'string' ? value : '?');
    } catch {
      throw invalidMetadata(url, `${member} is not a URL: ${JSON.stringify(value)}`);
    }
    if (!isSecureUrl(parsed, options.allowInsecureHttp))
      throw invalidMetadata(url, `${member} must use https: ${parsed.href}`);
  }
  return metadata;
}

/**
 * Fetches and validates the issuer's metadata. In `auto` mode the RFC 8414 document is
 * tried first and OpenID Connect's when that one cannot be had; a document that is there
 * but invalid is reported, not skipped.
 */
export async function discoverMetadata(
  issuer: string,
  mode: DiscoveryMode,
  http: ResolvedHttpOptions,
  options: { requireJwksUri?: boolean } = {},
): Promise<DiscoveryResult> {
  // requestJson rejects with JwtVerifyError only (it wraps everything else).
  const failures: JwtVerifyError[] = [];
  for (const { kind, url } of discoveryUrls(issuer, mode)) {
    try {
      const { body, headers } = await requestJson(url, http);
      const metadata = validateMetadata(body, issuer, url, {
        ...options,
        allowInsecureHttp: http.allowInsecureHttp,
      });
      return { metadata, url, kind, headers };
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
        `no metadata found for ${issuer}: ${first!.message}; ${last.message}`,
        {
          cause: last,
          details: last.details,
        },
      );
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

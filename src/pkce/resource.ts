/** RFC 9728 discovery from the SPA: a resource's metadata and its `WWW-Authenticate` challenge. */
import { type HttpOptions, resolveBaseHttpOptions } from '../issuer/http.js';
import { parseOptionUrl } from '../option-checks.js';
import { type ProtectedResourceMetadata, fetchResourceMetadata } from '../issuer/resource-metadata.js';

/** Options of {@link discoverResource}. */
export interface DiscoverResourceOptions extends HttpOptions {
  /**
   * The `resource_metadata` URL of the resource's 401 challenge (see
   * {@link parseWwwAuthenticate}). Default: the RFC 9728 well-known URL of `resourceUrl`,
   * then, for a resource with a path, the root one.
   */
  resourceMetadataUrl?: string;
}

/**
 * Fetches an OAuth 2.0 protected resource's metadata (RFC 9728): from `resourceMetadataUrl`
 * when the resource named it in a challenge, else from
 * `/.well-known/oauth-protected-resource/<path>` and then `/.well-known/oauth-protected-resource`
 * (the MCP order). The document's `resource` must be `resourceUrl` exactly, as RFC 9728
 * §3.3 requires, so a resource cannot send the client to another's authorization server;
 * its `authorization_servers` and `jwks_uri` must be https (or loopback). Browser-safe.
 *
 * Next: `discover(metadata.authorization_servers[0])`, then send `resource: resourceUrl`
 * with the authorization request and the token requests (RFC 8707).
 *
 * @throws {JwtVerifyError} `ERR_ISSUER_UNAVAILABLE` (network, timeout, non-2xx, not JSON),
 *   `ERR_METADATA_INVALID` (`resource` differs, a URL that is not https).
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` for a `resourceUrl` or
 *   `resourceMetadataUrl` that is not an https (or loopback) URL (as a rejection).
 * @example
 * const resource = await discoverResource('https://mcp.example.com/mcp');
 * const metadata = await discover(resource.authorization_servers![0]!);
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export async function discoverResource(
  resourceUrl: string,
  options: DiscoverResourceOptions = {},
): Promise<ProtectedResourceMetadata> {
  const http = resolveBaseHttpOptions(options);
  const { resourceMetadataUrl: metadataUrl } = options;
  parseOptionUrl(resourceUrl, 'resourceUrl', http.allowInsecureHttp);
  if (metadataUrl !== undefined) parseOptionUrl(metadataUrl, 'resourceMetadataUrl', http.allowInsecureHttp);
  return fetchResourceMetadata(resourceUrl, metadataUrl, http);
}

/** One challenge of a `WWW-Authenticate` header. */
export interface WwwAuthenticateChallenge {
  /** The auth scheme, lower-cased: `bearer`, `dpop`, `basic`, … */
  scheme: string;
  /**
   * Its auth-params by lower-cased name, quoted strings unquoted: `realm`, `error`,
   * `error_description`, `scope`, `resource_metadata`, and on a step-up answer (RFC 9470
   * §3) `acr_values` (space-separated, as sent) and `max_age` (seconds, as sent), … The
   * first of a repeated one wins.
   */
  params: Record<string, string>;
}

/**
 * Parses a `WWW-Authenticate` header value into its challenges (RFC 9110 §11.6.1), e.g. to
 * read `resource_metadata` (RFC 9728 §5.1), the `scope` of an `insufficient_scope`
 * answer, or the `acr_values` and `max_age` of an `insufficient_user_authentication` one
 * (RFC 9470 §3: log in again with `buildAuthorizationUrl`'s `acrValues` and `maxAge`). Never throws: `null` or garbage gives what could be read (a token68 is skipped).
 * In a browser, the resource must expose the header to read it cross-origin
 * (`Access-Control-Expose-Headers: WWW-Authenticate`).
 *
 * @example
 * const response = await fetch('https://mcp.example.com/mcp', { method: 'POST' });
 * const bearer = parseWwwAuthenticate(response.headers.get('www-authenticate')).find((c) => c.scheme === 'bearer');
 * const resource = await discoverResource('https://mcp.example.com/mcp', {
 *   resourceMetadataUrl: bearer?.params.resource_metadata,
 * });
 * @see https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-5.1
 * @see https://www.rfc-editor.org/rfc/rfc9470#section-3
 */
export function parseWwwAuthenticate(header: string | null | undefined): WwwAuthenticateChallenge[] {
  const challenges: WwwAuthenticateChallenge[] = [];
  let current: WwwAuthenticateChallenge | undefined;
  // A token alone starts a challenge, unless it directly follows its scheme (a token68);
  // `name=value` is a param of the current one.
  for (const [, separator, name, quoted, token] of String(header ?? '').matchAll(
    /([\s,]*)([^\s,="]+)(?:\s*=\s*(?:"((?:[^"\\]|\\.)*)"?|([^\s,]*)))?/g,
  )) {
    const key = name!.toLowerCase();
    if (quoted !== undefined || token !== undefined) {
      if (current) current.params[key] ??= quoted?.replace(/\\(.)/g, '$1') ?? token!;
    } else if (!current || separator!.includes(',') || Object.keys(current.params).length) {
      challenges.push((current = { scheme: key, params: Object.create(null) }));
    }
  }
  return challenges;
}

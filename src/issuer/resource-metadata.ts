/** RFC 9728 protected resource metadata: the document's type, its well-known URL, and fetching it. */
import { firstValidDocument } from './discovery.js';
import type { ResolvedHttpOptions } from './http.js';

/**
 * An OAuth 2.0 protected resource's metadata document (RFC 9728 §2), with the server's
 * own member names. Unknown members are kept as the server sent them.
 */
export interface ProtectedResourceMetadata {
  /** The resource identifier: an https URL without a fragment. */
  resource: string;
  /** Issuer identifiers of the authorization servers that issue tokens for it. */
  authorization_servers?: string[];
  /** The resource's own keys (for signed responses), not the issuer's. */
  jwks_uri?: string;
  scopes_supported?: string[];
  /** How it accepts access tokens: `header` (RFC 6750 §2.1), `body`, `query`. */
  bearer_methods_supported?: string[];
  resource_signing_alg_values_supported?: string[];
  /** A human-readable name, for consent screens. */
  resource_name?: string;
  resource_documentation?: string;
  resource_policy_uri?: string;
  resource_tos_uri?: string;
  /** It accepts only certificate-bound tokens (RFC 8705). */
  tls_client_certificate_bound_access_tokens?: boolean;
  authorization_details_types_supported?: string[];
  /** JWS algorithms it accepts for DPoP proofs (RFC 9449). */
  dpop_signing_alg_values_supported?: string[];
  /** It accepts only DPoP-bound tokens (RFC 9449). */
  dpop_bound_access_tokens_required?: boolean;
  [member: string]: unknown;
}

/**
 * The RFC 9728 §3.1 well-known URL of a resource's metadata: `/.well-known/oauth-protected-resource`
 * goes between the host and the resource's path (a terminating `/` removed), the query kept.
 *
 * @example
 * resourceMetadataUrl('https://mcp.example.com/mcp');
 * // 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
 * resourceMetadataUrl('https://api.example.com/');
 * // 'https://api.example.com/.well-known/oauth-protected-resource'
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3.1
 */
export function resourceMetadataUrl(resource: string | URL): string {
  const { origin, pathname, search } = new URL(resource);
  return `${origin}/.well-known/oauth-protected-resource${pathname.replace(/\/+$/, '')}${search}`;
}

/**
 * Fetches a resource's metadata from `metadataUrl` (a `resource_metadata` URL from a
 * challenge), else from its well-known URL and, for a resource with a path, the root one
 * (the MCP order). The document's `resource` must be `resource` exactly (RFC 9728 §3.3),
 * and its `jwks_uri` and `authorization_servers` https URLs.
 */
export async function fetchResourceMetadata(
  resource: string,
  metadataUrl: string | undefined,
  http: ResolvedHttpOptions,
): Promise<ProtectedResourceMetadata> {
  const wellKnown = resourceMetadataUrl(resource);
  const root = resourceMetadataUrl(new URL(resource).origin);
  const urls = metadataUrl ? [metadataUrl] : wellKnown === root ? [root] : [wellKnown, root];
  const found = await firstValidDocument<{ url: string }, ProtectedResourceMetadata>(
    urls.map((url) => ({ url })),
    resource,
    http,
    { identifier: 'resource' },
  );
  return found.metadata;
}

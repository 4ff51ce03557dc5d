/** `discover()`: the issuer's metadata for the SPA, through the same discovery as the verifier. */
import {
  type AuthorizationServerMetadata,
  type DiscoverOptions,
  discoverUsing,
} from '../issuer/discovery.js';
import { resolveBaseHttpOptions } from '../issuer/http.js';

/**
 * Discovers an issuer's metadata, browser-safe: the verifier's discovery rules (RFC 8414
 * document, then OpenID Connect's in `'auto'` mode; `issuer` must match exactly; endpoint
 * URLs must be https or loopback) over the small core transport, which does not follow
 * redirects (a browser cannot follow them under `redirect: 'manual'` anyway).
 *
 * @throws {JwtVerifyError} `ERR_ISSUER_UNAVAILABLE` (network, timeout, non-2xx, not JSON),
 *   `ERR_METADATA_INVALID` (issuer mismatch, an endpoint that is not https).
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` for a bad issuer or options (as a rejection).
 * @example
 * const metadata = await discover('https://signin.altostrat.io/');
 * metadata.authorization_endpoint; // 'https://signin.altostrat.io/authorize'
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3
 */
export async function discover(
  issuer: string,
  options: DiscoverOptions = {},
): Promise<AuthorizationServerMetadata> {
  return discoverUsing(issuer, options, resolveBaseHttpOptions(options));
}

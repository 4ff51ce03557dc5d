/** How a confidential client authenticates to the issuer (RFC 6749 §2.3.1): the method and the Basic header. */
import type { AuthorizationServerMetadata } from './discovery.js';

/** How a confidential client sends its secret (RFC 6749 §2.3.1). */
export type ClientSecretMethod = 'client_secret_basic' | 'client_secret_post';

/**
 * The method to send a client secret to `endpoint` with: `client_secret_basic`, unless the
 * metadata lists `client_secret_post` and not `client_secret_basic` for that endpoint (or,
 * without a list of its own, for the token endpoint). RFC 8414 §2: an omitted list means
 * `client_secret_basic`.
 */
export function clientSecretMethod(
  metadata: AuthorizationServerMetadata | undefined,
  endpoint: 'token_endpoint' | 'revocation_endpoint' | 'introspection_endpoint',
): ClientSecretMethod {
  const methods = (metadata?.[`${endpoint}_auth_methods_supported`] ??
    metadata?.token_endpoint_auth_methods_supported) as string[] | undefined;
  return methods?.includes('client_secret_post') && !methods.includes('client_secret_basic')
    ? 'client_secret_post'
    : 'client_secret_basic';
}

/** The `Authorization` value of `client_secret_basic`: id and secret form-encoded first (RFC 6749 §2.3.1). */
export function basicAuthorization(clientId: string, clientSecret: string): string {
  const form = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);
  return `Basic ${btoa(`${form(clientId)}:${form(clientSecret)}`)}`;
}

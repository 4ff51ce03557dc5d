/** Dynamic client registration (RFC 7591) from the SPA. */
import type { AuthorizationServerMetadata } from '../issuer/discovery.js';
import { type HttpOptions, requestJson, resolveBaseHttpOptions, unavailable } from '../issuer/http.js';
import { invalidArgument } from '../errors.js';
import { refuseClientError, stringOrUndefined } from './endpoint-answer.js';
import { ClientRegistrationError } from './errors.js';
import { secureEndpointOf, requireString } from './params.js';

/**
 * The client metadata of a dynamic registration (RFC 7591 §2; OpenID Connect Dynamic
 * Client Registration §2 for `application_type`), with the protocol's member names.
 * Members not listed here are sent as given.
 */
export interface ClientMetadata {
  /** Exact redirect URIs of the client; at least one. */
  redirect_uris: string[];
  /** Default `'none'`: a public client (an SPA, a desktop or CLI app), which PKCE protects. */
  token_endpoint_auth_method?: 'none' | 'client_secret_basic' | 'client_secret_post' | (string & {});
  /** Default `['authorization_code', 'refresh_token']`. */
  grant_types?: string[];
  /** The server's default is `['code']`. */
  response_types?: string[];
  /** `'web'` (the server's default) or `'native'` (desktop and mobile apps, loopback redirects). */
  application_type?: 'web' | 'native' | (string & {});
  /** Shown to the user on the consent screen. */
  client_name?: string;
  /** Space-delimited scopes the client may ask for. */
  scope?: string;
  client_uri?: string;
  logo_uri?: string;
  contacts?: string[];
  tos_uri?: string;
  policy_uri?: string;
  software_id?: string;
  software_version?: string;
  [member: string]: unknown;
}

/** The registration endpoint's answer (RFC 7591 §3.2.1): the client's metadata as registered, and its id. */
export interface RegisteredClient extends ClientMetadata {
  client_id: string;
  /** Only for a confidential client (`client_secret_basic` / `_post`): keep it on a server, never in a browser. */
  client_secret?: string;
  /** Seconds since the epoch. */
  client_id_issued_at?: number;
  /** Seconds since the epoch; 0 means never. */
  client_secret_expires_at?: number;
  /** RFC 7592 client management, when the server offers it. */
  registration_access_token?: string;
  registration_client_uri?: string;
}

/** Options of {@link registerClient}. */
export interface RegisterClientOptions extends HttpOptions {
  /** An initial access token the server requires for registration (RFC 7591 §3), sent as `Bearer`. */
  initialAccessToken?: string;
}

/**
 * Registers a client with the authorization server (RFC 7591 dynamic client registration),
 * as MCP clients do with a server they have never seen: a JSON POST of `clientMetadata` to
 * the metadata's `registration_endpoint`. Registers a public client by default
 * (`token_endpoint_auth_method: 'none'`, the `authorization_code` and `refresh_token`
 * grants); give any member to send another value. Browser-safe.
 *
 * @throws {ClientRegistrationError} the server's RFC 7591 §3.2.2 error, e.g.
 *   `invalid_redirect_uri` or `invalid_client_metadata`.
 * @throws {JwtVerifyError} `ERR_METADATA_INVALID` without an https `registration_endpoint`;
 *   `ERR_ISSUER_UNAVAILABLE` (network, timeout, 5xx, an answer without `client_id`).
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` without `redirect_uris` (as a rejection).
 * @example
 * const metadata = await discover(resource.authorization_servers![0]!);
 * const client = await registerClient(metadata, {
 *   client_name: 'Example MCP client',
 *   redirect_uris: ['http://127.0.0.1:8765/callback'],
 *   application_type: 'native',
 * });
 * const { url } = await buildAuthorizationUrl(metadata, {
 *   clientId: client.client_id,
 *   redirectUri: 'http://127.0.0.1:8765/callback',
 *   resource: 'https://mcp.example.com/mcp',
 * });
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3
 */
export async function registerClient(
  metadata: AuthorizationServerMetadata,
  clientMetadata: ClientMetadata,
  options: RegisterClientOptions = {},
): Promise<RegisteredClient> {
  const http = resolveBaseHttpOptions(options);
  const { href: url } = secureEndpointOf(metadata, 'registration_endpoint', http);
  const uris = clientMetadata?.redirect_uris;
  if (!Array.isArray(uris) || !uris.length || uris.some((uri) => typeof uri !== 'string' || !uri)) {
    throw invalidArgument('clientMetadata.redirect_uris must be a non-empty array of URIs');
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  const { initialAccessToken: token } = options;
  if (token !== undefined) headers.authorization = `Bearer ${requireString(token, 'initialAccessToken')}`;
  const answer = await requestJson(url, http, {
    method: 'POST',
    headers,
    body: JSON.stringify({
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      ...clientMetadata,
    }),
    acceptClientErrors: true,
  });
  refuseClientError(url, answer, ClientRegistrationError, [token]);
  if (!stringOrUndefined((answer.body as Record<string, unknown> | undefined)?.client_id)) {
    throw unavailable(url, `answered ${answer.status} without a client_id`, answer.status);
  }
  return answer.body as RegisteredClient;
}

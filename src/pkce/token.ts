/** The token endpoint from the SPA: code exchange, refresh, revocation (RFC 6749, RFC 7009). */
import type { AuthorizationServerMetadata } from '../issuer/discovery.js';
import { type HttpOptions, requestJson, resolveBaseHttpOptions, unavailable } from '../issuer/http.js';
import { formEncoded, refuseClientError, stringOrUndefined } from './endpoint-answer.js';
import { TokenEndpointError } from './errors.js';
import type { DpopHandle } from './dpop/handle.js';
import { secureEndpointOf, requireDpopHandle, requireString, setParams } from './params.js';

/**
 * A successful token response (RFC 6749 §5.1), with the server's own field names.
 * Members the server adds (e.g. `id_token` from OpenID Connect) are kept.
 */
export interface TokenResponse {
  access_token: string;
  /** Usually `Bearer` (compare case-insensitively). */
  token_type: string;
  /** Lifetime of the access token in seconds, when the server says. */
  expires_in?: number;
  refresh_token?: string;
  /** OpenID Connect ID token (not validated here). */
  id_token?: string;
  /** Granted scopes, when they differ from the requested ones. */
  scope?: string;
  [member: string]: unknown;
}

/** Client identification and HTTP options shared by the token-endpoint helpers. */
export interface ClientOptions extends HttpOptions {
  clientId: string;
  /**
   * Only for confidential clients running on a server, never in a browser: sent as
   * `client_secret_basic`, or `client_secret_post` when the metadata lists only that.
   */
  clientSecret?: string;
  /** More form parameters; they cannot replace ones the helper sets. */
  extraParams?: Record<string, string>;
  /**
   * DPoP (RFC 9449): sends a proof of this key and retries once with the server's nonce
   * on `use_dpop_nonce`. The server binds the tokens to the key (`token_type` `DPoP`;
   * `Bearer` when it did not).
   */
  dpop?: DpopHandle;
}

/** Options of {@link exchangeAuthorizationCode}. */
export interface ExchangeAuthorizationCodeOptions extends ClientOptions {
  /** `code` from {@link parseAuthorizationResponse}. */
  code: string;
  /** The verifier kept since {@link buildAuthorizationUrl}. */
  codeVerifier: string;
  /** The same `redirectUri` as in the authorization request. */
  redirectUri: string;
  /** RFC 8707 resource indicator(s) for the access token. */
  resource?: string | readonly string[];
}

/** Options of {@link refreshTokens}. */
export interface RefreshTokensOptions extends ClientOptions {
  refreshToken: string;
  /** A narrower scope than the one granted. */
  scope?: string;
  /** RFC 8707 resource indicator(s) for the new access token. */
  resource?: string | readonly string[];
}

/** Options of {@link revokeToken}. */
export interface RevokeTokenOptions extends ClientOptions {
  /** The refresh token (which revokes the grant at most servers) or an access token. */
  token: string;
  tokenTypeHint?: 'refresh_token' | 'access_token' | (string & {});
}

type Endpoint = 'token_endpoint' | 'revocation_endpoint';

/**
 * POSTs a form to the token or revocation endpoint (secrets only ever in the body or the
 * Authorization header, never in the URL). Any 4xx is the server's answer to this request,
 * not an outage: with RFC 6749 §5.2 error JSON a TokenEndpointError, else a
 * TokenEndpointRefusedError (servers use 403 and empty bodies too). 5xx, timeouts and
 * network failures stay ERR_ISSUER_UNAVAILABLE (requestJson). Resolves to the token
 * response, or nothing for revocation.
 */
async function post(
  metadata: AuthorizationServerMetadata,
  endpoint: Endpoint,
  options: ClientOptions,
  values: Record<string, string | undefined>,
  resource?: string | readonly string[],
): Promise<TokenResponse> {
  const http = resolveBaseHttpOptions(options);
  const { href: url } = secureEndpointOf(metadata, endpoint, http);
  const clientId = requireString(options.clientId, 'clientId');
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
  let secret = options.clientSecret;
  if (secret !== undefined) {
    const methods = (metadata[`${endpoint}_auth_methods_supported`] ??
      metadata.token_endpoint_auth_methods_supported) as string[] | undefined;
    // RFC 8414 §2: an omitted list means client_secret_basic; RFC 6749 §2.3.1: the id and
    // secret are form-encoded before Basic encoding.
    if (!methods?.includes('client_secret_post') || methods.includes('client_secret_basic')) {
      headers.authorization = `Basic ${btoa(`${formEncoded(clientId)}:${formEncoded(requireString(secret, 'clientSecret'))}`)}`;
      secret = undefined;
    }
  }
  const body = new URLSearchParams();
  setParams(
    body,
    { ...values, client_id: headers.authorization ? undefined : clientId, client_secret: secret },
    resource,
    options.extraParams,
  );
  const send = (proof?: string) =>
    requestJson(url, http, {
      method: 'POST',
      headers: proof ? { ...headers, dpop: proof } : headers,
      body,
      acceptClientErrors: true,
      ignoreSuccessBody: endpoint === 'revocation_endpoint',
    });
  const dpop = requireDpopHandle(options.dpop);
  const answer = await (dpop ? dpop.withProof('POST', url, send) : send());
  const secrets = [options.clientSecret, headers.authorization?.slice(6)];
  for (const [name, value] of body)
    if (!/^(grant_type|token_type_hint|client_id|redirect_uri|scope|resource)$/.test(name))
      secrets.push(value);
  refuseClientError(url, answer, TokenEndpointError, secrets);
  const json = answer.body as Record<string, unknown> | undefined;
  if (
    json !== undefined &&
    !(stringOrUndefined(json.access_token) && stringOrUndefined(json.token_type) !== undefined)
  ) {
    throw unavailable(url, `answered ${answer.status} without an access_token and token_type`, answer.status);
  }
  return json as TokenResponse;
}

/**
 * Exchanges an authorization code for tokens (`grant_type=authorization_code` with the
 * PKCE `code_verifier`), as a form-encoded POST to the `token_endpoint`.
 *
 * @throws {TokenEndpointError} a 4xx with the server's RFC 6749 §5.2 error, e.g.
 *   `invalid_grant` (code used, expired, or the verifier does not match; Auth0 answers 403).
 * @throws {TokenEndpointRefusedError} a 4xx without OAuth error JSON (e.g. an empty body).
 * @throws {JwtVerifyError} `ERR_ISSUER_UNAVAILABLE` when the server cannot be reached, times
 *   out, answers 5xx or a 2xx that is not a token response; `ERR_METADATA_INVALID`
 *   when the metadata has no `token_endpoint`.
 * @example
 * const tokens = await exchangeAuthorizationCode(metadata, {
 *   clientId: 'my-spa',
 *   code,
 *   codeVerifier: saved.codeVerifier,
 *   redirectUri: `${location.origin}/callback`,
 * });
 * tokens.access_token;
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.5
 */
export async function exchangeAuthorizationCode(
  metadata: AuthorizationServerMetadata,
  options: ExchangeAuthorizationCodeOptions,
): Promise<TokenResponse> {
  return post(
    metadata,
    'token_endpoint',
    options,
    {
      grant_type: 'authorization_code',
      code: requireString(options.code, 'code'),
      code_verifier: requireString(options.codeVerifier, 'codeVerifier'),
      redirect_uri: requireString(options.redirectUri, 'redirectUri'),
    },
    options.resource,
  );
}

/**
 * Gets new tokens with a refresh token (`grant_type=refresh_token`). Servers that rotate
 * refresh tokens answer with a new `refresh_token`: keep that one, the old one is spent.
 *
 * @throws {TokenEndpointError} e.g. `invalid_grant` when the refresh token is expired,
 *   revoked or already used: start a new login.
 * @throws {TokenEndpointRefusedError} a 4xx without OAuth error JSON (Glewlwyd answers a
 *   revoked refresh token with an empty 400): start a new login too.
 * @throws {JwtVerifyError} `ERR_ISSUER_UNAVAILABLE` (network, timeout, 5xx, bad answer).
 * @example
 * const refreshed = await refreshTokens(metadata, { clientId: 'my-spa', refreshToken: tokens.refresh_token! });
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-6
 */
export async function refreshTokens(
  metadata: AuthorizationServerMetadata,
  options: RefreshTokensOptions,
): Promise<TokenResponse> {
  return post(
    metadata,
    'token_endpoint',
    options,
    {
      grant_type: 'refresh_token',
      refresh_token: requireString(options.refreshToken, 'refreshToken'),
      scope: options.scope,
    },
    options.resource,
  );
}

/**
 * Revokes a refresh or access token at the `revocation_endpoint` (on logout). Resolves when
 * the server answered 200, which it also does for a token it does not know.
 *
 * @throws {TokenEndpointError} e.g. `unsupported_token_type`, `invalid_client`.
 * @throws {TokenEndpointRefusedError} a 4xx without OAuth error JSON (Glewlwyd: an empty 401).
 * @throws {JwtVerifyError} `ERR_METADATA_INVALID` without a `revocation_endpoint`;
 *   `ERR_ISSUER_UNAVAILABLE` (network, timeout, 5xx).
 * @example
 * await revokeToken(metadata, { clientId: 'my-spa', token: refreshToken, tokenTypeHint: 'refresh_token' });
 * @see https://www.rfc-editor.org/rfc/rfc7009#section-2
 */
export async function revokeToken(
  metadata: AuthorizationServerMetadata,
  options: RevokeTokenOptions,
): Promise<void> {
  await post(metadata, 'revocation_endpoint', options, {
    token: requireString(options.token, 'token'),
    token_type_hint: options.tokenTypeHint,
  });
}

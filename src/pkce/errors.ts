/** The errors of the PKCE helpers: a refused callback, a token endpoint or registration that refused. */
/**
 * What {@link AuthorizationResponseError.error} can hold: the server's own RFC 6749
 * §4.1.2.1 code (`access_denied`, `login_required`, …), or one of the three codes this
 * library uses when it refuses a callback itself.
 */
export type AuthorizationResponseErrorCode =
  | 'state_mismatch'
  | 'issuer_mismatch'
  | 'invalid_response'
  | 'access_denied'
  | 'login_required'
  | 'consent_required'
  | 'interaction_required'
  | 'invalid_request'
  | 'invalid_scope'
  | 'server_error'
  | 'temporarily_unavailable'
  | (string & {});

/** The RFC 6749 error members both error classes carry. */
export interface OAuthErrorFields {
  error_description?: string | undefined;
  error_uri?: string | undefined;
}

/**
 * The authorization server redirected back with `error=…` (RFC 6749 §4.1.2.1), or the
 * callback failed a check and must not be used: `state_mismatch` (not the `state` this
 * browser sent: CSRF or a stale tab), `issuer_mismatch` (RFC 9207 `iss` missing or wrong:
 * a possible mix-up attack) or `invalid_response` (no `code`, or a repeated parameter).
 *
 * @example
 * try {
 *   parseAuthorizationResponse(location.href, { expectedState, metadata });
 * } catch (err) {
 *   if (err instanceof AuthorizationResponseError && err.error === 'access_denied') showCancelled();
 *   else throw err;
 * }
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1
 */
export class AuthorizationResponseError extends Error {
  override readonly name = 'AuthorizationResponseError';
  /** The server's error code, or `state_mismatch` / `issuer_mismatch` / `invalid_response`. */
  declare readonly error: AuthorizationResponseErrorCode;
  /** Human-readable text from the server, when it sent one (not for display as HTML). */
  declare readonly error_description?: string;
  /** A page about the error, when the server sent one. */
  declare readonly error_uri?: string;
  /** The `state` the response carried, if any. */
  declare readonly state?: string;

  constructor(
    error: AuthorizationResponseErrorCode,
    message: string,
    fields: OAuthErrorFields & { state?: string | undefined } = {},
  ) {
    super(message);
    Object.assign(this, { error }, fields);
  }
}

/**
 * An OAuth endpoint answered with an error object (`error`, `error_description`,
 * `error_uri`): the base of {@link TokenEndpointError} and {@link ClientRegistrationError},
 * so one `instanceof` check catches what any endpoint refused.
 *
 * @example
 * if (err instanceof OAuthEndpointError) console.warn(err.status, err.error);
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class OAuthEndpointError extends Error {
  override readonly name: string = 'OAuthEndpointError';
  /** The server's error code, e.g. `invalid_grant`. */
  declare readonly error: string;
  declare readonly error_description?: string;
  declare readonly error_uri?: string;
  /** The HTTP status of the answer (any 4xx). */
  declare readonly status: number;
  /** The answer's `Retry-After` in seconds (capped at 300), when it had one (429). */
  declare readonly retryAfterSeconds?: number;

  constructor(
    status: number,
    error: string,
    message: string,
    fields: OAuthErrorFields & { retryAfterSeconds?: number | undefined } = {},
  ) {
    super(message);
    Object.assign(this, { status, error }, fields);
  }
}

/**
 * The token or revocation endpoint refused the request with a 4xx that carries no RFC 6749
 * §5.2 error body: an empty body (Glewlwyd answers a refused revocation with 401 and a
 * revoked refresh token with 400, both empty), an HTML page from a gateway, or JSON without
 * a string `error`. A refusal, not an outage: the same request will not succeed later
 * (except a 429, after `retryAfterSeconds`), so start a new login rather than retry.
 *
 * Deliberately not a {@link TokenEndpointError}: that class's `error` is always the
 * server's own code, and no code is invented here. `bodyExcerpt` shows what came, cut
 * short and with the code, verifier, tokens and client secret of the request blanked out.
 *
 * @example
 * try {
 *   tokens = await refreshTokens(metadata, { clientId, refreshToken });
 * } catch (err) {
 *   if (err instanceof TokenEndpointError || err instanceof TokenEndpointRefusedError) {
 *     if (err.status === 429) retryIn(err.retryAfterSeconds ?? 60);
 *     else startLogin();
 *   } else throw err;
 * }
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class TokenEndpointRefusedError extends Error {
  override readonly name = 'TokenEndpointRefusedError';
  /** The HTTP status of the answer (any 4xx). */
  declare readonly status: number;
  /**
   * At most 100 characters of the body on one line, `''` when it was empty; the request's
   * secrets appear as `[redacted]`. For logs, not for parsing (and not for display as HTML).
   */
  declare readonly bodyExcerpt: string;
  /** The answer's `Retry-After` in seconds (capped at 300), when it had one (429). */
  declare readonly retryAfterSeconds?: number;

  constructor(status: number, message: string, bodyExcerpt: string, retryAfterSeconds?: number) {
    super(message);
    Object.assign(this, { status, bodyExcerpt, retryAfterSeconds });
  }
}

/**
 * The token or revocation endpoint answered a 4xx with an RFC 6749 §5.2 error body (JSON
 * with a string `error`: `invalid_grant`, `invalid_client`, or a server's own code such as
 * Glewlwyd's `invalid_code`). `status` is the HTTP status, whatever the 4xx: 400 and 401
 * per RFC 6749, 403 at Auth0 and Glewlwyd, 429 when rate limited (then with
 * `retryAfterSeconds`). A 4xx without such a body is a {@link TokenEndpointRefusedError};
 * a 5xx, a timeout or a network failure is `ERR_ISSUER_UNAVAILABLE`.
 *
 * @example
 * try {
 *   await refreshTokens(metadata, { clientId, refreshToken });
 * } catch (err) {
 *   if (err instanceof TokenEndpointError && err.error === 'invalid_grant') startLogin();
 *   else throw err;
 * }
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class TokenEndpointError extends OAuthEndpointError {
  override readonly name = 'TokenEndpointError';
}

/**
 * The registration endpoint refused a dynamic client registration with an RFC 7591 §3.2.2
 * error: `invalid_redirect_uri`, `invalid_client_metadata`, `invalid_software_statement`,
 * `unapproved_software_statement`, or another (e.g. `invalid_token` for a bad initial
 * access token). `status` is the HTTP status (400 mostly).
 *
 * @example
 * try {
 *   await registerClient(metadata, { redirect_uris: ['https://app.example.com/cb'] });
 * } catch (err) {
 *   if (err instanceof ClientRegistrationError && err.error === 'invalid_redirect_uri') showSetupHelp();
 *   else throw err;
 * }
 * @see https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2
 */
export class ClientRegistrationError extends OAuthEndpointError {
  override readonly name = 'ClientRegistrationError';
}

/** The authorization request (RFC 6749 §4.1, RFC 7636) and the callback it comes back to, checked. */
import type { AuthorizationServerMetadata } from '../issuer/discovery.js';
import { invalidArgument } from '../errors.js';
import { AuthorizationResponseError, type AuthorizationResponseErrorCode } from './errors.js';
import type { DpopHandle } from './dpop/handle.js';
import {
  endpointOf,
  issuerOf,
  metadataError,
  requireDpopHandle,
  requireString,
  setParams,
} from './params.js';
import { createPkcePair, randomToken } from './pkce.js';

/** Options of {@link buildAuthorizationUrl}. */
export interface AuthorizationUrlOptions {
  /** The client's `client_id`. */
  clientId: string;
  /** Where the server sends the browser back; must be registered for the client exactly. */
  redirectUri: string;
  /** Space-delimited scopes, e.g. `'openid profile offline_access'`. */
  scope?: string;
  /** Auth0's API identifier: Auth0-backed issuers issue a JWT access token only with it. */
  audience?: string;
  /** RFC 8707 resource indicator(s): absolute URIs of the APIs the token is for. */
  resource?: string | readonly string[];
  /** Default: 32 random bytes, base64url. */
  state?: string;
  /** Default: 32 random bytes, base64url, when `scope` contains `openid`; otherwise none. */
  nonce?: string;
  /** Default: a new random verifier. Pass one to reuse it (it is checked as RFC 7636 §4.1 says). */
  codeVerifier?: string;
  /** `'query'` (the default for `code` at most servers) or `'fragment'`. */
  responseMode?: 'query' | 'fragment' | (string & {});
  /** OpenID Connect `prompt`, e.g. `'login'`, `'consent'`, `'none'`. */
  prompt?: string;
  /** OpenID Connect `login_hint`, e.g. the user's e-mail address. */
  loginHint?: string;
  /**
   * Step-up (RFC 9470, OpenID Connect Core §3.1.2.1): the authentication context classes to
   * ask for, most wanted first, sent space-joined as `acr_values`: what a resource's
   * `insufficient_user_authentication` challenge named.
   */
  acrValues?: readonly string[];
  /**
   * Step-up: the longest time since the user's last login, in seconds (a whole number, 0
   * or more), sent as `max_age`; the server makes the user log in again when it is older.
   */
  maxAge?: number;
  /** More parameters (e.g. `{ organization: 'org_123' }`); they cannot replace ones set above. */
  extraParams?: Record<string, string>;
  /** DPoP (RFC 9449 §10): sends `dpop_jkt`, binding the code to this key. */
  dpop?: DpopHandle;
  /**
   * Use PKCE S256 with a server whose metadata has no `code_challenge_methods_supported`
   * at all (Entra ID, Cognito and others support S256 without saying so). A list without
   * `S256` is refused whatever this says. Default false.
   */
  allowMissingPkceMetadata?: boolean;
}

/**
 * An authorization request, ready for redirecting. Keep `state`, `codeVerifier` (and
 * `nonce`) until the callback, e.g. in `sessionStorage`; `codeVerifier` is a secret.
 */
export interface AuthorizationRequest {
  /** The `authorization_endpoint` URL with every parameter. */
  url: string;
  state: string;
  /** Set when `scope` contains `openid` or a nonce was given. */
  nonce: string | undefined;
  codeVerifier: string;
  codeChallenge: string;
}

/**
 * Builds the authorization request URL for the authorization-code flow with PKCE (S256):
 * `response_type=code`, `client_id`, `redirect_uri`, `scope`, `state`, `code_challenge`,
 * `code_challenge_method=S256`, a `nonce` when `scope` contains `openid`, and `resource`,
 * `audience`, `response_mode`, `prompt`, `login_hint`, `acr_values`, `max_age` and `extraParams` when given.
 *
 * Refuses (`ERR_METADATA_INVALID`, saying which) a server whose
 * `code_challenge_methods_supported` does not list `S256`, one whose metadata omits it
 * (RFC 8414 §2: omitted means no PKCE) unless `allowMissingPkceMetadata: true`, and one
 * without `authorization_endpoint`.
 *
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` for bad options (missing `clientId`,
 *   a malformed `resource`, `extraParams` that would replace a parameter, …).
 * @example
 * const metadata = await discover('https://signin.altostrat.io/');
 * const { url, state, nonce, codeVerifier } = await buildAuthorizationUrl(metadata, {
 *   clientId: 'my-spa',
 *   redirectUri: `${location.origin}/callback`,
 *   scope: 'openid profile offline_access',
 *   audience: 'https://v1.api.altostrat.io',
 * });
 * sessionStorage.setItem('login', JSON.stringify({ state, nonce, codeVerifier }));
 * location.assign(url);
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.3
 * @see https://www.rfc-editor.org/rfc/rfc9700#section-2.1.1
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 */
export async function buildAuthorizationUrl(
  metadata: AuthorizationServerMetadata,
  options: AuthorizationUrlOptions,
): Promise<AuthorizationRequest> {
  const url = endpointOf(metadata, 'authorization_endpoint');
  const methods = metadata.code_challenge_methods_supported;
  const unsaid = methods === undefined;
  if (unsaid ? !options.allowMissingPkceMetadata : !(Array.isArray(methods) && methods.includes('S256'))) {
    throw metadataError(
      `${metadata.issuer} ${unsaid ? 'has no' : 'lacks S256 in'} code_challenge_methods_supported (RFC 9700 section 2.1.1)${unsaid ? ': pass allowMissingPkceMetadata: true if it supports S256 anyway' : ''}`,
    );
  }
  const { scope, state = randomToken(), acrValues, maxAge } = options;
  // acr_values is space-joined: each value non-empty and without spaces; max_age whole seconds.
  const age = maxAge?.toString();
  if (
    (acrValues && !(acrValues[0] && acrValues.every?.((acr) => /^\S+$/.test(acr)))) ||
    !/^\d+$/.test(age ?? '0')
  ) {
    throw invalidArgument('acrValues (no spaces) or maxAge (whole seconds) is invalid');
  }
  const { codeVerifier, codeChallenge } = await createPkcePair(options.codeVerifier);
  if (scope !== undefined) requireString(scope, 'scope');
  const nonce = options.nonce ?? (scope?.split(' ').includes('openid') ? randomToken() : undefined);
  setParams(
    url.searchParams,
    {
      response_type: 'code',
      client_id: requireString(options.clientId, 'clientId'),
      redirect_uri: requireString(options.redirectUri, 'redirectUri'),
      scope,
      state: requireString(state, 'state'),
      nonce,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
      audience: options.audience,
      response_mode: options.responseMode,
      prompt: options.prompt,
      login_hint: options.loginHint,
      acr_values: acrValues?.join(' '),
      max_age: age,
      dpop_jkt: requireDpopHandle(options.dpop)?.jkt,
    },
    options.resource,
    options.extraParams,
  );
  return { url: url.href, state, nonce, codeVerifier, codeChallenge };
}

/** Options of {@link parseAuthorizationResponse}. */
export interface ParseAuthorizationResponseOptions {
  /** The `state` that {@link buildAuthorizationUrl} returned for this browser's request. */
  expectedState: string;
  /** The server's metadata: its `issuer` and `authorization_response_iss_parameter_supported`. */
  metadata: AuthorizationServerMetadata;
  /** The `iss` to expect. Default: `metadata.issuer`. */
  expectedIssuer?: string;
}

/** A successful authorization response. */
export interface AuthorizationResponse {
  code: string;
  state: string;
  /** RFC 9207 `iss`, when the server sent it (already checked). */
  iss?: string;
}

/**
 * Reads the redirect back from the authorization server (query, or fragment for
 * `response_mode=fragment`) and checks it, in this order: no parameter is repeated;
 * `state` equals `expectedState`; RFC 9207 `iss` equals the issuer (required when the
 * metadata has `authorization_response_iss_parameter_supported: true`, compared whenever
 * present); then an `error=` answer is raised as is; else `code` is returned.
 *
 * @throws {AuthorizationResponseError} `error` is the server's code (`access_denied`, …), or
 *   `state_mismatch`, `issuer_mismatch` or `invalid_response` when the callback is refused.
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` for a missing `expectedState` or metadata.
 * @example
 * const saved = JSON.parse(sessionStorage.getItem('login') ?? '{}');
 * sessionStorage.removeItem('login');
 * const { code } = parseAuthorizationResponse(location.href, { expectedState: saved.state, metadata });
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2
 * @see https://www.rfc-editor.org/rfc/rfc9207#section-2.4
 */
export function parseAuthorizationResponse(
  callbackUrl: string | URL,
  options: ParseAuthorizationResponseOptions,
): AuthorizationResponse {
  let url: URL;
  try {
    url = new URL(callbackUrl);
  } catch {
    throw invalidArgument('callbackUrl must be an absolute URL');
  }
  const expectedState = requireString(options?.expectedState, 'expectedState');
  const { metadata, expectedIssuer = issuerOf(metadata) } = options;
  const fragment = new URLSearchParams(url.hash.slice(1));
  const params =
    fragment.has('state') || fragment.has('code') || fragment.has('error') ? fragment : url.searchParams;
  const fields: Record<string, string> = Object.create(null);
  let repeated: string | undefined;
  for (const [name, value] of params) {
    if (name in fields) repeated ??= name;
    else fields[name] = value;
  }
  const { state, iss, error, error_description, error_uri, code } = fields;
  const refuse = (code: AuthorizationResponseErrorCode, message: string) =>
    new AuthorizationResponseError(code, `callback refused: ${message}`, { state });
  if (repeated) throw refuse('invalid_response', `${repeated} appears more than once`);
  if (state !== expectedState) {
    throw refuse('state_mismatch', `${state ? 'wrong' : 'no'} state${error ? ` (error ${error})` : ''}`);
  }
  if (
    iss === undefined
      ? metadata.authorization_response_iss_parameter_supported === true
      : iss !== expectedIssuer
  ) {
    throw refuse('issuer_mismatch', `iss ${iss ?? 'missing'}, expected ${expectedIssuer} (RFC 9207)`);
  }
  if (error !== undefined) {
    throw new AuthorizationResponseError(
      error,
      `the authorization server answered ${error}${error_description ? `: ${error_description}` : ''}`,
      { error_description, error_uri, state },
    );
  }
  if (!code) throw refuse('invalid_response', 'neither code nor error');
  return iss === undefined ? { code, state } : { code, state, iss };
}

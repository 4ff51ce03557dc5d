/** `authenticate()`: a request in, a decision out (the token, or the status, headers and body to refuse with). */
import { checkScopes, parseScopesOption } from '../verify/claims.js';
import {
  type AuthenticationRequirement,
  checkAuthentication,
  parseRequireAuthentication,
} from '../verify/authentication.js';
import { type JwtVerifyErrorCode, JwtVerifyError, invalidArgument, isJwtVerifyError } from '../errors.js';
import { functionOption, nonNegativeNumberOption, stringOption } from '../option-checks.js';
import type { JwtPayload } from '../token/parse.js';
import { type VerifyOptions, type VerifyResult } from '../verify/options.js';
import { withChallenge } from '../dpop/challenge.js';
import type { HttpRequest } from '../request/http-request.js';
import { type RequestUrlOptions, resolveRequestUrlOptions } from '../request/public-url.js';
import { type RequestVerifyResult, type VerifyRequestOptions, verifyRequestWith } from '../verify/request.js';
import type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';
import { parseResourceMetadataOption, withParam } from './resource-metadata.js';

/**
 * What {@link authenticate} needs from a verifier: `verify(token)`. `JwtVerifier`,
 * `IntrospectionVerifier`, `JwtOrIntrospectionVerifier` and `MultiIssuerVerifier` all fit.
 */
export interface TokenVerifier {
  /**
   * Verifies a compact JWS; rejects with a {@link JwtVerifyError}. `authenticate()` passes
   * `{ allowBoundTokens: true }` and checks a sender-constrained token's binding itself.
   */
  verify<Payload extends JwtPayload = JwtPayload>(
    token: string,
    options?: VerifyOptions,
  ): Promise<VerifyResult<Payload>>;
  /**
   * Verifies a whole request, Bearer or DPoP (RFC 9449), and a certificate-bound token's
   * TLS client certificate (RFC 8705); `authenticate()` uses it when present, else `verify()`
   * with the Bearer token, checked as `JwtVerifier.verifyRequest` checks a Bearer token.
   */
  verifyRequest?<Payload extends JwtPayload = JwtPayload>(
    request: HttpRequest,
    options?: VerifyRequestOptions,
  ): Promise<RequestVerifyResult<Payload>>;
}

/**
 * The requests {@link authenticate} reads: a Fetch `Request` (Workers, Deno, Bun, Hono) or
 * a Node `IncomingMessage` (`node:http`, Express, Fastify's `request.raw`); the `Authorization`
 * header, and for DPoP the `DPoP` header, method and URL. Only the shape is checked, so the
 * main entry imports nothing from Node.
 */
export type AuthenticateRequest = HttpRequest;

/**
 * Options of {@link authenticate}. All are optional. `publicUrl` and
 * `trustedForwardedHeaders` say which URL a DPoP proof must name behind a proxy;
 * `clientCertificate` where a certificate-bound token's TLS client certificate comes from.
 */
export interface AuthenticateOptions extends VerifyRequestOptions {
  /** The `realm` of the `WWW-Authenticate` challenge (RFC 6750 §3). Default: none. */
  realm?: string;
  /**
   * Scopes this request needs on top of the verifier's own `requiredScopes` (an array or
   * one space-delimited string); else 403 `insufficient_scope`. Default: none.
   */
  requiredScopes?: readonly string[] | string;
  /**
   * Step-up authentication (RFC 9470) this request needs on top of the verifier's
   * `acrValues` / `maxAuthAgeSeconds`: both must hold. A token whose `acr` is not among
   * `acrValues` (or that has none), or whose `auth_time` is more than `maxAgeSeconds` ago
   * by this server's clock (or missing), gets 401 `insufficient_user_authentication` with
   * `acr_values` / `max_age`, so the client logs the user in again asking for them.
   * Default: none.
   */
  requireAuthentication?: AuthenticationRequirement;
  /**
   * The `Retry-After` (seconds) of a 503 when the issuer sent none itself. Default 10.
   */
  retryAfterSeconds?: number;
  /**
   * Called with every rejection before it is returned or sent, for logs and metrics
   * (`failure.error` holds the real reason, e.g. the issuer's URL and answer on a 503).
   * What it throws is ignored. Default: none.
   */
  onFailure?: (failure: AuthenticateFailure) => void;
  /**
   * The resource's RFC 9728 metadata: the document `protectedResourceMetadata()` built
   * (its well-known URL is named), or the URL it is served at. Every 401 and 403 challenge
   * then carries `resource_metadata="<url>"` (RFC 9728 §5.1), which MCP clients follow to
   * the authorization server. Default: none.
   */
  resourceMetadata?: ProtectedResourceMetadata | string;
}

/** The JSON body of a rejection. */
export interface AuthenticateErrorBody {
  /**
   * `invalid_token` or `insufficient_scope` (RFC 6750 §3.1), `insufficient_user_authentication`
   * (RFC 9470 §3), `unauthorized` when no token was sent, `temporarily_unavailable` (503),
   * `server_error` (500).
   */
  error:
    | 'invalid_token'
    | 'insufficient_scope'
    | 'insufficient_user_authentication'
    | 'unauthorized'
    | 'temporarily_unavailable'
    | 'server_error';
  /** Why, for a developer: the verifier's message for 401/403, a fixed sentence for 500/503. */
  error_description: string;
  /** The {@link JwtVerifyError} code, or `ERR_INTERNAL` for a 500. */
  code: JwtVerifyErrorCode | 'ERR_INTERNAL';
}

/** A verified request: the token's payload and header (and `dpop` for a DPoP request). */
export interface AuthenticateSuccess<Payload extends JwtPayload = JwtPayload> {
  ok: true;
  token: RequestVerifyResult<Payload>;
  /** Headers to add to the answer, when there are any: `DPoP-Nonce` when the client's nonce is about to roll. */
  headers?: Record<string, string>;
}

/**
 * A refused request, ready to send: `status`, `headers` (`WWW-Authenticate` on 401/403,
 * `Retry-After` on 503, `Content-Type`, `Cache-Control: no-store`) and a JSON `body`.
 * `error` is the reason to log: a {@link JwtVerifyError}, or whatever failed unexpectedly (500).
 */
export interface AuthenticateFailure {
  ok: false;
  status: 401 | 403 | 500 | 503;
  headers: Record<string, string>;
  body: AuthenticateErrorBody;
  error: Error;
}

/** What {@link authenticate} resolves to; switch on `ok`. */
export type AuthenticateResult<Payload extends JwtPayload = JwtPayload> =
  AuthenticateSuccess<Payload> | AuthenticateFailure;

/** {@link AuthenticateOptions} once checked. */
export interface ResolvedAuthenticateOptions {
  realm: string | undefined;
  requiredScopes: readonly string[];
  /** `requireAuthentication`, checked. */
  authentication?: AuthenticationRequirement | undefined;
  retryAfterSeconds: number;
  onFailure: ((failure: AuthenticateFailure) => void) | undefined;
  clientCertificate?: AuthenticateOptions['clientCertificate'];
  /** Checked by `resolveRequestUrlOptions`, kept as given: the adapters pass these options back in. */
  publicUrl?: RequestUrlOptions['publicUrl'];
  trustedForwardedHeaders?: RequestUrlOptions['trustedForwardedHeaders'];
  /** The `resource_metadata` URL of challenges. */
  resourceMetadata: string | undefined;
}

const DEFAULT_RETRY_AFTER_SECONDS = 10;

// Options an adapter resolved once at set-up: authenticate() takes them as they are.
const resolvedOptions = new WeakSet<ResolvedAuthenticateOptions>();

/**
 * Checks {@link AuthenticateOptions}; throws a coded `TypeError` for a mistake. The
 * framework adapters call it when they are set up, so mistakes surface at start-up.
 */
export function resolveAuthenticateOptions(
  options: AuthenticateOptions | ResolvedAuthenticateOptions = {},
): ResolvedAuthenticateOptions {
  if (resolvedOptions.has(options as ResolvedAuthenticateOptions))
    return options as ResolvedAuthenticateOptions;
  if (typeof options !== 'object' || options === null)
    throw invalidArgument('authenticate options must be an object');
  stringOption(options.realm, 'realm');
  functionOption(options.onFailure, 'onFailure');
  functionOption(options.clientCertificate, 'clientCertificate', 'a function of the request');
  const resolved: ResolvedAuthenticateOptions = {
    realm: options.realm,
    requiredScopes: parseScopesOption(options.requiredScopes),
    authentication: parseRequireAuthentication((options as AuthenticateOptions).requireAuthentication),
    // Retry-After is whole delta-seconds (RFC 9110 §10.2.3).
    retryAfterSeconds: Math.ceil(
      nonNegativeNumberOption(options.retryAfterSeconds, 'retryAfterSeconds', DEFAULT_RETRY_AFTER_SECONDS),
    ),
    onFailure: options.onFailure,
    clientCertificate: options.clientCertificate,
    ...requestUrlOptions(options),
    resourceMetadata: parseResourceMetadataOption(options.resourceMetadata),
  };
  resolvedOptions.add(resolved);
  return resolved;
}

/** The options that say which URL a DPoP proof names, checked; only those given. */
function requestUrlOptions({ publicUrl, trustedForwardedHeaders }: RequestUrlOptions): RequestUrlOptions {
  resolveRequestUrlOptions({ publicUrl, trustedForwardedHeaders });
  return {
    ...(publicUrl === undefined ? {} : { publicUrl }),
    ...(trustedForwardedHeaders === undefined ? {} : { trustedForwardedHeaders }),
  };
}

/** Throws a coded `TypeError` unless `verifier` has a `verify` method. */
export function checkVerifier(verifier: unknown): asserts verifier is TokenVerifier {
  if (typeof (verifier as TokenVerifier | null)?.verify !== 'function') {
    throw invalidArgument('a JwtVerifier or MultiIssuerVerifier (anything with verify(token)) is required');
  }
}

/**
 * Authenticates a request by its `Authorization: Bearer` header (RFC 6750 §2.1) and
 * decides the answer: the verified token, or a ready RFC 6750 rejection.
 *
 * - 401 for a missing or bad token, with `WWW-Authenticate: Bearer realm=…, error="invalid_token", error_description=…`
 *   (no `error` when no token was sent, RFC 6750 §3.1).
 * - 401 `ERR_CERTIFICATE_BINDING` for a certificate-bound token (RFC 8705 §3) without its
 *   TLS client certificate (see `clientCertificate`).
 * - 401 `insufficient_user_authentication` with `acr_values` / `max_age` when the login
 *   behind the token does not meet `requireAuthentication` or the verifier's (RFC 9470 §3).
 * - 403 `insufficient_scope` naming the required `scope`.
 * - 503 with `Retry-After` when the issuer's metadata or JWKS cannot be had: an outage is
 *   never reported as the caller's bad token.
 * - 500 `server_error` for anything unexpected (a bug, a custom verifier that throws
 *   something else, or a mistake in `options` or the arguments).
 *
 * Only the header is read: tokens in the query string or a form body (RFC 6750 §2.2, §2.3)
 * are ignored. It never rejects.
 *
 * @example
 * const result = await authenticate(verifier, request, { realm: 'api', requiredScopes: 'read:orders' });
 * if (!result.ok) return new Response(JSON.stringify(result.body), { status: result.status, headers: result.headers });
 * const { payload } = result.token;
 * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
 */
export async function authenticate<Payload extends JwtPayload = JwtPayload>(
  verifier: TokenVerifier,
  request: AuthenticateRequest,
  options?: AuthenticateOptions,
): Promise<AuthenticateResult<Payload>> {
  let resolved: ResolvedAuthenticateOptions = {
    realm: undefined,
    requiredScopes: [],
    retryAfterSeconds: DEFAULT_RETRY_AFTER_SECONDS,
    onFailure: undefined,
    resourceMetadata: undefined,
  };
  try {
    resolved = resolveAuthenticateOptions(options);
    checkVerifier(verifier);
    const token = await verifyToken<Payload>(verifier, request, resolved);
    const result = authorizeToken(token, resolved.requiredScopes, resolved.authentication, resolved);
    const nonce = token.dpop?.nonce;
    return result.ok && nonce ? { ...result, headers: { 'DPoP-Nonce': nonce } } : result;
  } catch (error) {
    return report(rejection(error, resolved), resolved);
  }
}

/**
 * The whole request through the verifier's `verifyRequest` (DPoP, certificate binding),
 * or, for a verifier with only `verify`, through the same checks with Bearer only.
 */
function verifyToken<Payload extends JwtPayload>(
  verifier: TokenVerifier,
  request: AuthenticateRequest,
  options: ResolvedAuthenticateOptions,
): Promise<RequestVerifyResult<Payload>> {
  const { publicUrl, trustedForwardedHeaders, clientCertificate } = options;
  const requestOptions = { publicUrl, trustedForwardedHeaders, clientCertificate };
  if (typeof verifier.verifyRequest === 'function')
    return verifier.verifyRequest<Payload>(request, requestOptions);
  const parts = {
    verify: (token: string, verifyOptions?: VerifyOptions) => verifier.verify(token, verifyOptions),
    dpop: undefined,
    now: Date.now,
  };
  return verifyRequestWith<Payload>(parts, request, requestOptions);
}

/**
 * The decision on a token already verified: its login meets `authentication` (else 401
 * `insufficient_user_authentication`, by this server's clock), then it grants the scopes
 * (else 403); with the realm of `options`. The adapters' per-route `requireScopes()` and
 * `requireAuthentication()` are this.
 */
export function authorizeToken<Payload extends JwtPayload>(
  token: RequestVerifyResult<Payload>,
  requiredScopes: readonly string[],
  authentication: AuthenticationRequirement | undefined,
  options: ResolvedAuthenticateOptions,
): AuthenticateResult<Payload> {
  try {
    if (authentication) checkAuthentication(token.payload, authentication, Math.floor(Date.now() / 1000), 0);
    checkScopes(token.payload, requiredScopes);
    return { ok: true, token };
  } catch (error) {
    // A DPoP request is told about its scope or login in a DPoP challenge (RFC 9449 §7.1).
    const challenged =
      token.dpop && isJwtVerifyError(error) ? withChallenge(error, { schemes: ['DPoP'] }) : error;
    return report(rejection(challenged, options), options);
  }
}

/** The scopes given to an adapter's `requireScopes(...)`: at least one; throws a coded `TypeError` else. */
export function parseRequiredScopes(scopes: readonly string[]): readonly string[] {
  const list = scopes.every((scope) => typeof scope === 'string') ? parseScopesOption(scopes.join(' ')) : [];
  if (!list.length) throw invalidArgument('requireScopes needs one or more scope strings');
  return list;
}

function report(failure: AuthenticateFailure, options: ResolvedAuthenticateOptions): AuthenticateFailure {
  try {
    options.onFailure?.(failure);
  } catch {
    // A logging hook must not change the answer.
  }
  return failure;
}

function rejection(error: unknown, options: ResolvedAuthenticateOptions): AuthenticateFailure {
  const headers: Record<string, string> = {
    'Content-Type': 'application/json; charset=utf-8',
    'Cache-Control': 'no-store',
  };
  if (!isJwtVerifyError(error)) {
    return {
      ok: false,
      status: 500,
      headers,
      body: {
        error: 'server_error',
        error_description: 'the access token could not be checked because of an internal error',
        code: 'ERR_INTERNAL',
      },
      error: error instanceof Error ? error : new Error(String(error), { cause: error }),
    };
  }
  if (error.status === 503) {
    headers['Retry-After'] = String(error.details.retryAfterSeconds ?? options.retryAfterSeconds);
    return {
      ok: false,
      status: 503,
      headers,
      // The issuer's URL and its answer stay in `error`, for logs: clients learn only that it is down.
      body: {
        error: 'temporarily_unavailable',
        error_description: 'the token issuer cannot be reached to check the access token; retry later',
        code: error.code,
      },
      error,
    };
  }
  headers['WWW-Authenticate'] = withParam(
    error.wwwAuthenticate(options.realm),
    'resource_metadata',
    options.resourceMetadata,
  );
  if (error.details.dpopNonce) headers['DPoP-Nonce'] = error.details.dpopNonce;
  const status = error.status === 403 ? 403 : 401;
  return {
    ok: false,
    status,
    headers,
    body: {
      error:
        error.code === 'ERR_TOKEN_MISSING'
          ? 'unauthorized'
          : status === 403
            ? 'insufficient_scope'
            : error.code === 'ERR_INSUFFICIENT_AUTHENTICATION'
              ? 'insufficient_user_authentication'
              : 'invalid_token',
      error_description: error.message,
      code: error.code,
    },
    error: error as JwtVerifyError,
  };
}

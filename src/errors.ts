/** The error model: `JwtVerifyError`, its codes and HTTP statuses, its challenges, and the helpers that word a refusal. */
/** Every code a {@link JwtVerifyError} can carry, with the HTTP status it maps to. */
export const ERROR_STATUS = {
  ERR_TOKEN_MISSING: 401,
  ERR_TOKEN_MALFORMED: 401,
  ERR_ALG_NOT_ALLOWED: 401,
  ERR_KEY_NOT_FOUND: 401,
  ERR_SIGNATURE_INVALID: 401,
  ERR_TOKEN_EXPIRED: 401,
  ERR_TOKEN_NOT_YET_VALID: 401,
  ERR_TOKEN_TOO_OLD: 401,
  ERR_ISSUER_MISMATCH: 401,
  ERR_AUDIENCE_MISMATCH: 401,
  ERR_TYPE_MISMATCH: 401,
  ERR_CLAIM_INVALID: 401,
  ERR_INSUFFICIENT_SCOPE: 403,
  ERR_ISSUER_UNAVAILABLE: 503,
  ERR_METADATA_INVALID: 503,
  ERR_CERTIFICATE_BINDING: 401,
  ERR_DPOP_PROOF_INVALID: 401,
  ERR_DPOP_NONCE_REQUIRED: 401,
  ERR_DPOP_BINDING: 401,
  ERR_INSUFFICIENT_AUTHENTICATION: 401,
  ERR_DECRYPTION_FAILED: 401,
} as const;

/** The stable error codes; `switch (err.code)` over this union is exhaustive. */
export type JwtVerifyErrorCode = keyof typeof ERROR_STATUS;

/** Extra facts an error carries for callers and for the RFC 6750 challenge. */
export interface JwtVerifyErrorDetails {
  /** Scopes the resource needs (set on `ERR_INSUFFICIENT_SCOPE`). */
  requiredScopes?: readonly string[];
  /** Seconds after which a retry makes sense (set on `ERR_ISSUER_UNAVAILABLE`). */
  retryAfterSeconds?: number;
  /** HTTP status the issuer answered with, when that is why the error happened. */
  issuerStatus?: number;
  /** The URL that was being fetched, when the error is about a fetch. */
  url?: string;
  /**
   * The challenges of a `verifyRequest()` rejection: the schemes the API accepts
   * (`Bearer`, `DPoP` or both), DPoP's `algs`, and the scheme the request used, which
   * carries the `error` attributes. Its `wwwAuthenticate()` writes them.
   */
  challenge?: AuthChallenge;
  /** A fresh DPoP nonce for the `DPoP-Nonce` response header (RFC 9449 §9), when nonces are on. */
  dpopNonce?: string;
  /**
   * What the resource requires of the user's login (set on `ERR_INSUFFICIENT_AUTHENTICATION`):
   * the challenge's `acr_values` and `max_age` (RFC 9470 §3).
   */
  requiredAuthentication?: AuthenticationRequirement;
}

/**
 * What a resource requires of the user's authentication (RFC 9470): an `acr` among
 * `acrValues`, and an `auth_time` at most `maxAgeSeconds` ago. Either may be left out.
 */
export interface AuthenticationRequirement {
  /** The accepted authentication context classes (`acr`), in order of preference. */
  acrValues?: readonly string[];
  /** The longest time since the user last authenticated (`auth_time`), in seconds. */
  maxAgeSeconds?: number;
}

/** An HTTP authentication scheme an API accepts access tokens with. */
export type AuthScheme = 'Bearer' | 'DPoP';

/** Which `WWW-Authenticate` challenges to write (RFC 9110 §11.6.1: one per accepted scheme). */
export interface AuthChallenge {
  /** The accepted schemes, in the order their challenges are written. */
  schemes: readonly AuthScheme[];
  /** The DPoP proof algorithms, written as `algs` (RFC 9449 §7.1). */
  algorithms?: readonly string[];
  /** The scheme the request used: its challenge carries the error. Default: the first. */
  scheme?: AuthScheme;
}

const BRAND = Symbol.for('oauth-jwt-verify.JwtVerifyError');

/**
 * The one error type every verification rejects with.
 *
 * `code` is stable (see {@link JwtVerifyErrorCode}); `status` is the HTTP status a resource
 * server should answer with; the message says what was expected and what was found, and
 * never contains the token.
 *
 * @example
 * try {
 *   await verifier.verify(token);
 * } catch (err) {
 *   if (isJwtVerifyError(err)) res.status(err.status).set('WWW-Authenticate', err.wwwAuthenticate('api'));
 * }
 */
export class JwtVerifyError extends Error {
  override readonly name = 'JwtVerifyError';
  declare readonly code: JwtVerifyErrorCode;
  declare readonly status: number;
  declare readonly details: JwtVerifyErrorDetails;

  constructor(
    code: JwtVerifyErrorCode,
    message: string,
    options: { cause?: unknown; details?: JwtVerifyErrorDetails } = {},
  ) {
    super(message, options.cause === undefined ? undefined : options);
    // The status is derived rather than looked up in ERROR_STATUS so that the browser
    // bundle of ./pkce does not carry the whole table (a test checks both agree).
    const status = code === 'ERR_INSUFFICIENT_SCOPE' ? 403 : /UNAVAILABLE|METADATA/.test(code) ? 503 : 401;
    Object.assign(this, { code, status, details: options.details ?? {} });
    Object.defineProperty(this, BRAND, { value: true });
  }

  /**
   * The RFC 6750 §3 `WWW-Authenticate` value for this error.
   * `ERR_TOKEN_MISSING` carries no `error` attribute (§3.1); scope errors name the scope.
   * Rejections of `verifyRequest()` write one challenge per scheme the API accepts
   * (`Bearer, DPoP algs="ES256 …"`, RFC 9449 §7.1), from `details.challenge`.
   * @see https://www.rfc-editor.org/rfc/rfc6750#section-3
   */
  wwwAuthenticate(realm?: string): string {
    const { code, status } = this;
    const error =
      code !== 'ERR_TOKEN_MISSING' && status < 503 && (status > 401 ? 'insufficient_scope' : 'invalid_token');
    return this.challengeFor('Bearer', realm, error);
  }

  /**
   * One challenge of `scheme`: `realm`, then unless `error` is false the error, its
   * description and (403) the scope.
   * @internal
   */
  protected challengeFor(scheme: string, realm: string | undefined, error: string | false): string {
    const { status, message, details } = this;
    const scopes = details.requiredScopes?.join(' ');
    const param = (name: string, value: string) => `${name}="${quotableText(value)}"`;
    return `${scheme} ${[
      realm !== undefined && param('realm', realm),
      error && `${param('error', error)}, ${param('error_description', message)}`,
      error && status === 403 && scopes && param('scope', scopes),
    ]
      .filter(Boolean)
      .join(', ')}`.trim();
  }

  /** A JSON-friendly view, for logs and response bodies. */
  toJSON(): { name: string; code: JwtVerifyErrorCode; status: number; message: string } {
    const { name, code, status, message } = this;
    return { name, code, status, message };
  }
}

/**
 * True for a {@link JwtVerifyError}, also one from another copy of this package
 * (duplicate installs), optionally with the given code (then `err.code` narrows to it).
 *
 * @example
 * if (isJwtVerifyError(err, 'ERR_TOKEN_EXPIRED')) err.code; // 'ERR_TOKEN_EXPIRED'
 */
export function isJwtVerifyError(value: unknown): value is JwtVerifyError;
export function isJwtVerifyError<Code extends JwtVerifyErrorCode>(
  value: unknown,
  code: Code | undefined,
): value is JwtVerifyError & { readonly code: Code };
export function isJwtVerifyError(value: unknown, code?: JwtVerifyErrorCode): value is JwtVerifyError {
  return (
    !!value &&
    typeof value === 'object' &&
    (value instanceof JwtVerifyError || (value as Record<symbol, unknown>)[BRAND] === true) &&
    (code === undefined || (value as JwtVerifyError).code === code)
  );
}

/**
 * Text made fit for a quoted `WWW-Authenticate` value, whoever writes the header: RFC 6750
 * §3 allows only %x20-21 / %x23-5B / %x5D-7E there. Double quotes become single ones (still
 * readable), anything else outside the set `?`; so messages are written in plain ASCII
 * (RFC sections as "section 7.2"), which a test of every message in src/ holds.
 */
export function quotableText(value: string): string {
  return value.replace(/[^ !#-[\]-~]/g, (c) => (c === '"' ? "'" : '?'));
}

/** A caller mistake (bad options or arguments): thrown at once, never on a later request. */
export function invalidArgument(message: string): TypeError {
  return Object.assign(new TypeError(message), { code: 'ERR_INVALID_ARGUMENT' });
}

/** Describes a value for an error message without echoing more than a few characters. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') {
    const shown = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  return `a ${typeof value}`;
}

/** The message of a thrown value, whatever was thrown. */
export function errorReason(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

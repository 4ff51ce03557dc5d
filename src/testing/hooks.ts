/** Hooks for one test and `requestMappings`: claims merged into tokens and userinfo answers, or an OAuth error to answer with. */
import { oauthError } from './responses.js';
import type { Hook, HookEvent, HookOptions, TestRequestMapping } from './types.js';

// RFC 6749 §5.2: `error` and `error_description` are %x20-21 / %x23-5B / %x5D-7E, so they
// fit a quoted-string of a WWW-Authenticate header as they are.
const ERROR_CHARACTERS = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;

/**
 * The error a hook throws to make the issuer answer with it: an RFC 6749 §5.2 error object
 * (`{ error, error_description }`) with `status`, from the token or userinfo endpoint.
 *
 * @example
 * import { OAuthError } from 'oauth-jwt-verify/testing';
 * issuer.onToken(({ user }) => {
 *   if (user?.sub === 'mallory') throw new OAuthError('access_denied', 'mallory is locked out', 403);
 * }, { once: true });
 * @see https://www.rfc-editor.org/rfc/rfc6749#section-5.2
 */
export class OAuthError extends Error {
  /** The error code, e.g. `'invalid_grant'`, `'access_denied'`. */
  readonly error: string;
  /** The human-readable `error_description`, when given. */
  readonly errorDescription: string | undefined;
  /** The HTTP status of the answer, 400–599. Default 400. */
  readonly status: number;

  /** Throws a `TypeError` for a status outside 400–599 or characters RFC 6749 §5.2 does not allow. */
  constructor(error: string, description?: string, status = 400) {
    super(description === undefined ? error : `${error}: ${description}`);
    this.name = 'OAuthError';
    if (typeof error !== 'string' || !error || !ERROR_CHARACTERS.test(error)) {
      throw new TypeError(
        'OAuthError: error must be a non-empty RFC 6749 error code (printable ASCII, no " or \\)',
      );
    }
    if (
      description !== undefined &&
      (typeof description !== 'string' || !ERROR_CHARACTERS.test(description))
    ) {
      throw new TypeError('OAuthError: description must be printable ASCII without " or \\ (RFC 6749 §5.2)');
    }
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new TypeError(`OAuthError: status must be an HTTP error status 400–599, got ${String(status)}`);
    }
    this.error = error;
    this.errorDescription = description;
    this.status = status;
  }
}

/** The answer to an {@link OAuthError}; a 401 carries an RFC 6750 challenge with the error. */
export function oauthErrorResponse(error: OAuthError, scheme = 'Bearer'): Response {
  const description = error.errorDescription ?? '';
  const challenge: Record<string, string> = {};
  if (error.status === 401) {
    challenge['www-authenticate'] = `${scheme} error="${error.error}", error_description="${description}"`;
  }
  return oauthError(error.status, error.error, description, challenge);
}

type HookKind = 'token' | 'userinfo';

/** The hooks registered on one issuer, run in the order they were added. */
export class HookRegistry {
  readonly #hooks: Record<HookKind, Set<{ hook: Hook; once: boolean }>> = {
    token: new Set(),
    userinfo: new Set(),
  };

  /** Adds a hook; the function returned removes it. */
  add(kind: HookKind, hook: Hook, options: HookOptions = {}): () => void {
    if (typeof hook !== 'function')
      throw new TypeError(`on${kind === 'token' ? 'Token' : 'Userinfo'}: the hook must be a function`);
    const entry = { hook, once: options?.once === true };
    this.#hooks[kind].add(entry);
    return () => void this.#hooks[kind].delete(entry);
  }

  /**
   * Runs the hooks of `kind` on `event`: the claims they return merged, later hooks seeing
   * the earlier ones' claims; the first `OAuthError` thrown becomes the answer. Anything else
   * thrown is a bug in the test, answered 500 `server_error` with its message.
   */
  async run(kind: HookKind, event: HookEvent): Promise<Record<string, unknown> | Response> {
    let added: Record<string, unknown> = {};
    for (const entry of [...this.#hooks[kind]]) {
      if (entry.once) this.#hooks[kind].delete(entry);
      try {
        const claims = await entry.hook({ ...event, claims: structuredClone({ ...event.claims, ...added }) });
        if (claims !== undefined && claims !== null) {
          if (typeof claims !== 'object' || Array.isArray(claims)) {
            return oauthError(
              500,
              'server_error',
              `the ${kind} hook returned ${typeof claims}, not an object of claims`,
            );
          }
          added = { ...added, ...claims };
        }
      } catch (error) {
        if (error instanceof OAuthError) return oauthErrorResponse(error);
        const message = String((error as Error)?.message ?? error).replace(
          /[^\x20\x21\x23-\x5B\x5D-\x7E]/g,
          '?',
        );
        return oauthError(500, 'server_error', `the ${kind} hook threw: ${message}`);
      }
    }
    return added;
  }
}

/** The claims of every mapping whose parameter has its value in `params` (`'*'`: any value), merged in order. */
export function mappedClaims(
  mappings: readonly TestRequestMapping[],
  params: URLSearchParams,
): Record<string, unknown> {
  let claims: Record<string, unknown> = {};
  for (const { param, match, claims: mapped } of mappings) {
    const values = params.getAll(param);
    if (values.length && (match === '*' || values.includes(match))) claims = { ...claims, ...mapped };
  }
  return claims;
}

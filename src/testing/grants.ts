// Authorization codes and refresh tokens of the stub issuer: one-time, bound, rotating.
import { randomToken } from './random.js';

/** What a token is issued for. */
export interface Grant {
  clientId: string;
  subject: string;
  /** Space-delimited; empty when none was asked for. */
  scope: string;
  audience: string | readonly string[];
  /** When the user authenticated at `/authorize` (NumericDate): the tokens' `auth_time`. */
  authTime?: number;
  /** The DPoP key the tokens are bound to (RFC 9449): the code's `dpop_jkt`, the refresh token's key. */
  dpopJkt?: string;
  /** Claims of the user who logged in, for the ID token only (e.g. `name`, `email`). */
  userClaims?: Record<string, unknown>;
  /** Claims of the login for both tokens (typed on the login page, `acr`). */
  claims?: Record<string, unknown>;
}

/** What `/authorize` bound a code to. */
export interface CodeGrant extends Grant {
  redirectUri: string;
  codeChallenge: string;
  nonce: string | undefined;
}

/** RFC 6749 §4.1.2 recommends at most ten minutes. */
const CODE_LIFETIME_MS = 10 * 60 * 1000;

interface Entry<T> {
  grant: T;
  /** The tokens issued from one authorization share a family, revoked together. */
  family: string;
  used: boolean;
}

/**
 * Authorization codes and refresh tokens, in memory. Both are single use: a code is spent
 * when presented (RFC 6749 §10.5), a refresh token when rotated; presenting either again
 * revokes every refresh token of its family (RFC 6749 §4.1.2, OAuth 2.0 Security BCP §4.14).
 */
export class GrantStore {
  readonly #codes = new Map<string, Entry<CodeGrant> & { expiresAt: number }>();
  readonly #refreshTokens = new Map<string, Entry<Grant>>();

  issueCode(grant: CodeGrant, nowMs: number): string {
    const code = randomToken();
    this.#codes.set(code, {
      grant,
      family: randomToken(16),
      used: false,
      expiresAt: nowMs + CODE_LIFETIME_MS,
    });
    return code;
  }

  /** Spends a code: its grant and family, or `undefined` when unknown, expired or used before. */
  redeemCode(code: string, nowMs: number): { grant: CodeGrant; family: string } | undefined {
    const entry = this.#codes.get(code);
    if (!entry) return undefined;
    if (entry.used) {
      this.#revokeFamily(entry.family);
      return undefined;
    }
    entry.used = true;
    return nowMs < entry.expiresAt ? { grant: entry.grant, family: entry.family } : undefined;
  }

  issueRefreshToken(grant: Grant, family: string): string {
    const token = randomToken();
    this.#refreshTokens.set(token, { grant, family, used: false });
    return token;
  }

  /**
   * The grant of an unused refresh token, without spending it (a refused request leaves it
   * usable); presenting a spent one revokes its family.
   */
  findRefreshToken(token: string): { grant: Grant; family: string } | undefined {
    const entry = this.#refreshTokens.get(token);
    if (entry?.used) this.#revokeFamily(entry.family);
    return entry && !entry.used ? { grant: entry.grant, family: entry.family } : undefined;
  }

  /** Spends a refresh token (rotation: the caller issues its successor in the same family). */
  spendRefreshToken(token: string): void {
    const entry = this.#refreshTokens.get(token);
    if (entry) entry.used = true;
  }

  /** RFC 7009: revokes a refresh token of `clientId` with its family; other tokens are ignored. */
  revoke(token: string, clientId: string): void {
    const entry = this.#refreshTokens.get(token);
    if (entry?.grant.clientId === clientId) this.#revokeFamily(entry.family);
  }

  #revokeFamily(family: string): void {
    for (const [token, entry] of this.#refreshTokens) {
      if (entry.family === family) this.#refreshTokens.delete(token);
    }
  }
}

/** The space-delimited scope parameter, normalised (RFC 6749 §3.3). */
export function normalizeScope(value: string | null): string {
  return (value ?? '').split(/\s+/).filter(Boolean).join(' ');
}

/**
 * The audience a request asks for: RFC 8707 `resource` (repeatable), else Auth0's
 * `audience`, else the issuer's default.
 */
export function requestedAudience(
  params: URLSearchParams,
  fallback: string | readonly string[],
): string | readonly string[] {
  const resources = params.getAll('resource');
  if (resources.length > 1) return resources;
  return resources[0] ?? params.get('audience') ?? fallback;
}

// Who logs in at /authorize: a configured user (by the page or a login_hint) or a subject
// and claims typed on the login page, checked.
import { loginAcr } from '../acr.js';
import type { TestUser } from '../types.js';

/** Who logged in, and what the tokens of that login say about them. */
export interface Login {
  readonly sub: string;
  /** The authentication context class (`acr`, in both tokens). */
  readonly acr?: string;
  /** The configured user's claims: in the ID token (OpenID Connect Core §5.1). */
  readonly userClaims: Readonly<Record<string, unknown>>;
  /** Claims typed on the login page: in the access token and the ID token. */
  readonly claims: Readonly<Record<string, unknown>>;
}

/**
 * Claims the issuer sets itself. The login page's claims box refuses them (with their names);
 * a configured user's claims leave them out.
 */
export const RESERVED_CLAIMS: readonly string[] = [
  'iss',
  'sub',
  'aud',
  'exp',
  'iat',
  'nbf',
  'jti',
  'cnf',
  'acr',
  'auth_time',
  'nonce',
  'azp',
  'at_hash',
  'c_hash',
  'client_id',
  'scope',
];

/** Longest subject, `acr` and claims box the page takes (characters). */
export const MAX_SUBJECT_LENGTH = 255;
export const MAX_CLAIMS_LENGTH = 16 * 1024;

function withoutReserved(claims: Readonly<Record<string, unknown>> | undefined): Record<string, unknown> {
  return Object.fromEntries(Object.entries(claims ?? {}).filter(([name]) => !RESERVED_CLAIMS.includes(name)));
}

/**
 * The login of `sub`: the configured user's claims and `acr` when one has that `sub`; the
 * `acr` follows the request's `acr_values` as {@link loginAcr} says.
 */
export function loginAs(users: readonly TestUser[], sub: string, params: URLSearchParams): Login {
  const user = users.find((candidate) => candidate.sub === sub);
  const acr = loginAcr(params, user);
  return {
    sub,
    ...(acr ? { acr } : {}),
    userClaims: withoutReserved(user?.claims),
    claims: {},
  };
}

/** A value the page takes as a subject or an `acr`: printable, one line, not too long. */
function checkLine(value: string, what: string): string | undefined {
  if (value.length > MAX_SUBJECT_LENGTH) return `${what} is longer than ${MAX_SUBJECT_LENGTH} characters`;
  if (/[\u0000-\u001f\u007f]/.test(value)) return `${what} must not contain control characters`;
  return undefined;
}

/**
 * The login typed on the page (subject, claims as a JSON object, optional `acr`), or what is
 * wrong with it.
 */
export function typedLogin(fields: {
  sub: string | null;
  claims: string | null;
  acr: string | null;
}): Login | { problem: string } {
  const sub = (fields.sub ?? '').trim();
  if (!sub) return { problem: 'Type a subject (sub), or pick a user.' };
  const acr = (fields.acr ?? '').trim();
  const lineProblem = checkLine(sub, 'The subject') ?? checkLine(acr, 'The acr');
  if (lineProblem) return { problem: `${lineProblem}.` };
  const text = (fields.claims ?? '').trim();
  let claims: unknown = {};
  if (text) {
    if (text.length > MAX_CLAIMS_LENGTH) {
      return { problem: `The claims are longer than ${MAX_CLAIMS_LENGTH} characters.` };
    }
    try {
      claims = JSON.parse(text);
    } catch {
      return { problem: 'The claims are not valid JSON: write a JSON object, e.g. {"name": "Alice"}.' };
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
      return { problem: 'The claims must be a JSON object, e.g. {"name": "Alice"}.' };
    }
  }
  const reserved = Object.keys(claims as object).filter((name) => RESERVED_CLAIMS.includes(name));
  if (reserved.length) {
    return {
      problem: `The issuer sets these claims itself, remove them: ${reserved.join(', ')}.`,
    };
  }
  return { sub, ...(acr ? { acr } : {}), userClaims: {}, claims: claims as Record<string, unknown> };
}

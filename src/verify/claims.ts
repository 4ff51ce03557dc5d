/** The claim checks (RFC 9068, RFC 8725): iss, aud, exp, nbf, iat, typ, scopes, required claims, `validate`. */
import { JwtVerifyError, describeValue, errorReason, invalidArgument, isJwtVerifyError } from '../errors.js';
import type { JwtHeader, JwtPayload } from '../token/parse.js';
import { type AuthenticationRequirement, checkAuthentication } from './authentication.js';

/** The claim checks a verifier applies after the signature verified. */
export interface ClaimRules {
  issuer: string;
  /** `null`: the audience is deliberately not checked. */
  audiences: readonly string[] | null;
  clockToleranceSeconds: number;
  maxTokenAgeSeconds: number | undefined;
  /** Normalised (see {@link normalizeTyp}). */
  typ: string | undefined;
  requiredClaims: readonly string[];
  requiredScopes: readonly string[];
  /** The `acr` and `auth_time` the verifier requires (RFC 9470); undefined: none. */
  authentication?: AuthenticationRequirement;
  /**
   * The claims are an issuer's answer about a token (RFC 7662 §2.2, RFC 9701 §5) rather
   * than a JWT: `iss` and `exp` are checked when present instead of required.
   */
  answerFromIssuer?: boolean;
}

/** The farthest NumericDate a JavaScript Date can hold (±100 000 000 days), in seconds. */
const MAX_NUMERIC_DATE = 8.64e12;

function claimInvalid(message: string): JwtVerifyError {
  return new JwtVerifyError('ERR_CLAIM_INVALID', message);
}

/**
 * RFC 9068 §4 and RFC 8725 §3.11: `typ` compares case-insensitively, and a media type
 * may drop its `application/` prefix, so `at+jwt` equals `application/at+JWT`.
 */
export function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/** The scopes a token grants: the space-delimited `scope` (RFC 9068 §2.2.3), else `scp`. */
export function grantedScopes(payload: JwtPayload): string[] {
  if (typeof payload.scope === 'string') return payload.scope.split(' ').filter(Boolean);
  if (Array.isArray(payload.scp)) return payload.scp.filter((s): s is string => typeof s === 'string');
  if (typeof payload.scp === 'string') return payload.scp.split(' ').filter(Boolean);
  return [];
}

/** Reads `requiredScopes`: an array, or one space-delimited string. */
export function parseScopesOption(value: unknown): string[] {
  if (value === undefined) return [];
  const list = typeof value === 'string' ? value.split(' ').filter(Boolean) : value;
  if (!Array.isArray(list) || list.some((scope) => typeof scope !== 'string' || scope === '')) {
    throw invalidArgument('requiredScopes must be a space-delimited string or an array of scope strings');
  }
  return list as string[];
}

/** Registered claims present with the wrong type make the token invalid, whatever else holds. */
function checkClaimTypes(payload: JwtPayload): void {
  // Named reads rather than payload[name] over a list: that keyed read is megamorphic on
  // the hot path and cost more than the checks themselves.
  checkStringClaim('iss', payload.iss);
  checkStringClaim('sub', payload.sub);
  checkStringClaim('jti', payload.jti);
  checkStringClaim('client_id', payload.client_id);
  checkStringClaim('scope', payload.scope);
  checkNumericDate('exp', payload.exp);
  checkNumericDate('nbf', payload.nbf);
  checkNumericDate('iat', payload.iat);
  checkStringOrStrings('aud', payload.aud);
  checkStringOrStrings('scp', payload.scp);
}

function checkStringClaim(name: string, value: unknown): void {
  if (value !== undefined && typeof value !== 'string') {
    throw claimInvalid(`the "${name}" claim must be a string, found ${describeValue(value)}`);
  }
}

function checkStringOrStrings(name: 'aud' | 'scp', value: unknown): void {
  if (
    value !== undefined &&
    typeof value !== 'string' &&
    !(Array.isArray(value) && value.every((item) => typeof item === 'string'))
  ) {
    throw claimInvalid(
      `the "${name}" claim must be a string or an array of strings, found ${describeValue(value)}`,
    );
  }
}

function checkNumericDate(name: string, value: unknown): void {
  // 1e400 parses to Infinity, and 1e308 would make a token that never expires.
  if (value !== undefined && (typeof value !== 'number' || !(Math.abs(value) <= MAX_NUMERIC_DATE))) {
    throw claimInvalid(`the "${name}" claim must be a NumericDate (seconds), found ${describeValue(value)}`);
  }
}

function formatTime(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}

/**
 * Applies the claim rules to a payload whose signature verified. `nowSeconds` comes from
 * the verifier's clock.
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-4
 */
export function checkClaims(
  payload: JwtPayload,
  header: JwtHeader,
  rules: ClaimRules,
  nowSeconds: number,
): void {
  checkClaimTypes(payload);
  if (rules.answerFromIssuer !== true) {
    requirePresent(payload, 'iss', payload.iss);
    requirePresent(payload, 'exp', payload.exp);
  }
  if (rules.audiences !== null) requirePresent(payload, 'aud', payload.aud);
  if (payload.iss !== rules.issuer && !(payload.iss === undefined && rules.answerFromIssuer === true)) {
    throw new JwtVerifyError(
      'ERR_ISSUER_MISMATCH',
      `expected issuer ${JSON.stringify(rules.issuer)}, found ${describeValue(payload.iss)}`,
    );
  }
  if (rules.audiences !== null && !hasExpectedAudience(payload.aud!, rules.audiences)) {
    const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
    throw new JwtVerifyError(
      'ERR_AUDIENCE_MISMATCH',
      `expected audience ${rules.audiences.map((a) => JSON.stringify(a)).join(' or ')}, found ${audiences.map((a) => JSON.stringify(a)).join(', ') || 'none'}`,
    );
  }
  if (rules.typ !== undefined) {
    const typ = typeof header.typ === 'string' ? normalizeTyp(header.typ) : undefined;
    if (typ !== rules.typ) {
      throw new JwtVerifyError(
        'ERR_TYPE_MISMATCH',
        `expected typ ${JSON.stringify(rules.typ)}, found ${describeValue(header.typ)}`,
      );
    }
  }
  checkTimes(payload, rules, nowSeconds);
  for (const name of rules.requiredClaims) requirePresent(payload, name, payload[name]);
  // Who the user is and how they logged in (401) before what the token may do (403).
  if (rules.authentication) {
    checkAuthentication(payload, rules.authentication, nowSeconds, rules.clockToleranceSeconds);
  }
  checkScopes(payload, rules.requiredScopes);
}

/**
 * Own members only: `requiredClaims: ['constructor']` must not be met by Object.prototype.
 * `value` is `payload[name]`, read by name where the name is fixed: a keyed read is megamorphic.
 */
function requirePresent(payload: JwtPayload, name: string, value: unknown): void {
  if (value === undefined || !Object.prototype.hasOwnProperty.call(payload, name)) {
    throw claimInvalid(`the required "${name}" claim is missing`);
  }
}

function hasExpectedAudience(aud: string | string[], expected: readonly string[]): boolean {
  if (typeof aud === 'string') return expected.includes(aud);
  for (const value of aud) if (expected.includes(value)) return true;
  return false;
}

/** Throws `ERR_INSUFFICIENT_SCOPE` (naming the required scopes) unless all of `required` are granted. */
export function checkScopes(payload: JwtPayload, required: readonly string[]): void {
  if (!required.length) return;
  const granted = new Set(grantedScopes(payload));
  const missing = required.filter((scope) => !granted.has(scope));
  if (missing.length) {
    throw new JwtVerifyError(
      'ERR_INSUFFICIENT_SCOPE',
      `the token lacks the scope ${missing.join(' ')} (granted: ${[...granted].join(' ') || 'none'})`,
      { details: { requiredScopes: required } },
    );
  }
}

function checkTimes(payload: JwtPayload, rules: ClaimRules, now: number): void {
  const tolerance = rules.clockToleranceSeconds;
  const exp = payload.exp as number;
  if (exp <= now - tolerance) {
    throw new JwtVerifyError(
      'ERR_TOKEN_EXPIRED',
      `the token expired at ${formatTime(exp)} (exp ${exp}); it is now ${formatTime(now)}, clock tolerance ${tolerance} s`,
    );
  }
  if (payload.nbf !== undefined && payload.nbf > now + tolerance) {
    throw new JwtVerifyError(
      'ERR_TOKEN_NOT_YET_VALID',
      `the token is not valid before ${formatTime(payload.nbf)} (nbf ${payload.nbf}); it is now ${formatTime(now)}, clock tolerance ${tolerance} s`,
    );
  }
  if (payload.iat !== undefined && payload.iat > now + tolerance) {
    throw new JwtVerifyError(
      'ERR_TOKEN_NOT_YET_VALID',
      `the token was issued in the future, at ${formatTime(payload.iat)} (iat ${payload.iat}); it is now ${formatTime(now)}, clock tolerance ${tolerance} s`,
    );
  }
  if (rules.maxTokenAgeSeconds !== undefined) {
    if (payload.iat === undefined) {
      throw claimInvalid('the "iat" claim is required when maxTokenAge is set, and it is missing');
    }
    const age = now - payload.iat;
    if (age - tolerance > rules.maxTokenAgeSeconds) {
      throw new JwtVerifyError(
        'ERR_TOKEN_TOO_OLD',
        `the token was issued ${age} s ago, more than the maxTokenAge of ${rules.maxTokenAgeSeconds} s`,
      );
    }
  }
}

/**
 * Runs a `validate` option: what it throws (or rejects with) refuses the token, a
 * JwtVerifyError as it is, anything else as `ERR_CLAIM_INVALID` with its message.
 */
export async function runValidate(
  validate: (payload: JwtPayload, header: JwtHeader) => void | Promise<void>,
  payload: JwtPayload,
  header: JwtHeader,
): Promise<void> {
  try {
    await validate(payload, header);
  } catch (error) {
    if (isJwtVerifyError(error)) throw error;
    const reason = errorReason(error);
    throw new JwtVerifyError('ERR_CLAIM_INVALID', `the validate callback refused the token: ${reason}`, {
      cause: error,
    });
  }
}

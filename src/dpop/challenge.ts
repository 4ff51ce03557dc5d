/**
 * dpop/: the `WWW-Authenticate` challenges of an API that accepts DPoP (RFC 9449 §7.1, RFC
 * 9110 §11.6.1), and of a step-up refusal (RFC 9470 §3), which may be on either scheme.
 */
import { type AuthChallenge, type AuthenticationRequirement, JwtVerifyError } from '../errors.js';

/** RFC 9449 §7.1 and §12.2: the `error` of each DPoP code. */
const DPOP_ERRORS: Partial<Record<string, string>> = {
  ERR_DPOP_PROOF_INVALID: 'invalid_dpop_proof',
  ERR_DPOP_NONCE_REQUIRED: 'use_dpop_nonce',
  ERR_DPOP_BINDING: 'invalid_token',
};

/**
 * A {@link JwtVerifyError} whose `wwwAuthenticate()` writes one challenge per scheme of
 * `details.challenge`, the error on the scheme the request used (the DPoP codes on
 * `DPoP`), and `algs` on the `DPoP` challenge; for `ERR_INSUFFICIENT_AUTHENTICATION`,
 * `insufficient_user_authentication` with the `acr_values` and `max_age` of
 * `details.requiredAuthentication`. Kept apart from the base class so that the browser
 * bundle of `./pkce` does not carry it.
 */
export class ChallengedError extends JwtVerifyError {
  override wwwAuthenticate(realm?: string): string {
    const { code, status, details } = this;
    const { schemes, algorithms, scheme } = details.challenge ?? { schemes: ['Bearer'] };
    const dpopError = DPOP_ERRORS[code];
    const target =
      dpopError && schemes.includes('DPoP')
        ? 'DPoP'
        : scheme && schemes.includes(scheme)
          ? scheme
          : schemes[0];
    const error =
      code !== 'ERR_TOKEN_MISSING' &&
      status < 503 &&
      (dpopError ??
        (code === 'ERR_INSUFFICIENT_AUTHENTICATION'
          ? 'insufficient_user_authentication'
          : status > 401
            ? 'insufficient_scope'
            : 'invalid_token'));
    // Algorithm names need no escaping inside the quoted value.
    const algs = algorithms?.length ? `algs="${algorithms.join(' ')}"` : '';
    const stepUp = stepUpParams(details.requiredAuthentication);
    return schemes
      .map((name) => {
        let challenge = this.challengeFor(name, realm, name === target && error);
        if (name === target && error && stepUp) challenge += `, ${stepUp}`;
        if (name !== 'DPoP' || !algs) return challenge;
        return challenge === name ? `${name} ${algs}` : `${challenge}, ${algs}`;
      })
      .join(', ');
  }
}

/**
 * RFC 9470 §3: `acr_values` (space-separated, quoted) and `max_age` (a number), of those the
 * requirement has. Outside the RFC 6750 quoted-string set (never in a checked requirement), `?`.
 */
function stepUpParams(requirement: AuthenticationRequirement | undefined): string {
  const { acrValues, maxAgeSeconds } = requirement ?? {};
  return [
    acrValues?.length && `acr_values="${acrValues.join(' ').replace(/[^ !#-[\]-~]/g, '?')}"`,
    Number.isSafeInteger(maxAgeSeconds) && `max_age=${maxAgeSeconds}`,
  ]
    .filter(Boolean)
    .join(', ');
}

/** `error` again, with the challenges to write and the nonce to hand out. */
export function withChallenge(
  error: JwtVerifyError,
  challenge: AuthChallenge,
  dpopNonce?: string,
): ChallengedError {
  return new ChallengedError(error.code, error.message, {
    cause: error.cause,
    details: { ...error.details, challenge, ...(dpopNonce ? { dpopNonce } : {}) },
  });
}

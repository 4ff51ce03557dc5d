/** Where a sender-constrained token may pass: only where its DPoP proof or TLS certificate is checked. */
import { JwtVerifyError } from '../errors.js';
import { refuseBoundBearerToken } from '../dpop/binding.js';
import type { JwtPayload } from '../token/parse.js';
import { certificateBinding } from './certificate-binding.js';
import type { VerifyOptions } from './options.js';

/**
 * Refuses a sender-constrained token where its binding is not checked: `cnf.jkt` with
 * `ERR_DPOP_BINDING` (RFC 9449 §7.2), `cnf["x5t#S256"]` with `ERR_CERTIFICATE_BINDING`
 * (RFC 8705 §3). Unbound tokens pass. Call it only when `payload.cnf` is set: that
 * property check is all an unbound token costs.
 */
export function refuseBoundToken(payload: JwtPayload): void {
  refuseBoundBearerToken(payload);
  if (certificateBinding(payload) !== undefined) {
    throw new JwtVerifyError(
      'ERR_CERTIFICATE_BINDING',
      'the token is bound to a TLS client certificate (cnf x5t#S256, RFC 8705 section 3) that is not checked here, so it cannot be accepted as a bearer token',
    );
  }
}

/** What the request paths pass to `verify()`: they check the proof or certificate themselves. */
export const BINDING_CHECKED: VerifyOptions = Object.freeze({ allowBoundTokens: true });

/** Whether `verify`'s options accept bound tokens. A number is the index `tokens.map(verifier.verify)` passes: no options. */
export function allowsBoundTokens(options: VerifyOptions | number | undefined): boolean {
  return typeof options === 'object' && options?.allowBoundTokens === true;
}

/** `result` unless its token is sender-constrained and `options` do not allow that. */
export function unlessBound<Result extends { payload: JwtPayload }>(
  result: Result,
  options: VerifyOptions | number | undefined,
): Result {
  if (result.payload.cnf !== undefined && !allowsBoundTokens(options)) refuseBoundToken(result.payload);
  return result;
}

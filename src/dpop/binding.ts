/** dpop/: a token's DPoP binding, `cnf.jkt` (RFC 9449 §6.1), and the refusals when a request does not prove it. */
import { type AuthChallenge, JwtVerifyError, describeValue } from '../errors.js';
import { withChallenge } from './challenge.js';
import type { JwtPayload } from '../token/parse.js';

function bindingError(message: string, challenge?: AuthChallenge): JwtVerifyError {
  const error = new JwtVerifyError('ERR_DPOP_BINDING', message);
  return challenge ? withChallenge(error, challenge) : error;
}

/**
 * The thumbprint a token is bound to (`cnf.jkt`), or `undefined` for a token without one.
 * Other `cnf` members (`x5t#S256`, …) are no concern here.
 */
export function boundJkt(payload: JwtPayload): string | undefined {
  const cnf = payload.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const jkt = (cnf as Record<string, unknown>).jkt;
  if (jkt === undefined) return undefined;
  if (typeof jkt !== 'string' || jkt === '') {
    throw bindingError(`the token's cnf.jkt must be a key thumbprint string, found ${describeValue(jkt)}`);
  }
  return jkt;
}

/**
 * RFC 9449 §7.2: a DPoP-bound token sent without a proof (the Bearer scheme) is refused,
 * with the verifier's `challenge`.
 */
export function refuseBoundBearerToken(payload: JwtPayload, challenge?: AuthChallenge): void {
  if (boundJkt(payload) !== undefined) {
    throw bindingError(
      'the token is DPoP-bound (cnf.jkt): send it with the DPoP scheme and a proof of its key, since Bearer cannot prove possession (RFC 9449 section 7.2)',
      challenge,
    );
  }
}

/** RFC 9449 §7.1: the token sent with the DPoP scheme is bound to the key that signed the proof. */
export function checkBinding(payload: JwtPayload, proofJkt: string): void {
  const jkt = boundJkt(payload);
  if (jkt === undefined) {
    throw bindingError('the token sent with the DPoP scheme is not DPoP-bound: it has no cnf.jkt');
  }
  if (jkt !== proofJkt) {
    throw bindingError(
      `the token is bound to key ${describeValue(jkt)}, the DPoP proof is signed with key ${describeValue(proofJkt)}`,
    );
  }
}

/** `dpop.required`: an unbound token, or one sent as Bearer, is refused. */
export function requiredDpopError(found: string): JwtVerifyError {
  return bindingError(
    `this API accepts only DPoP-bound tokens sent with the DPoP scheme and a proof; ${found}`,
  );
}

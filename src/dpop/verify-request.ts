/** dpop/: DPoP's request-level step: the request's proof header, the nonce, the replay key and the replay store. */
import { JwtVerifyError, errorReason } from '../errors.js';
import { type MaybePromise, andThen } from '../maybe-promise.js';
import { type HttpRequest, headerValue, requestMethod } from '../request/http-request.js';
import { type ResolvedRequestUrlOptions, requestUrl } from '../request/public-url.js';
import type { JwtPayload } from '../token/parse.js';
import { sha256Base64Url } from '../token/signature/index.js';
import { checkBinding } from './binding.js';
import type { DpopNonces } from './nonce.js';
import type { ResolvedDpopOptions } from './options.js';
import { type CheckedProof, type DpopProofHeader, type DpopProofPayload, checkProof } from './proof.js';
import { rememberProof } from './replay-store.js';

/** What a DPoP request proved, on the result of `verifyRequest()`. */
export interface DpopResult {
  /** The RFC 7638 thumbprint of the client's key: the token's `cnf.jkt`. */
  jkt: string;
  /** The proof's `jti`, now remembered by the replay store. */
  jti: string;
  /** The verified proof's header (with the client's public `jwk`) and claims. */
  proof: { header: DpopProofHeader; payload: DpopProofPayload };
  /**
   * A fresh server nonce to send in `DPoP-Nonce` (RFC 9449 §8.2): set when the proof's
   * nonce is the older of the two accepted, so the client has the next before it is needed.
   */
  nonce?: string;
}

/** What the DPoP step needs from the verifier: its token check and its clock. */
export interface DpopRequestParts<Result extends { payload: JwtPayload }> {
  /**
   * Verifies the access token: a promise, or for a verifier that can, the result at once (and
   * its refusal thrown), so a request whose every step answers at once needs no promise.
   */
  verify(token: string): Result | PromiseLike<Result>;
  now(): number;
}

/** The key a proof is remembered by: a hash, so that a long jti or htu cannot bloat the store. */
function replayKey(proof: CheckedProof): string | Promise<string> {
  const { htm, htu, jti } = proof.payload;
  return sha256Base64Url(JSON.stringify([proof.jkt, htm, htu, jti]));
}

function proofInvalid(message: string): JwtVerifyError {
  return new JwtVerifyError('ERR_DPOP_PROOF_INVALID', message);
}

/** The one DPoP header of the request (RFC 9449 §4.3 check 1). */
function singleProof(request: HttpRequest): string {
  const value = headerValue(request, 'dpop');
  if (value === undefined || value === '') {
    throw proofInvalid('the request uses the DPoP scheme but has no DPoP header with a proof');
  }
  if (Array.isArray(value) || value.includes(',')) {
    throw proofInvalid('the request has more than one DPoP header; exactly one proof is allowed');
  }
  return value.trim();
}

/**
 * DPoP's request-level step (RFC 9449 §4.3, §7.1): the request's one `DPoP` proof checked
 * against its method, public URL, the access token and the server nonce; the token verified
 * by `parts.verify` and bound to the proof's key (`cnf.jkt`); last, the proof remembered by
 * the replay store. Answers with the token's result and what the proof showed: at once when
 * every step does (a warm verifier, a known proof key, the memory replay store), else a
 * promise. A refusal is thrown, or the promise's rejection.
 */
export function verifyDpopRequest<Result extends { payload: JwtPayload }>(
  parts: DpopRequestParts<Result>,
  dpop: ResolvedDpopOptions,
  request: HttpRequest,
  accessToken: string,
  urlOptions: ResolvedRequestUrlOptions | undefined,
): MaybePromise<Result & { dpop: DpopResult }> {
  const proofText = singleProof(request);
  const nowSeconds = Math.floor(parts.now() / 1000);
  const { nonces } = dpop;
  const handOut: { nonce?: string } = {};
  const proof = checkProof(
    proofText,
    {
      method: requestMethod(request),
      url: requestUrl(request, urlOptions),
      accessToken,
      nowSeconds,
      checkNonce: nonces && ((value) => checkNonce(nonces, value, handOut)),
    },
    dpop,
  );
  return andThen(proof, (checked) =>
    andThen(parts.verify(accessToken), (result) => acceptProof(dpop, result, checked, handOut.nonce)),
  );
}

/** The proof's nonce (RFC 9449 §8): refused unless current or previous; the next handed out with the previous. */
async function checkNonce(nonces: DpopNonces, value: unknown, handOut: { nonce?: string }): Promise<void> {
  const check = await nonces.check(value);
  if (check === 'previous') handOut.nonce = await nonces.current();
  if (check !== 'invalid') return;
  throw new JwtVerifyError(
    'ERR_DPOP_NONCE_REQUIRED',
    value === undefined
      ? 'this API requires a server nonce in DPoP proofs: retry with the nonce of the DPoP-Nonce header'
      : "the DPoP proof's nonce is not current: retry with the nonce of the DPoP-Nonce header",
  );
}

/** The token is bound to the proof's key (RFC 9449 §7.1); then the proof is remembered, or refused as a replay. */
function acceptProof<Result extends { payload: JwtPayload }>(
  dpop: ResolvedDpopOptions,
  result: Result,
  proof: CheckedProof,
  nonce: string | undefined,
): MaybePromise<Result & { dpop: DpopResult }> {
  checkBinding(result.payload, proof.jkt);
  // Last, so only proofs for a real bound token take room in the store.
  const expiresAtMs = (proof.payload.iat + dpop.maxAgeSeconds + dpop.clockToleranceSeconds) * 1000;
  let fresh: MaybePromise<boolean>;
  try {
    const key = replayKey(proof);
    fresh =
      typeof key === 'string'
        ? rememberProof(dpop.replay, key, expiresAtMs)
        : key.then((text) => rememberProof(dpop.replay, text, expiresAtMs));
  } catch (error) {
    throw replayStoreFailed(error);
  }
  const accept = (isFresh: boolean): Result & { dpop: DpopResult } => {
    if (isFresh !== true) {
      throw proofInvalid(
        `the DPoP proof was used before (jti ${JSON.stringify(proof.payload.jti)}): a replay`,
      );
    }
    const { header, payload } = proof;
    const shown: DpopResult = { jkt: proof.jkt, jti: payload.jti, proof: { header, payload } };
    if (nonce) shown.nonce = nonce;
    return { ...result, dpop: shown };
  };
  if (!(fresh instanceof Promise)) return accept(fresh);
  return fresh.then(accept, (error: unknown) => {
    throw replayStoreFailed(error);
  });
}

function replayStoreFailed(error: unknown): JwtVerifyError {
  return new JwtVerifyError(
    'ERR_ISSUER_UNAVAILABLE',
    `the DPoP replay store failed, so the proof cannot be checked for replay: ${errorReason(error)}`,
    { cause: error },
  );
}

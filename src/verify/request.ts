/**
 * `verifyRequest()`: the token of a request's `Authorization` header, Bearer or DPoP, with
 * the DPoP proof checked against the request (RFC 9449 §4.3, §7) and the challenges to send.
 */
import { base64url } from 'jose';
import {
  type AuthChallenge,
  type AuthScheme,
  JwtVerifyError,
  errorReason,
  isJwtVerifyError,
} from '../errors.js';
import { checkBinding, refuseBoundBearerToken, requiredDpopError } from '../dpop/binding.js';
import { withChallenge } from '../dpop/challenge.js';
import type { ResolvedDpopOptions } from '../dpop/options.js';
import { type CheckedProof, type DpopProofHeader, type DpopProofPayload, checkProof } from '../dpop/proof.js';
import { type HttpRequest, headerValue, requestMethod } from '../dpop/request.js';
import { type ResolvedRequestUrlOptions, requestUrl } from '../dpop/request-url.js';
import type { JwtPayload } from '../token/parse.js';
import { authorizationCredentials } from './bearer.js';
import type { VerifyResult } from './options.js';

/** What a DPoP request proved, on a {@link RequestVerifyResult}. */
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

/** What `verifyRequest()` resolves to: the token, and for a DPoP request what its proof showed. */
export interface RequestVerifyResult<Payload extends JwtPayload = JwtPayload> extends VerifyResult<Payload> {
  /** Set for a request made with the DPoP scheme; absent for Bearer. */
  dpop?: DpopResult;
}

/** What verifying a request needs from the verifier. */
export interface RequestVerifierParts {
  verify(token: string): Promise<VerifyResult>;
  dpop: ResolvedDpopOptions | undefined;
  now(): number;
}

const encoder = new TextEncoder();

/** The key a proof is remembered by: a hash, so that a long jti or htu cannot bloat the store. */
async function replayKey(proof: CheckedProof): Promise<string> {
  const { htm, htu, jti } = proof.payload;
  const input = encoder.encode(JSON.stringify([proof.jkt, htm, htu, jti]));
  return base64url.encode(new Uint8Array(await crypto.subtle.digest('SHA-256', input)));
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

/** The challenges of a verifier: Bearer only without `dpop`; DPoP only when it is required. */
export function challengeOf(dpop: ResolvedDpopOptions | undefined): AuthChallenge {
  if (dpop === undefined) return { schemes: ['Bearer'] };
  return { schemes: dpop.required ? ['DPoP'] : ['Bearer', 'DPoP'], algorithms: [...dpop.algorithms] };
}

/**
 * Verifies a request's token the way its scheme asks (see `JwtVerifier.verifyRequest`).
 * Rejections carry `details.challenge` (and `details.dpopNonce` when nonces are on).
 */
export async function verifyRequest(
  parts: RequestVerifierParts,
  request: HttpRequest,
  urlOptions: ResolvedRequestUrlOptions | undefined,
): Promise<RequestVerifyResult> {
  const { dpop } = parts;
  let scheme: AuthScheme | undefined;
  try {
    const credentials = authorizationCredentials(headerValue(request, 'authorization'), dpop !== undefined);
    scheme = credentials.scheme;
    if (scheme === 'Bearer') {
      if (dpop?.required) throw requiredDpopError('the request used the Bearer scheme');
      const result = await parts.verify(credentials.token);
      refuseBoundBearerToken(result.payload);
      return result;
    }
    return await verifyDpopRequest(parts, dpop!, request, credentials.token, urlOptions);
  } catch (error) {
    throw await challenged(error, dpop, scheme);
  }
}

async function verifyDpopRequest(
  parts: RequestVerifierParts,
  dpop: ResolvedDpopOptions,
  request: HttpRequest,
  accessToken: string,
  urlOptions: ResolvedRequestUrlOptions | undefined,
): Promise<RequestVerifyResult> {
  const proofText = singleProof(request);
  const nowSeconds = Math.floor(parts.now() / 1000);
  let nonce: string | undefined;
  const { nonces } = dpop;
  const proof = await checkProof(
    proofText,
    {
      method: requestMethod(request),
      url: requestUrl(request, urlOptions),
      accessToken,
      nowSeconds,
      checkNonce:
        nonces &&
        (async (value) => {
          const check = await nonces.check(value);
          if (check === 'previous') nonce = await nonces.current();
          if (check !== 'invalid') return;
          throw new JwtVerifyError(
            'ERR_DPOP_NONCE_REQUIRED',
            value === undefined
              ? 'this API requires a server nonce in DPoP proofs: retry with the nonce of the DPoP-Nonce header'
              : "the DPoP proof's nonce is not current: retry with the nonce of the DPoP-Nonce header",
          );
        }),
    },
    dpop,
  );
  const result = await parts.verify(accessToken);
  checkBinding(result.payload, proof.jkt);
  // Last, so only proofs for a real bound token take room in the store.
  const expiresAtMs = (proof.payload.iat + dpop.maxAgeSeconds + dpop.clockToleranceSeconds) * 1000;
  let fresh: boolean;
  try {
    fresh = await dpop.replay.remember(await replayKey(proof), expiresAtMs);
  } catch (error) {
    throw new JwtVerifyError(
      'ERR_ISSUER_UNAVAILABLE',
      `the DPoP replay store failed, so the proof cannot be checked for replay: ${errorReason(error)}`,
      { cause: error },
    );
  }
  if (fresh !== true) {
    throw proofInvalid(`the DPoP proof was used before (jti ${JSON.stringify(proof.payload.jti)}): a replay`);
  }
  const { header, payload } = proof;
  return {
    ...result,
    dpop: { jkt: proof.jkt, jti: payload.jti, proof: { header, payload }, ...(nonce ? { nonce } : {}) },
  };
}

/**
 * The rejection with the challenges of this verifier and the scheme used, and the nonce
 * to hand out. A verifier without `dpop` leaves errors as they are, but for the refused
 * DPoP-bound Bearer token, whose challenge stays Bearer.
 */
async function challenged(
  error: unknown,
  dpop: ResolvedDpopOptions | undefined,
  scheme: AuthScheme | undefined,
): Promise<unknown> {
  if (!isJwtVerifyError(error) || error.status >= 500) return error;
  if (dpop === undefined && !error.code.startsWith('ERR_DPOP')) return error;
  const dpopNonce = error.status === 401 ? await dpop?.nonces?.current() : undefined;
  return withChallenge(error, { ...challengeOf(dpop), ...(scheme ? { scheme } : {}) }, dpopNonce);
}

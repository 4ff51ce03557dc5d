/**
 * `verifyRequest()`: the token of a request's `Authorization` header, Bearer or DPoP, with
 * the DPoP proof checked against the request (RFC 9449 §4.3, §7) and the challenges to send.
 */
import {
  type AuthChallenge,
  type AuthScheme,
  JwtVerifyError,
  errorReason,
  invalidArgument,
  isJwtVerifyError,
} from '../errors.js';
import { checkBinding, refuseBoundBearerToken, requiredDpopError } from '../dpop/binding.js';
import { withChallenge } from '../dpop/challenge.js';
import type { ResolvedDpopOptions } from '../dpop/options.js';
import { type CheckedProof, type DpopProofHeader, type DpopProofPayload, checkProof } from '../dpop/proof.js';
import { type HttpRequest, headerValue, requestMethod } from '../dpop/request.js';
import {
  type RequestUrlOptions,
  type ResolvedRequestUrlOptions,
  requestUrl,
  resolveRequestUrlOptions,
} from '../dpop/request-url.js';
import type { JwtPayload } from '../token/parse.js';
import { sha256Base64Url } from '../token/signature/index.js';
import { authorizationCredentials, bearerToken } from './bearer.js';
import type { VerifyOptions, VerifyResult } from './options.js';
import { type ClientCertificate, checkRequestCertificate } from './certificate-binding.js';
import { unlessBound } from './bound-token.js';

/** What this module passes to `verify()`: it checks the proof or certificate itself, below. */
const BINDING_CHECKED: VerifyOptions = Object.freeze({ allowBoundTokens: true });

/**
 * Options of `verifyRequest()`: which URL a DPoP proof names behind a proxy, and where a
 * certificate-bound token's TLS client certificate comes from.
 */
export interface VerifyRequestOptions extends RequestUrlOptions {
  /**
   * The TLS client certificate a certificate-bound token (`cnf["x5t#S256"]`, RFC 8705) must
   * match, for a TLS-terminating proxy that forwards it: DER bytes, or the PEM / RFC 9440
   * `Client-Cert` text of its header (trust only a header the proxy sets and strips from
   * clients). Called only for a bound token. Default: the request's own TLS socket (Node
   * `getPeerCertificate().raw`).
   */
  clientCertificate?: (
    request: HttpRequest,
  ) => ClientCertificate | null | undefined | Promise<ClientCertificate | null | undefined>;
}

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
  verify(token: string, options?: VerifyOptions): Promise<VerifyResult>;
  dpop: ResolvedDpopOptions | undefined;
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

/** The challenges of a verifier: Bearer only without `dpop`; DPoP only when it is required. */
export function challengeOf(dpop: ResolvedDpopOptions | undefined): AuthChallenge {
  if (dpop === undefined) return { schemes: ['Bearer'] };
  return { schemes: dpop.required ? ['DPoP'] : ['Bearer', 'DPoP'], algorithms: [...dpop.algorithms] };
}

/**
 * `verifyAuthorizationHeader()` of a verifier made of `parts`: the Bearer token verified,
 * and refused with `ERR_DPOP_BINDING` when it is DPoP-bound (RFC 9449 §7.2), with
 * `ERR_CERTIFICATE_BINDING` when it is certificate-bound (RFC 8705 §3: no certificate here).
 */
export async function verifyBearerHeader<Payload extends JwtPayload>(
  parts: RequestVerifierParts,
  authorization: string | readonly string[] | null | undefined,
): Promise<VerifyResult<Payload>> {
  const result = (await parts.verify(bearerToken(authorization), BINDING_CHECKED)) as VerifyResult<Payload>;
  const challenge: AuthChallenge = { ...challengeOf(parts.dpop), scheme: 'Bearer' };
  refuseBoundBearerToken(result.payload, challenge);
  try {
    return unlessBound(result, undefined);
  } catch (error) {
    throw withChallenge(error as JwtVerifyError, challenge);
  }
}

/** The token of a request's `Authorization` header, Bearer or DPoP; `undefined` when there is none to read. */
export function requestToken(request: HttpRequest): string | undefined {
  try {
    return authorizationCredentials(headerValue(request, 'authorization'), true).token;
  } catch {
    return undefined;
  }
}

/**
 * `verifyRequest()` of a verifier made of `parts`, with its options checked: a mistake in
 * them rejects (with the coded `TypeError`) rather than throws.
 */
export function verifyRequestWith<Payload extends JwtPayload>(
  parts: RequestVerifierParts,
  request: HttpRequest,
  options: VerifyRequestOptions | undefined,
): Promise<RequestVerifyResult<Payload>> {
  try {
    const source = options?.clientCertificate;
    if (source !== undefined && typeof source !== 'function') {
      throw invalidArgument('clientCertificate must be a function of the request');
    }
    const urlOptions = options === undefined ? undefined : resolveRequestUrlOptions(options);
    return verifyRequest(parts, request, urlOptions, source) as Promise<RequestVerifyResult<Payload>>;
  } catch (error) {
    return Promise.reject(error);
  }
}

/**
 * Verifies a request's token the way its scheme asks (see `JwtVerifier.verifyRequest`),
 * then its certificate binding (RFC 8705 §3), if any, against the request's TLS client
 * certificate. Rejections carry `details.challenge` (and `details.dpopNonce` when nonces are on).
 */
export async function verifyRequest(
  parts: RequestVerifierParts,
  request: HttpRequest,
  urlOptions: ResolvedRequestUrlOptions | undefined,
  clientCertificate?: VerifyRequestOptions['clientCertificate'],
): Promise<RequestVerifyResult> {
  const { dpop } = parts;
  let scheme: AuthScheme | undefined;
  try {
    const credentials = authorizationCredentials(headerValue(request, 'authorization'), dpop !== undefined);
    scheme = credentials.scheme;
    if (scheme === 'Bearer') {
      if (dpop?.required) throw requiredDpopError('the request used the Bearer scheme');
      const result = await parts.verify(credentials.token, BINDING_CHECKED);
      refuseBoundBearerToken(result.payload);
      await checkRequestCertificate(result.payload, request, clientCertificate);
      return result;
    }
    const verify = async (token: string) => {
      const result = await parts.verify(token, BINDING_CHECKED);
      await checkRequestCertificate(result.payload, request, clientCertificate);
      return result;
    };
    return await verifyDpopRequest({ ...parts, verify }, dpop!, request, credentials.token, urlOptions);
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

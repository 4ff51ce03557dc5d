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
import type { DpopNonces } from '../dpop/nonce.js';
import type { ResolvedDpopOptions } from '../dpop/options.js';
import { rememberProof } from '../dpop/replay-store.js';
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
import type { VerifyResult } from './options.js';
import {
  type ClientCertificate,
  certificateBinding,
  checkRequestCertificate,
} from './certificate-binding.js';

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
  /**
   * Verifies a token: a promise, or for a verifier that can, the result at once (and its
   * refusal thrown), so a request whose every step answers at once needs no promise but
   * the one `verifyRequest` returns.
   */
  verify(token: string): VerifyResult | PromiseLike<VerifyResult>;
  dpop: ResolvedDpopOptions | undefined;
  now(): number;
}

type MaybePromise<T> = T | Promise<T>;

/** `next(value)`: at once for a value, once it settles for a promise (or another thenable). */
function then<T, R>(value: T | PromiseLike<T>, next: (value: T) => R | PromiseLike<R>): MaybePromise<R> {
  if (typeof (value as PromiseLike<T> | null)?.then === 'function') {
    return Promise.resolve(value as PromiseLike<T>).then(next);
  }
  return next(value as T) as MaybePromise<R>;
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
 * and refused with `ERR_DPOP_BINDING` when it is DPoP-bound (RFC 9449 §7.2).
 */
export async function verifyBearerHeader<Payload extends JwtPayload>(
  parts: RequestVerifierParts,
  authorization: string | readonly string[] | null | undefined,
): Promise<VerifyResult<Payload>> {
  const result = (await parts.verify(bearerToken(authorization))) as VerifyResult<Payload>;
  refuseBoundBearerToken(result.payload, { ...challengeOf(parts.dpop), scheme: 'Bearer' });
  return result;
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
 * certificate. Rejections carry `details.challenge` (and `details.dpopNonce` when nonces are
 * on). Not an async function: where every step answers at once (a warm verifier, a known
 * proof key, node:crypto, the memory replay store), the promise it returns is the only one.
 */
export function verifyRequest(
  parts: RequestVerifierParts,
  request: HttpRequest,
  urlOptions: ResolvedRequestUrlOptions | undefined,
  clientCertificate?: VerifyRequestOptions['clientCertificate'],
): Promise<RequestVerifyResult> {
  const { dpop } = parts;
  let scheme: AuthScheme | undefined;
  try {
    const credentials = authorizationCredentials(headerValue(request, 'authorization'), dpop !== undefined);
    const used = (scheme = credentials.scheme);
    const result =
      used === 'Bearer'
        ? verifyBearerRequest(parts, request, credentials.token, clientCertificate)
        : verifyDpopRequest(parts, dpop!, request, credentials.token, urlOptions, clientCertificate);
    if (!(result instanceof Promise)) return Promise.resolve(result);
    return result.then(undefined, (error: unknown) => refuse(error, dpop, used));
  } catch (error) {
    return refuse(error, dpop, scheme);
  }
}

function verifyBearerRequest(
  parts: RequestVerifierParts,
  request: HttpRequest,
  token: string,
  clientCertificate: VerifyRequestOptions['clientCertificate'],
): MaybePromise<RequestVerifyResult> {
  if (parts.dpop?.required) throw requiredDpopError('the request used the Bearer scheme');
  return then(parts.verify(token), (result) => {
    refuseBoundBearerToken(result.payload);
    return checkCertificate(result, request, clientCertificate);
  });
}

/** The token's certificate binding checked, if it has one (RFC 8705 §3). */
function checkCertificate(
  result: VerifyResult,
  request: HttpRequest,
  clientCertificate: VerifyRequestOptions['clientCertificate'],
): MaybePromise<VerifyResult> {
  if (certificateBinding(result.payload) === undefined) return result;
  return checkRequestCertificate(result.payload, request, clientCertificate).then(() => result);
}

function verifyDpopRequest(
  parts: RequestVerifierParts,
  dpop: ResolvedDpopOptions,
  request: HttpRequest,
  accessToken: string,
  urlOptions: ResolvedRequestUrlOptions | undefined,
  clientCertificate: VerifyRequestOptions['clientCertificate'],
): MaybePromise<RequestVerifyResult> {
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
  return then(proof, (checked) =>
    then(parts.verify(accessToken), (result) =>
      then(checkCertificate(result, request, clientCertificate), (verified) =>
        acceptProof(dpop, verified, checked, handOut.nonce),
      ),
    ),
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
function acceptProof(
  dpop: ResolvedDpopOptions,
  result: VerifyResult,
  proof: CheckedProof,
  nonce: string | undefined,
): MaybePromise<RequestVerifyResult> {
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
  const accept = (isFresh: boolean): RequestVerifyResult => {
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

/** A refusal with the challenges of this verifier and the scheme used (see {@link challenged}). */
async function refuse(
  error: unknown,
  dpop: ResolvedDpopOptions | undefined,
  scheme: AuthScheme | undefined,
): Promise<never> {
  throw await challenged(error, dpop, scheme);
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

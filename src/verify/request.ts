/**
 * `verifyRequest()`: the token of a request's `Authorization` header, Bearer or DPoP, with
 * the DPoP proof checked against the request (RFC 9449 §4.3, §7) and the challenges to send.
 */
import { type AuthChallenge, type AuthScheme, type JwtVerifyError, isJwtVerifyError } from '../errors.js';
import { type MaybePromise, andThen } from '../maybe-promise.js';
import { functionOption } from '../option-checks.js';
import { refuseBoundBearerToken, requiredDpopError } from '../dpop/binding.js';
import { withChallenge } from '../dpop/challenge.js';
import type { ResolvedDpopOptions } from '../dpop/options.js';
import { type DpopResult, verifyDpopRequest } from '../dpop/verify-request.js';
import { type HttpRequest, headerValue } from '../request/http-request.js';
import {
  type RequestUrlOptions,
  type ResolvedRequestUrlOptions,
  resolveRequestUrlOptions,
} from '../request/public-url.js';
import type { JwtPayload } from '../token/parse.js';
import { authorizationCredentials, bearerToken } from './bearer.js';
import type { VerifyOptions, VerifyResult } from './options.js';
import {
  type ClientCertificate,
  certificateBinding,
  checkRequestCertificate,
} from './certificate-binding.js';
import { BINDING_CHECKED, unlessBound } from './bound-token.js';

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
   * the one `verifyRequest` returns. The request paths pass `{ allowBoundTokens: true }`:
   * they check a bound token's proof or certificate themselves.
   */
  verify(token: string, options?: VerifyOptions): VerifyResult | PromiseLike<VerifyResult>;
  dpop: ResolvedDpopOptions | undefined;
  now(): number;
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
    const source = functionOption(
      options?.clientCertificate,
      'clientCertificate',
      'a function of the request',
    );
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
 * Not an async function: where every step answers at once, the returned promise is the only one.
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
    const verify = (token: string): MaybePromise<VerifyResult> =>
      andThen(parts.verify(token, BINDING_CHECKED), (result) =>
        checkCertificate(result, request, clientCertificate),
      );
    let result: MaybePromise<RequestVerifyResult>;
    if (used === 'Bearer') {
      if (dpop?.required) throw requiredDpopError('the request used the Bearer scheme');
      result = andThen(verify(credentials.token), (verified) => {
        refuseBoundBearerToken(verified.payload);
        return verified;
      });
    } else {
      result = verifyDpopRequest({ verify, now: parts.now }, dpop!, request, credentials.token, urlOptions);
    }
    if (!(result instanceof Promise)) return Promise.resolve(result);
    return result.then(undefined, (error: unknown) => refuse(error, dpop, used));
  } catch (error) {
    return refuse(error, dpop, scheme);
  }
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
 * DPoP-bound Bearer token, whose challenge stays Bearer, and a step-up refusal made
 * elsewhere (a `validate` callback's), which needs its RFC 9470 challenge.
 */
async function challenged(
  error: unknown,
  dpop: ResolvedDpopOptions | undefined,
  scheme: AuthScheme | undefined,
): Promise<unknown> {
  if (!isJwtVerifyError(error) || error.status >= 500) return error;
  if (dpop === undefined && !/^ERR_(DPOP|INSUFFICIENT_AUTH)/.test(error.code)) return error;
  const dpopNonce = error.status === 401 ? await dpop?.nonces?.current() : undefined;
  return withChallenge(error, { ...challengeOf(dpop), ...(scheme ? { scheme } : {}) }, dpopNonce);
}

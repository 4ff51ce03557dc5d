/**
 * `verifyRequest()`: the token of a request's `Authorization` header, Bearer or DPoP, with
 * the DPoP proof checked against the request (RFC 9449 §4.3, §7) and the challenges to send.
 */
import { type AuthChallenge, type AuthScheme, type JwtVerifyError, isJwtVerifyError } from '../errors.js';
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

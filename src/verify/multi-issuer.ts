/** `MultiIssuerVerifier`: one verifier per trusted issuer, picked by the token's `iss` before any check. */
import { JwtVerifyError, describeValue, invalidArgument } from '../errors.js';
import { type JwtPayload, decodeUnverified } from '../token/parse.js';
import { type JwtVerifierOptions, type VerifyOptions, type VerifyResult } from './options.js';
import { JwtVerifier } from './verifier.js';
import { bearerToken } from './bearer.js';
import { IntrospectionVerifier } from './introspection-verifier.js';
import { JwtOrIntrospectionVerifier, isJwtShaped } from './jwt-or-introspection.js';
import type { HttpRequest } from '../request/http-request.js';
import { type RequestVerifyResult, type VerifyRequestOptions, requestToken } from './request.js';
import { bindMethods } from './bind-methods.js';

/** A verifier of one issuer's tokens that {@link MultiIssuerVerifier} routes to. */
export type IssuerVerifier = JwtVerifier | IntrospectionVerifier | JwtOrIntrospectionVerifier;

/**
 * Verifies tokens from several issuers: peeks at the unverified `iss` to choose the
 * issuer's own {@link JwtVerifier}, which then verifies everything. A token from an issuer
 * not configured is refused with `ERR_ISSUER_MISMATCH` before any request is made.
 * An opaque token (not a JWT) names no issuer: it goes to the one introspecting verifier
 * (`IntrospectionVerifier` or `JwtOrIntrospectionVerifier`) configured; with several, it is
 * refused with `ERR_ISSUER_MISMATCH` rather than sent to issuers that did not issue it.
 *
 * @example
 * const verifier = new MultiIssuerVerifier([
 *   { issuer: 'https://tenant-a.example.com', audience: 'https://api.example.com' },
 *   { issuer: 'https://tenant-b.example.com', audience: 'https://api.example.com' },
 * ]);
 * const { payload } = await verifier.verify(token);
 * // Its methods are bound to it: they work detached, as callbacks.
 * const results = await Promise.allSettled(tokens.map(verifier.verify));
 */
export class MultiIssuerVerifier {
  private readonly verifiers = new Map<string, IssuerVerifier>();
  private readonly introspecting: IssuerVerifier[] = [];

  constructor(issuers: ReadonlyArray<JwtVerifierOptions | IssuerVerifier>) {
    bindMethods(this);
    if (!Array.isArray(issuers) || issuers.length === 0) {
      throw invalidArgument(
        'MultiIssuerVerifier needs a non-empty array of JwtVerifier options or instances',
      );
    }
    for (const entry of issuers) {
      const verifier = isIssuerVerifier(entry) ? entry : new JwtVerifier(entry);
      if (this.verifiers.has(verifier.issuer)) {
        throw invalidArgument(`issuer ${verifier.issuer} is configured twice`);
      }
      this.verifiers.set(verifier.issuer, verifier);
      if (!(verifier instanceof JwtVerifier)) this.introspecting.push(verifier);
    }
  }

  /** The configured issuers. */
  get issuers(): string[] {
    return [...this.verifiers.keys()];
  }

  /** The verifier for one issuer, if configured. */
  verifierFor(issuer: string): IssuerVerifier | undefined {
    return this.verifiers.get(issuer);
  }

  /**
   * Routes by `iss` (an opaque token to the introspecting verifier), then verifies with that
   * issuer's verifier; a sender-constrained token is refused unless `options.allowBoundTokens`
   * (see `JwtVerifier.verify`).
   */
  verify<Payload extends JwtPayload = JwtPayload>(
    token: string,
    options?: VerifyOptions,
  ): Promise<VerifyResult<Payload>>;
  /** As the callback of `tokens.map(verifier.verify)`: the index and the array are not options. */
  verify<Payload extends JwtPayload = JwtPayload>(
    token: string,
    index: number,
    tokens: readonly string[],
  ): Promise<VerifyResult<Payload>>;
  async verify(token: string, options?: VerifyOptions | number): Promise<VerifyResult> {
    return this.route(token).verify(token, typeof options === 'object' ? options : undefined);
  }

  private route(token: string): IssuerVerifier {
    if (this.introspecting.length > 0 && !isJwtShaped(token)) {
      if (this.introspecting.length === 1) return this.introspecting[0]!;
      throw new JwtVerifyError(
        'ERR_ISSUER_MISMATCH',
        `the token is not a JWT, so it names no issuer, and ${this.introspecting.length} of the configured issuers introspect tokens`,
      );
    }
    const { payload } = decodeUnverified(token);
    const verifier = typeof payload.iss === 'string' ? this.verifiers.get(payload.iss) : undefined;
    if (!verifier) {
      throw new JwtVerifyError(
        'ERR_ISSUER_MISMATCH',
        `the token's issuer ${describeValue(payload.iss)} is not one of the ${this.verifiers.size} configured issuers`,
      );
    }
    return verifier;
  }

  /**
   * Verifies the token of an `Authorization: Bearer <jwt>` header value; a DPoP-bound token
   * is `ERR_DPOP_BINDING`, a certificate-bound one `ERR_CERTIFICATE_BINDING`.
   */
  async verifyAuthorizationHeader<Payload extends JwtPayload = JwtPayload>(
    authorization: string | readonly string[] | null | undefined,
  ): Promise<VerifyResult<Payload>> {
    return this.route(bearerToken(authorization)).verifyAuthorizationHeader<Payload>(authorization);
  }

  /**
   * Verifies a request (see {@link JwtVerifier.verifyRequest}) with the verifier of its
   * token's issuer, so each issuer's `dpop` option applies. A request whose token cannot be
   * read gets the answer (and the challenges) of the first issuer's verifier.
   *
   * @example
   * const { payload, dpop } = await verifier.verifyRequest(request);
   */
  async verifyRequest<Payload extends JwtPayload = JwtPayload>(
    request: HttpRequest,
    options?: VerifyRequestOptions,
  ): Promise<RequestVerifyResult<Payload>> {
    const token = requestToken(request);
    const verifier = token === undefined ? this.verifiers.values().next().value! : this.route(token);
    return verifier.verifyRequest<Payload>(request, options);
  }

  /** Warms every issuer's verifier up; rejects if any fails, after all have tried. */
  async warmup(): Promise<void> {
    const results = await Promise.allSettled([...this.verifiers.values()].map((v) => v.warmup()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Stops every issuer's background refresh (see {@link JwtVerifier.close}). */
  close(): void {
    for (const verifier of this.verifiers.values()) verifier.close();
  }
}

function isIssuerVerifier(entry: unknown): entry is IssuerVerifier {
  return (
    entry instanceof JwtVerifier ||
    entry instanceof IntrospectionVerifier ||
    entry instanceof JwtOrIntrospectionVerifier
  );
}

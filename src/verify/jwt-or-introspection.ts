/** `JwtOrIntrospectionVerifier`: JWTs verified locally, other tokens introspected. */
import { invalidArgument } from '../errors.js';
import type { AuthorizationServerMetadata } from '../issuer/discovery.js';
import type { JwtPayload } from '../token/parse.js';
import { isCompactJwe } from '../token/jwe.js';
import { decodeBase64Url } from '../token/segments.js';
import type { HttpRequest } from '../request/http-request.js';
import { bearerToken } from './bearer.js';
import { bindMethods } from './bind-methods.js';
import { IntrospectionVerifier, type IntrospectionVerifierOptions } from './introspection-verifier.js';
import type { JwtVerifierOptions, VerifyOptions, VerifyResult } from './options.js';
import { type RequestVerifyResult, type VerifyRequestOptions, requestToken } from './request.js';
import { JwtVerifier } from './verifier.js';

/**
 * Options of {@link JwtOrIntrospectionVerifier}: an {@link IntrospectionVerifierOptions}
 * whose shared options (issuer, audience, scopes, times, `validate`, HTTP) apply to JWTs too.
 */
export interface JwtOrIntrospectionVerifierOptions extends IntrospectionVerifierOptions {
  /** Options for JWTs only, over the shared ones: e.g. `typ: 'at+jwt'`, the JWKS `cache`. */
  jwt?: Omit<Partial<JwtVerifierOptions>, 'issuer'>;
}

/**
 * Whether a token has the shape of a compact JWS: three dot-separated parts, the first a
 * base64url JSON object. Such a token is a JWT to verify, and stays refused when it does
 * not verify; anything else (an opaque token, a JWE unless the JWT side decrypts) is one to
 * introspect.
 */
export function isJwtShaped(token: unknown): boolean {
  if (typeof token !== 'string') return false;
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first < 1 || second === -1 || token.includes('.', second + 1)) return false;
  try {
    const header: unknown = JSON.parse(new TextDecoder().decode(decodeBase64Url(token.slice(0, first), '')));
    return typeof header === 'object' && header !== null && !Array.isArray(header);
  } catch {
    return false;
  }
}

/**
 * Verifies the access tokens of an issuer that hands out both kinds: a JWT with its JWKS
 * (`JwtVerifier`), anything else by introspection (`IntrospectionVerifier`). A JWT that
 * does not verify is refused, never introspected instead. The two keep their own caches
 * (so a cold start asks for the metadata once for each).
 *
 * @example
 * const verifier = new JwtOrIntrospectionVerifier({
 *   issuer: 'https://issuer.example.com',
 *   audience: 'https://api.example.com',
 *   clientId: 'orders-api',
 *   clientSecret: process.env.INTROSPECTION_SECRET!,
 *   jwt: { typ: 'at+jwt' },
 * });
 * const { payload } = await verifier.verify(jwtOrOpaqueToken);
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @see https://www.rfc-editor.org/rfc/rfc7662
 */
export class JwtOrIntrospectionVerifier {
  /** The issuer both verifiers trust. */
  readonly issuer: string;
  /** Verifies the JWTs. */
  readonly jwt: JwtVerifier;
  /** Introspects the rest. */
  readonly introspection: IntrospectionVerifier;
  /** Whether the JWT side decrypts encrypted tokens, which then go to it, not to introspection. */
  private readonly decrypts: boolean;

  constructor(options: JwtOrIntrospectionVerifierOptions) {
    bindMethods(this);
    if (typeof options !== 'object' || options === null) {
      throw invalidArgument('JwtOrIntrospectionVerifier needs IntrospectionVerifier options');
    }
    const { jwt, ...introspection } = options;
    if (jwt !== undefined && (typeof jwt !== 'object' || jwt === null)) {
      throw invalidArgument('jwt must be an object of JwtVerifier options');
    }
    this.introspection = new IntrospectionVerifier(introspection);
    // The client options mean nothing to a JwtVerifier, and `cache` there is the answers'
    // cache, not the JWKS's: the JWT side takes `jwt.cache`.
    this.jwt = new JwtVerifier({ ...introspection, cache: undefined, ...jwt, issuer: introspection.issuer });
    this.issuer = this.jwt.issuer;
    this.decrypts = jwt?.decryption !== undefined;
  }

  /**
   * Verifies a JWT with the JWKS, or introspects a token that is not one. Rejects with a
   * `JwtVerifyError` whose `code` says why; a sender-constrained token is refused unless
   * `options.allowBoundTokens` (see `JwtVerifier.verify`).
   *
   * @example
   * const { payload } = await verifier.verify<{ sub: string }>(token);
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
  verify(token: string, options?: VerifyOptions | number): Promise<VerifyResult> {
    const verifyOptions = typeof options === 'object' ? options : undefined;
    return this.pick(this.isJwt(token)).verify(token, verifyOptions);
  }

  /**
   * Verifies the token of an `Authorization: Bearer <token>` header value (RFC 6750 §2.1); a
   * DPoP-bound one is `ERR_DPOP_BINDING`, a certificate-bound one `ERR_CERTIFICATE_BINDING`.
   */
  async verifyAuthorizationHeader<Payload extends JwtPayload = JwtPayload>(
    authorization: string | readonly string[] | null | undefined,
  ): Promise<VerifyResult<Payload>> {
    return this.pick(this.isJwt(bearerToken(authorization))).verifyAuthorizationHeader<Payload>(
      authorization,
    );
  }

  /**
   * Verifies a request (see `JwtVerifier.verifyRequest`) with the verifier its token's kind
   * needs: DPoP and certificate binding apply to JWTs and introspected answers alike.
   *
   * @example
   * const { payload, dpop } = await verifier.verifyRequest(request);
   */
  verifyRequest<Payload extends JwtPayload = JwtPayload>(
    request: HttpRequest,
    options?: VerifyRequestOptions,
  ): Promise<RequestVerifyResult<Payload>> {
    const token = requestToken(request);
    return this.pick(token === undefined || this.isJwt(token)).verifyRequest<Payload>(request, options);
  }

  /** A JWT to verify with the JWKS: JWS-shaped, or a compact JWE when `jwt.decryption` decrypts them. */
  private isJwt(token: unknown): boolean {
    return isJwtShaped(token) || (this.decrypts && typeof token === 'string' && isCompactJwe(token));
  }

  private pick(jwt: boolean): JwtVerifier | IntrospectionVerifier {
    return jwt ? this.jwt : this.introspection;
  }

  /** Warms both up; rejects if either fails, after both have tried. */
  async warmup(): Promise<void> {
    const results = await Promise.allSettled([this.jwt.warmup(), this.introspection.warmup()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** The issuer's discovered metadata (the JWT verifier's cached copy). */
  metadata(): Promise<AuthorizationServerMetadata> {
    return this.jwt.metadata();
  }

  /** Stops both background refreshes. */
  close(): void {
    this.jwt.close();
    this.introspection.close();
  }
}

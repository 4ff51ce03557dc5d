/** `IntrospectionVerifier`: opaque tokens through RFC 7662 introspection, RFC 9701 signed answers optional. */
import { JwtVerifyError, errorReason, invalidArgument, isJwtVerifyError } from '../errors.js';
import { createEmitter } from '../events.js';
import {
  type IntrospectionCacheOptions,
  IntrospectionCache,
  parseIntrospectionCacheOption,
} from '../introspection/cache.js';
import {
  type IntrospectionAnswer,
  type IntrospectionClient,
  readAnswer,
  requestIntrospection,
} from '../introspection/introspect.js';
import { verifyAnswerSignature } from '../introspection/response-jwt.js';
import type { CachedResource } from '../issuer/cached-resource.js';
import { type ClientSecretMethod, clientSecretMethod } from '../issuer/client-auth.js';
import type { AuthorizationServerMetadata, DiscoveryResult } from '../issuer/discovery.js';
import { type ResolvedHttpOptions, unavailable } from '../issuer/http.js';
import { booleanOption, nonEmptyStringOption, parseOptionUrl } from '../option-checks.js';
import type { JwksCache } from '../keys/jwks-cache.js';
import type { JwsAlgorithm } from '../token/algorithms.js';
import { type JwtPayload, requireTokenString } from '../token/parse.js';
import type { ResolvedDpopOptions } from '../dpop/options.js';
import type { HttpRequest } from '../request/http-request.js';
import { bindMethods } from './bind-methods.js';
import { type ClaimRules, checkClaims, runValidate } from './claims.js';
import { createIssuerSources } from './issuer-sources.js';
import {
  type JwtVerifierOptions,
  type VerifyOptions,
  type VerifyResult,
  resolveVerifierOptions,
} from './options.js';
import { unlessBound } from './bound-token.js';
import {
  type RequestVerifierParts,
  type RequestVerifyResult,
  type VerifyRequestOptions,
  verifyBearerHeader,
  verifyRequestWith,
} from './request.js';

/**
 * Options of {@link IntrospectionVerifier}: those of `JwtVerifier` that apply to an answer
 * (`issuer`, `audience`, scopes, times, `validate`, HTTP, discovery), and the client's.
 * `issuer`, `audience`, `clientId` and `clientSecret` are required.
 */
export interface IntrospectionVerifierOptions extends Omit<JwtVerifierOptions, 'typ' | 'cache'> {
  /** The resource server's client id at the issuer; with `jwtResponse`, the `aud` of signed answers. */
  clientId: string;
  /** Its secret. Keep it on the server. */
  clientSecret: string;
  /**
   * How the secret is sent (RFC 6749 §2.3.1). Default `'client_secret_basic'`, or
   * `'client_secret_post'` when the metadata lists only that for the introspection endpoint.
   */
  clientAuthMethod?: ClientSecretMethod;
  /**
   * The introspection endpoint; default: the metadata's `introspection_endpoint`. Given, no
   * discovery is made (unless `jwtResponse` needs the JWKS) and the secret goes as Basic
   * unless `clientAuthMethod` says otherwise.
   */
  introspectionEndpoint?: string;
  /**
   * Ask for signed answers (RFC 9701, `Accept: application/token-introspection+jwt`) and
   * verify them with the issuer's JWKS: `typ` `token-introspection+jwt`, `iss`, `aud` =
   * `clientId`, `iat`. Default false (plain JSON over TLS, RFC 7662).
   */
  jwtResponse?: boolean;
  /** Caching of answers, keyed by the SHA-256 of the token. */
  cache?: IntrospectionCacheOptions;
}

/**
 * Verifies opaque access tokens by asking the issuer (RFC 7662 token introspection), with
 * the same result (`{ payload, header }`) and error codes as `JwtVerifier`: an inactive
 * token (revoked, expired, unknown) is `ERR_CLAIM_INVALID`; `iss`, `aud`, `exp`, `nbf`,
 * scopes and `validate` are checked on the answer as on a JWT's claims (`iss` and `exp`
 * only when the answer has them; a missing `aud` is refused unless `audience: null`); an
 * issuer that cannot answer is `ERR_ISSUER_UNAVAILABLE` (503), never a 401. Answers are
 * cached by the SHA-256 of the token, and one request serves all concurrent callers of a token.
 *
 * `payload` is the answer's members (`active`, `sub`, `scope`, `client_id`, `exp`, …);
 * `header` is the verified header of a signed (RFC 9701) answer, else `{ alg: 'none' }`:
 * a plain answer is trusted for its TLS channel and the client's authentication.
 *
 * @example
 * const verifier = new IntrospectionVerifier({
 *   issuer: 'https://issuer.example.com',
 *   audience: 'https://api.example.com',
 *   clientId: 'orders-api',
 *   clientSecret: process.env.INTROSPECTION_SECRET!,
 * });
 * const { payload } = await verifier.verify(opaqueToken);
 * @see https://www.rfc-editor.org/rfc/rfc7662
 * @see https://www.rfc-editor.org/rfc/rfc9701
 */
export class IntrospectionVerifier {
  /** The issuer whose introspection endpoint is asked, exactly as configured. */
  readonly issuer: string;
  /** The audiences an answer's `aud` must name one of; `null`: not checked. */
  readonly audience: readonly string[] | null;
  private readonly rules: ClaimRules;
  private readonly answerRules: ClaimRules;
  private readonly validate: JwtVerifierOptions['validate'];
  private readonly maxTokenLength: number;
  private readonly now: () => number;
  private readonly http: ResolvedHttpOptions;
  private readonly algorithms: ReadonlySet<JwsAlgorithm>;
  private readonly client: Omit<IntrospectionClient, 'method'>;
  private readonly clientAuthMethod: ClientSecretMethod | undefined;
  private readonly introspectionEndpoint: string | undefined;
  private readonly jwtResponse: boolean;
  private readonly metadataResource: CachedResource<DiscoveryResult>;
  private readonly jwks: JwksCache;
  private readonly cache: IntrospectionCache;
  private readonly dpop: ResolvedDpopOptions | undefined;

  constructor(options: IntrospectionVerifierOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalidArgument(
        'IntrospectionVerifier needs an options object with issuer, audience, clientId and clientSecret',
      );
    }
    bindMethods(this);
    const { clientId, clientSecret, clientAuthMethod, introspectionEndpoint, jwtResponse, cache, ...shared } =
      options;
    // `typ` is about a JWT's header; an answer has none.
    const resolved = resolveVerifierOptions({ ...shared, typ: undefined });
    this.issuer = resolved.issuer;
    this.audience = resolved.rules.audiences && Object.freeze([...resolved.rules.audiences]);
    this.rules = { ...resolved.rules, answerFromIssuer: true };
    this.validate = resolved.validate;
    this.maxTokenLength = resolved.maxTokenLength;
    this.now = resolved.now;
    this.http = resolved.http;
    this.algorithms = resolved.algorithms;
    this.dpop = resolved.dpop;
    this.client = {
      clientId: nonEmptyStringOption(clientId, 'clientId'),
      clientSecret: nonEmptyStringOption(clientSecret, 'clientSecret'),
    };
    if (
      clientAuthMethod !== undefined &&
      clientAuthMethod !== 'client_secret_basic' &&
      clientAuthMethod !== 'client_secret_post'
    ) {
      throw invalidArgument(
        `clientAuthMethod must be 'client_secret_basic' or 'client_secret_post', got ${String(clientAuthMethod)}`,
      );
    }
    this.clientAuthMethod = clientAuthMethod;
    this.introspectionEndpoint =
      introspectionEndpoint === undefined
        ? undefined
        : parseOptionUrl(introspectionEndpoint, 'introspectionEndpoint', resolved.http.allowInsecureHttp)
            .href;
    booleanOption(jwtResponse, 'jwtResponse');
    this.jwtResponse = jwtResponse === true;
    // RFC 9701 §5: the signed answer is for this client, and iss and iat are required.
    this.answerRules = {
      issuer: this.issuer,
      audiences: [this.client.clientId],
      clockToleranceSeconds: resolved.rules.clockToleranceSeconds,
      maxTokenAgeSeconds: undefined,
      typ: 'token-introspection+jwt',
      requiredClaims: ['iss', 'iat'],
      requiredScopes: [],
      answerFromIssuer: true,
    };
    this.cache = new IntrospectionCache(parseIntrospectionCacheOption(cache), this.now);
    const sources = createIssuerSources(
      resolved,
      createEmitter(resolved.onEvent),
      this.jwtResponse && resolved.jwksUri === undefined,
    );
    this.metadataResource = sources.metadata;
    this.jwks = sources.jwks;
  }

  /**
   * Introspects a token (or takes the cached answer) and checks the answer. Rejects with a
   * {@link JwtVerifyError} whose `code` says why. An answer with `cnf.jkt` or
   * `cnf["x5t#S256"]` (a sender-constrained token) is refused with `ERR_DPOP_BINDING` /
   * `ERR_CERTIFICATE_BINDING` unless `options.allowBoundTokens` (see `JwtVerifier.verify`).
   *
   * @example
   * const { payload } = await verifier.verify<{ sub: string; scope: string }>(token);
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3.2
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
    const checked = introspectableToken(token, this.maxTokenLength);
    const answer = await this.cache.get(checked, () => this.introspect(checked));
    if (!answer.active) {
      throw new JwtVerifyError(
        'ERR_CLAIM_INVALID',
        `the issuer's introspection endpoint says the token is not active (revoked, expired, or not one it issued)${answer.reason ? `: ${answer.reason}` : ''}`,
      );
    }
    const { payload, header } = answer;
    checkClaims(payload, header, this.rules, Math.floor(this.now() / 1000));
    refuseRefreshToken(payload);
    if (this.validate) await runValidate(this.validate, payload, header);
    return unlessBound({ payload: { ...payload }, header: { ...header } }, options);
  }

  /**
   * Verifies the token of an `Authorization: Bearer <token>` header value (RFC 6750 §2.1).
   * A missing header or another scheme is `ERR_TOKEN_MISSING`; an answer whose `cnf.jkt`
   * binds the token to a DPoP key is `ERR_DPOP_BINDING` (RFC 9449 §7.2), one bound to a TLS
   * client certificate (`cnf["x5t#S256"]`) `ERR_CERTIFICATE_BINDING` (RFC 8705 §3).
   */
  async verifyAuthorizationHeader<Payload extends JwtPayload = JwtPayload>(
    authorization: string | readonly string[] | null | undefined,
  ): Promise<VerifyResult<Payload>> {
    return verifyBearerHeader<Payload>(this.requestParts(), authorization);
  }

  /**
   * Verifies the access token of a request as `JwtVerifier.verifyRequest` does, the token
   * introspected: Bearer, and with the `dpop` option DPoP with its proof checked against the
   * request and the answer's `cnf.jkt` (RFC 9449); a certificate-bound answer
   * (`cnf["x5t#S256"]`, RFC 8705) against the request's TLS client certificate.
   *
   * @example
   * const { payload, dpop } = await verifier.verifyRequest(request);
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
   */
  verifyRequest<Payload extends JwtPayload = JwtPayload>(
    request: HttpRequest,
    options?: VerifyRequestOptions,
  ): Promise<RequestVerifyResult<Payload>> {
    return verifyRequestWith(this.requestParts(), request, options);
  }

  private requestParts(): RequestVerifierParts {
    return { verify: this.verify, dpop: this.dpop, now: this.now };
  }

  /** Discovers the issuer now (and, with `jwtResponse`, fetches its JWKS), so the first request does not wait. */
  async warmup(): Promise<void> {
    if (this.introspectionEndpoint === undefined) await this.metadataResource.get();
    if (this.jwtResponse) await this.jwks.warmup();
  }

  /** The issuer's discovered RFC 8414 / OpenID Connect metadata (cached). */
  async metadata(): Promise<AuthorizationServerMetadata> {
    return (await this.metadataResource.get()).value.metadata;
  }

  /** Stops the background JWKS refresh (see `JwtVerifier.close`); verifying goes on. */
  close(): void {
    this.jwks.close();
  }

  private async introspect(token: string): Promise<IntrospectionAnswer> {
    const metadata = this.introspectionEndpoint === undefined ? await this.metadata() : undefined;
    const url = this.introspectionEndpoint ?? metadata?.introspection_endpoint;
    if (url === undefined) {
      throw new JwtVerifyError(
        'ERR_METADATA_INVALID',
        `the metadata of ${this.issuer} has no introspection_endpoint; pass introspectionEndpoint`,
      );
    }
    const method = this.clientAuthMethod ?? clientSecretMethod(metadata, 'introspection_endpoint');
    const response = await requestIntrospection(
      url,
      token,
      { ...this.client, method },
      this.http,
      this.jwtResponse,
    );
    return response.kind === 'answer' ? response.answer : this.signedAnswer(response.jwt, url);
  }

  /**
   * An RFC 9701 answer, verified. A signature or claim that does not verify says nothing about
   * the caller's token: it is the issuer's (or the network's) failure, `ERR_ISSUER_UNAVAILABLE`.
   */
  private async signedAnswer(jwt: string, url: string): Promise<IntrospectionAnswer> {
    try {
      const parsed = await verifyAnswerSignature(jwt, this.jwks, this.algorithms, this.maxTokenLength);
      checkClaims(parsed.payload, parsed.header, this.answerRules, Math.floor(this.now() / 1000));
      return readAnswer(parsed.payload.token_introspection, url, parsed.header);
    } catch (error) {
      if (isJwtVerifyError(error) && error.status === 503) throw error;
      throw unavailable(
        url,
        `sent a signed answer that does not verify (RFC 9701): ${errorReason(error)}`,
        undefined,
        error,
      );
    }
  }
}

/** A token worth sending: a string within `maxLength` of visible ASCII (RFC 6749 Appendix A.12). */
function introspectableToken(token: unknown, maxLength: number): string {
  const value = requireTokenString(token);
  if (value.length > maxLength) {
    throw new JwtVerifyError(
      'ERR_TOKEN_MALFORMED',
      `the token is ${value.length} characters long, more than the ${maxLength} allowed`,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(value)) {
    throw new JwtVerifyError(
      'ERR_TOKEN_MALFORMED',
      'the token has characters outside visible ASCII (RFC 6749 Appendix A.12)',
    );
  }
  return value;
}

/**
 * Issuers introspect refresh tokens too; one sent as a bearer token is refused when the
 * answer says what it is (`token_type`, or Ory's `token_use`).
 */
function refuseRefreshToken(payload: JwtPayload): void {
  const kind = payload.token_type ?? payload.token_use;
  if (typeof kind === 'string' && /refresh/i.test(kind)) {
    throw new JwtVerifyError(
      'ERR_CLAIM_INVALID',
      `the introspected token is a refresh token (${JSON.stringify(kind)}), not an access token`,
    );
  }
}

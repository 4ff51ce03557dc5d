/** The verifier: one class that composes the options, the issuer's caches and the checks. */
import { createEmitter } from '../events.js';
import type { VerifierCacheSnapshot } from './snapshot.js';
import { CACHE_SNAPSHOT_FORMAT, metadataSnapshot } from './snapshot.js';
import type { CachedResource } from '../issuer/cached-resource.js';
import type { AuthorizationServerMetadata, DiscoveryResult } from '../issuer/discovery.js';
import type { JwksCache } from '../keys/jwks-cache.js';
import { KeyTrial } from '../keys/key-trial.js';
import type { JwsAlgorithm } from '../token/algorithms.js';
import { type JwksKey, isSameKey } from '../token/jwk.js';
import { type JwtHeader, type JwtPayload, type ParsedToken, parseToken } from '../token/parse.js';
import { segmentDecoder } from '../token/signature/index.js';
import type { ResolvedDpopOptions } from '../dpop/options.js';
import type { HttpRequest } from '../request/http-request.js';
import { bindMethods } from './bind-methods.js';
import { type ClaimRules, checkClaims, runValidate } from './claims.js';
import type { TokenDecryptor } from './decryption.js';
import { createIssuerSources } from './issuer-sources.js';
import {
  type JwtVerifierOptions,
  type VerifyOptions,
  type VerifyResult,
  resolveVerifierOptions,
} from './options.js';
import {
  type RequestVerifierParts,
  type RequestVerifyResult,
  type VerifyRequestOptions,
  verifyBearerHeader,
  verifyRequestWith,
} from './request.js';
import { type VerifiedToken, VerifiedTokenCache } from './verified-token-cache.js';
import { BINDING_CHECKED, allowsBoundTokens, unlessBound } from './bound-token.js';

/**
 * Verifies JWTs (access tokens, ID tokens) from one OAuth 2.0 / OpenID Connect issuer:
 * discovers its metadata, fetches and caches its JWKS, picks the key by `kid`, checks the
 * signature, then `iss`, `aud`, `exp`, `nbf`, `iat`, `typ`, scopes and your own rules.
 *
 * @example
 * const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
 * const { payload } = await verifier.verify(token);
 * // Its methods are bound to it: they work detached, as callbacks.
 * const results = await Promise.allSettled(tokens.map(verifier.verify));
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @see https://www.rfc-editor.org/rfc/rfc8725
 */
export class JwtVerifier {
  /** The issuer this verifier trusts, exactly as configured. */
  readonly issuer: string;
  /** The audiences a token's `aud` must name one of, as configured; `null`: not checked. */
  readonly audience: readonly string[] | null;
  private readonly rules: ClaimRules;
  private readonly validate: JwtVerifierOptions['validate'];
  private readonly maxTokenLength: number;
  private readonly now: () => number;
  private readonly metadataResource: CachedResource<DiscoveryResult>;
  private readonly jwks: JwksCache;
  private readonly keyTrial: KeyTrial<string, VerifyResult>;
  private readonly verifiedTokens: VerifiedTokenCache | undefined;
  private readonly dpop: ResolvedDpopOptions | undefined;
  readonly #decryption: TokenDecryptor | undefined;
  #parts: RequestVerifierParts | undefined;

  constructor(options: JwtVerifierOptions) {
    bindMethods(this);
    const resolved = resolveVerifierOptions(options);
    this.issuer = resolved.issuer;
    this.audience = resolved.rules.audiences && Object.freeze([...resolved.rules.audiences]);
    this.rules = resolved.rules;
    this.validate = resolved.validate;
    this.maxTokenLength = resolved.maxTokenLength;
    this.now = resolved.now;
    this.dpop = resolved.dpop;
    this.#decryption = resolved.decryption;
    const { verifiedTokens } = resolved.cache;
    this.verifiedTokens = verifiedTokens ? new VerifiedTokenCache(verifiedTokens, this.now) : undefined;
    const emitEvent = createEmitter(resolved.onEvent);
    const sources = createIssuerSources(resolved, (event) => {
      if (event.type === 'key_rotated') this.verifiedTokens?.dropKids(event.removed);
      emitEvent(event);
    });
    this.metadataResource = sources.metadata;
    this.jwks = sources.jwks;
    this.keyTrial = new KeyTrial(this.jwks, resolved.algorithms, (token: string, parsed, alg, key) =>
      this.#accept(token, parsed, alg, key),
    );
  }

  /**
   * Verifies a compact JWS and returns its payload and header. Rejects with a
   * {@link JwtVerifyError} whose `code` says why. With the `decryption` option, a compact
   * JWE is decrypted first and the signed JWT it holds verified the same way. A
   * sender-constrained token (`cnf.jkt`, `cnf["x5t#S256"]`) is refused (`ERR_DPOP_BINDING`,
   * `ERR_CERTIFICATE_BINDING`) unless `options.allowBoundTokens`: `verifyRequest()` and
   * `authenticate()` check its binding.
   *
   * @example
   * const { payload } = await verifier.verify<{ sub: string; scope: string }>(token);
   * const bound = await verifier.verify(token, { allowBoundTokens: true }); // you check cnf
   * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.2
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
    if (this.#decryption !== undefined) {
      // An encrypted token is decrypted first; what it holds is verified as a plain token.
      let opened: string | Promise<string>;
      try {
        opened = this.#decryption.open(token);
      } catch (error) {
        return Promise.reject(error);
      }
      if (typeof opened !== 'string') return opened.then((inner) => this.#verifySigned(inner, options));
      token = opened;
    }
    return this.#verifySigned(token, options);
  }

  #verifySigned(token: string, options: VerifyOptions | number | undefined): Promise<VerifyResult> {
    return this.verifiedTokens === undefined
      ? this.#verifyToken(token, options)
      : this.#verifyThroughCache(token, options);
  }

  /**
   * The full verification. Not an async function: a warm call makes one promise, the one it
   * returns, and an error thrown on the way becomes its rejection (see docs/performance.md).
   * Only a token with `cnf` takes one more step, after every other check: the binding rule.
   */
  #verifyToken(token: string, options: VerifyOptions | number | undefined): Promise<VerifyResult> {
    try {
      const result = this.#verifyAtOnce(token);
      if (allowsBoundTokens(options)) return Promise.resolve(result);
      return result instanceof Promise
        ? result.then((verified) => unlessBound(verified, options))
        : Promise.resolve(unlessBound(result, options));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The full verification, answering at once on the warm path; a refusal is thrown there. */
  #verifyAtOnce(token: string): VerifyResult | Promise<VerifyResult> {
    const parsed = parseToken(token, this.maxTokenLength, segmentDecoder);
    const alg = this.keyTrial.allowedAlgorithm(parsed.header.alg);
    return this.keyTrial.check(token, parsed, alg);
  }

  /** After the signature verified with `key`: the claims, `validate`, and the verified-token cache. */
  #accept(
    token: string,
    parsed: ParsedToken,
    alg: JwsAlgorithm,
    key: JwksKey,
  ): VerifyResult | Promise<VerifyResult> {
    checkClaims(parsed.payload, parsed.header, this.rules, Math.floor(this.now() / 1000));
    if (this.validate) return this.#runValidate(parsed).then(() => this.#remember(token, parsed, alg, key));
    return this.#remember(token, parsed, alg, key);
  }

  #remember(token: string, parsed: ParsedToken, alg: JwsAlgorithm, key: JwksKey): VerifyResult {
    const cache = this.verifiedTokens;
    if (cache === undefined) return { payload: parsed.payload, header: parsed.header };
    const expiresAtMs = ((parsed.payload.exp as number) + this.rules.clockToleranceSeconds) * 1000;
    cache.set(token, { payload: parsed.payload, header: parsed.header, alg, key, expiresAtMs });
    return { payload: { ...parsed.payload }, header: { ...parsed.header } };
  }

  async #verifyThroughCache(
    token: string,
    options: VerifyOptions | number | undefined,
  ): Promise<VerifyResult> {
    const entry = typeof token === 'string' ? this.verifiedTokens!.get(token) : undefined;
    if (entry !== undefined) {
      const checked = this.#checkCachedHit(token, entry);
      const hit = checked instanceof Promise ? await checked : checked;
      if (hit) {
        if (this.validate) await this.#runValidate(hit);
        return unlessBound(hit, options);
      }
    }
    return this.#verifyToken(token, options);
  }

  /**
   * A cache hit, checked again: its key still fits and is in the JWKS, its claims hold now.
   * Answers at once while the key set is fresh; `undefined` sends the token the full way.
   */
  #checkCachedHit(
    token: string,
    entry: VerifiedToken,
  ): VerifyResult | undefined | Promise<VerifyResult | undefined> {
    const { kid } = entry.header;
    const fresh = this.jwks.freshKeysFor(kid, entry.alg);
    if (fresh !== undefined) return this.#cachedResult(token, entry, fresh);
    return this.jwks.keysFor(kid, entry.alg).then(
      (candidates) => this.#cachedResult(token, entry, candidates),
      () => this.#cachedResult(token, entry, undefined),
    );
  }

  #cachedResult(
    token: string,
    entry: VerifiedToken,
    candidates: readonly JwksKey[] | undefined,
  ): VerifyResult | undefined {
    if (!candidates?.some((key) => isSameKey(key, entry.key))) {
      this.verifiedTokens!.delete(token);
      return undefined;
    }
    checkClaims(entry.payload, entry.header, this.rules, Math.floor(this.now() / 1000));
    return { payload: { ...entry.payload }, header: { ...entry.header } };
  }

  /**
   * Verifies the token of an `Authorization: Bearer <jwt>` header value (RFC 6750 §2.1).
   * A missing header or another scheme is `ERR_TOKEN_MISSING`. A DPoP-bound token
   * (`cnf.jkt`) is `ERR_DPOP_BINDING`: a Bearer header cannot prove possession of its key
   * (RFC 9449 §7.2); use {@link JwtVerifier.verifyRequest} for DPoP. A certificate-bound
   * token (`cnf["x5t#S256"]`) is `ERR_CERTIFICATE_BINDING`: the header alone shows no TLS
   * client certificate (RFC 8705 §3); `verifyRequest` checks it.
   *
   * @example
   * const { payload } = await verifier.verifyAuthorizationHeader(req.headers.authorization);
   */
  async verifyAuthorizationHeader<Payload extends JwtPayload = JwtPayload>(
    authorization: string | readonly string[] | null | undefined,
  ): Promise<VerifyResult<Payload>> {
    return verifyBearerHeader<Payload>(this.#requestParts(), authorization);
  }

  /**
   * Verifies the access token of a request: a Fetch `Request`, a Node `IncomingMessage`
   * or `{ method, url, headers }`. `Authorization: Bearer` as {@link JwtVerifier.verifyAuthorizationHeader}
   * does; with the `dpop` option also `Authorization: DPoP` with its `DPoP` proof, checked
   * against the request's method and URL (RFC 9449 §4.3), the token's hash (`ath`), the
   * token's `cnf.jkt`, the server nonce and the replay store. `verify(token)` cannot see
   * the request: this and `authenticate()` are the DPoP-aware paths.
   *
   * The URL a proof's `htu` must name is the request's own unless `options` say how
   * clients reach the API behind a proxy (`publicUrl`, `trustedForwardedHeaders`). A
   * certificate-bound token (`cnf["x5t#S256"]`, RFC 8705) must come with its TLS client
   * certificate (the socket's, or `options.clientCertificate`'s): else `ERR_CERTIFICATE_BINDING`.
   * Rejections carry the `WWW-Authenticate` challenges in `err.wwwAuthenticate()` and, when
   * nonces are on, a fresh nonce in `err.details.dpopNonce` for `DPoP-Nonce`.
   *
   * @example
   * const { payload, dpop } = await verifier.verifyRequest(request, { publicUrl: 'https://api.example.com' });
   * if (dpop?.nonce) response.headers.set('DPoP-Nonce', dpop.nonce);
   * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
   */
  verifyRequest<Payload extends JwtPayload = JwtPayload>(
    request: HttpRequest,
    options?: VerifyRequestOptions,
  ): Promise<RequestVerifyResult<Payload>> {
    return verifyRequestWith(this.#requestParts(), request, options);
  }

  #requestParts(): RequestVerifierParts {
    // verify() answering at once where it can: verifyRequest then needs no promise of its own.
    // The request paths check a bound token's proof or certificate themselves: bound tokens pass here.
    return (this.#parts ??= {
      verify: (token) =>
        this.#decryption !== undefined
          ? this.verify(token, BINDING_CHECKED)
          : this.verifiedTokens === undefined
            ? this.#verifyAtOnce(token)
            : this.#verifyThroughCache(token, BINDING_CHECKED),
      dpop: this.dpop,
      now: this.now,
    });
  }

  /**
   * Discovers the issuer and fetches its JWKS now, so the first request does not wait.
   * From then on (unless `cache.refreshAhead` is false) the JWKS is revalidated in the
   * background before it goes stale; {@link JwtVerifier.close} stops that.
   */
  async warmup(): Promise<void> {
    await this.jwks.warmup();
  }

  /**
   * The cached metadata and JWKS with their fetch times and validators, as JSON-serialisable
   * data for the `cache.snapshot` option of another verifier (a serverless cold start, a
   * new instance). Holds public keys and metadata only.
   *
   * @example
   * await verifier.warmup();
   * await writeFile('jwks-snapshot.json', JSON.stringify(verifier.exportCache()));
   * // later, elsewhere:
   * const warm = new JwtVerifier({ issuer, audience, cache: { snapshot: await readFile('jwks-snapshot.json', 'utf8') } });
   */
  exportCache(): VerifierCacheSnapshot {
    const metadata = metadataSnapshot(this.metadataResource.current);
    const jwks = this.jwks.exportKeySet();
    return {
      format: CACHE_SNAPSHOT_FORMAT,
      issuer: this.issuer,
      exportedAt: this.now(),
      ...(metadata ? { metadata } : {}),
      ...(jwks ? { jwks } : {}),
    };
  }

  /**
   * Stops the background refresh timer. The verifier keeps verifying (fetching on demand)
   * afterwards; calling it again does nothing. The timer never keeps a process alive
   * anyway, so this is for tests and for verifiers you drop before the process ends.
   * Where the runtime has `Symbol.dispose`, `verifier[Symbol.dispose]()` calls this, so a
   * `using` declaration closes the verifier at the end of its block; the declared type has
   * that member wherever the TypeScript lib declares `Symbol.dispose` (`esnext.disposable`,
   * or @types/node), and leaves it out elsewhere.
   *
   * @example
   * const verifier = new JwtVerifier({ issuer, audience });
   * await verifier.warmup();
   * verifier.close();
   * // or, for a verifier that lives in one block:
   * // using scoped = new JwtVerifier({ issuer, audience });
   */
  close(): void {
    this.jwks.close();
  }

  /** The issuer's discovered RFC 8414 / OpenID Connect metadata (cached). */
  async metadata(): Promise<AuthorizationServerMetadata> {
    return (await this.metadataResource.get()).value.metadata;
  }

  #runValidate(parsed: Pick<ParsedToken, 'payload' | 'header'>): Promise<void> {
    return runValidate(this.validate!, parsed.payload, parsed.header);
  }
}

// `[Symbol.dispose](): void` in the declared type wherever the lib declares `Symbol.dispose`
// (`esnext.disposable`, @types/node), so `using` takes a verifier; `Record<never, …>`, nothing,
// elsewhere, so the declarations still compile without it (browsers' projects). The member is
// documented by close(); typedoc.json lists it in intentionallyNotDocumented, as a mapped
// member cannot carry a comment of its own.
export interface JwtVerifier extends Record<
  SymbolConstructor extends { readonly dispose: infer Dispose extends symbol } ? Dispose : never,
  () => void
> {}

// Defined at run time rather than in the class body, for the same reason.
const disposeSymbol = (Symbol as { dispose?: symbol }).dispose;
if (typeof disposeSymbol === 'symbol') {
  Object.defineProperty(JwtVerifier.prototype, disposeSymbol, {
    value(this: JwtVerifier): void {
      this.close();
    },
    writable: true,
    configurable: true,
  });
}

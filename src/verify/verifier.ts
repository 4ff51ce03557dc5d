import { type JwsAlgorithm, isSupportedAlgorithm, parseAlgorithmsOption } from '../token/algorithms.js';
import {
  CACHE_SNAPSHOT_FORMAT,
  type VerifierCacheSnapshot,
  loadMetadataThroughStore,
  metadataSnapshot,
  readSnapshot,
} from '../fleet/snapshot.js';
import { CachedResource } from '../issuer/cached-resource.js';
import { type ClaimRules, checkClaims, normalizeTyp, parseScopesOption } from './claims.js';
import {
  type AuthorizationServerMetadata,
  type DiscoveryMode,
  type DiscoveryResult,
  discoverMetadata,
  parseDiscoveryMode,
  parseIssuerOption,
} from '../issuer/discovery.js';
import { JwtVerifyError, invalidArgument, isJwtVerifyError } from '../errors.js';
import { type VerifierEvent, createEmitter } from '../events.js';
import type { FreshnessBounds } from '../issuer/freshness.js';
import { freshnessMs } from '../issuer/freshness.js';
import {
  type HttpOptions,
  type ResolvedHttpOptions,
  parseOptionUrl,
  positiveNumberOption,
  resolveHttpOptions,
} from '../issuer/verifier-http.js';
import { JwksCache } from '../keys/jwks-cache.js';
import type { JwksKey } from '../token/jwk.js';
import type { JwksStore } from '../fleet/store.js';
import { checkSignature, segmentDecoder } from '../token/signature/index.js';
import { VerifiedTokenCache, type VerifiedToken, isSameKey } from './verified-token-cache.js';
import {
  DEFAULT_MAX_TOKEN_LENGTH,
  type JwtHeader,
  type JwtPayload,
  type ParsedToken,
  parseToken,
} from '../token/parse.js';

/** JWKS and metadata caching. All durations in milliseconds. */
export interface CacheOptions {
  /**
   * How long a JWKS or metadata document is used before it is fetched again when the
   * response has no `Cache-Control: max-age`, and the longest a `max-age` may ask for.
   * Default 600000 (10 minutes).
   */
  maxAgeMs?: number;
  /** The shortest time a document is kept, whatever `max-age`/`no-cache` says. Default 30000. */
  minAgeMs?: number;
  /**
   * Least time between two JWKS refetches triggered by unknown `kid`s; tokens with a new
   * kid that arrive in between wait for the next refetch. Default 5000.
   */
  cooldownMs?: number;
  /** How long past its freshness a key set keeps verifying while the issuer fails. Default 86400000 (24 h). */
  staleIfErrorMs?: number;
  /**
   * Once warm (after `warmup()`, or started from a `snapshot`), revalidate the JWKS in the
   * background at 80–90% of its freshness lifetime, with `If-None-Match`/`If-Modified-Since`,
   * so no request waits on the issuer. The timer is `unref`ed; `close()` stops it.
   * Default true.
   */
  refreshAhead?: boolean;
  /**
   * Share fetched key sets with other verifiers (other instances of a fleet): one fetches
   * from the issuer while the others read its result. See `createRedisJwksStore` and
   * `createMemoryJwksStore`. Default: none (each verifier fetches for itself).
   */
  store?: JwksStore;
  /**
   * Start warm from what `exportCache()` returned earlier (an object or its JSON), e.g.
   * bundled with a serverless function. Checked like fresh responses; a snapshot of another
   * issuer, of a bad shape or past its freshness is ignored (event `snapshot_ignored`).
   */
  snapshot?: VerifierCacheSnapshot | string;
  /**
   * Remember up to this many verified tokens (an LRU keyed by the exact token string), so
   * a token seen again skips decoding and the signature check. Every claim is still
   * checked on each hit with the verifier's clock (`exp`, `nbf`, `iat`, `maxTokenAge`),
   * `validate` still runs, and an entry is dropped when its `exp` passes or its key leaves
   * the JWKS. Tokens over 4096 characters are never cached. Hits return shallow copies of
   * the cached payload and header. Default 0 (off). See docs/performance.md.
   */
  verifiedTokens?: number;
}

/** Options of {@link JwtVerifier}. `issuer` and `audience` are required. */
export interface JwtVerifierOptions extends HttpOptions {
  /** The exact expected `iss`, and the base URL for discovery. */
  issuer: string;
  /**
   * The audience(s) this API accepts: the token's `aud` must contain one of them.
   * Pass `null` to skip the check, explicitly.
   */
  audience: string | readonly string[] | null;
  /** Use this JWKS URL and skip discovery. */
  jwksUri?: string;
  /** Which well-known documents to try. Default `'auto'` (RFC 8414, then OpenID Connect). */
  discovery?: DiscoveryMode;
  /** Accepted JWS algorithms. Default: every supported asymmetric algorithm. */
  algorithms?: readonly JwsAlgorithm[];
  /** Seconds of clock skew tolerated for `exp`, `nbf` and `iat`. Default 0. */
  clockTolerance?: number;
  /** Largest age in seconds, measured from `iat` (then required). */
  maxTokenAge?: number;
  /** Required `typ` header, e.g. `'at+jwt'` (RFC 9068); `application/at+jwt` is the same. */
  typ?: string;
  /** Claims that must be present. */
  requiredClaims?: readonly string[];
  /** Scopes that must all be granted (`scope` string or `scp` array); else `ERR_INSUFFICIENT_SCOPE`. */
  requiredScopes?: readonly string[] | string;
  /** A custom check after all others; throw (or reject) to refuse the token. */
  validate?: (payload: JwtPayload, header: JwtHeader) => void | Promise<void>;
  /** JWKS and metadata caching. */
  cache?: CacheOptions;
  /** Observability: discovery, JWKS fetches, failures, rotations. Exceptions are ignored. */
  onEvent?: (event: VerifierEvent) => void;
  /** Longest token accepted, in characters. Default 32768. */
  maxTokenLength?: number;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. For tests. */
  now?: () => number;
}

/** What a successful verification returns. */
export interface VerifyResult<Payload extends JwtPayload = JwtPayload> {
  payload: Payload;
  header: JwtHeader;
}

// Signature checks waiting on the network or the thread pool, process-wide, plus the calls
// made in the current job (a burst of requests arriving together): the Node signature path
// moves to the thread pool when many are (see signature-node.ts).
let verificationsWaiting = 0;
let callsThisJob = 0;
const endJob = (): void => {
  callsThisJob = 0;
};
// `.then` on a settled promise queues a plain microtask, at a fraction of queueMicrotask's
// cost on Node (which wraps each callback for async hooks).
const settled = Promise.resolve();

const DEFAULT_CACHE = {
  maxAgeMs: 600_000,
  minAgeMs: 30_000,
  cooldownMs: 5_000,
  staleIfErrorMs: 86_400_000,
};

/**
 * Verifies JWTs (access tokens, ID tokens) from one OAuth 2.0 / OpenID Connect issuer:
 * discovers its metadata, fetches and caches its JWKS, picks the key by `kid`, checks the
 * signature, then `iss`, `aud`, `exp`, `nbf`, `iat`, `typ`, scopes and your own rules.
 *
 * @example
 * const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
 * const { payload } = await verifier.verify(token);
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @see https://www.rfc-editor.org/rfc/rfc8725
 */
export class JwtVerifier {
  /** The issuer this verifier trusts, exactly as configured. */
  readonly issuer: string;
  private readonly algorithms: ReadonlySet<JwsAlgorithm>;
  private readonly rules: ClaimRules;
  private readonly validate: JwtVerifierOptions['validate'];
  private readonly maxTokenLength: number;
  private readonly now: () => number;
  private readonly http: ResolvedHttpOptions;
  private readonly metadataResource: CachedResource<DiscoveryResult>;
  private readonly jwks: JwksCache;
  private readonly verifiedTokens: VerifiedTokenCache | undefined;

  constructor(options: JwtVerifierOptions) {
    if (typeof options !== 'object' || options === null) {
      throw invalidArgument('JwtVerifier needs an options object with issuer and audience');
    }
    this.http = resolveHttpOptions(options);
    this.issuer = parseIssuerOption(options.issuer, this.http.allowInsecureHttp);
    this.algorithms = parseAlgorithmsOption(options.algorithms);
    this.rules = {
      issuer: this.issuer,
      audiences: parseAudienceOption(options.audience),
      clockToleranceSeconds: positiveNumberOption(options.clockTolerance, 'clockTolerance', 0),
      maxTokenAgeSeconds:
        options.maxTokenAge === undefined
          ? undefined
          : positiveNumberOption(options.maxTokenAge, 'maxTokenAge', 0),
      typ: parseTypOption(options.typ),
      requiredClaims: parseClaimNames(options.requiredClaims),
      requiredScopes: parseScopesOption(options.requiredScopes),
    };
    if (options.validate !== undefined && typeof options.validate !== 'function') {
      throw invalidArgument('validate must be a function');
    }
    this.validate = options.validate;
    this.maxTokenLength = positiveNumberOption(
      options.maxTokenLength,
      'maxTokenLength',
      DEFAULT_MAX_TOKEN_LENGTH,
    );
    if (options.now !== undefined && typeof options.now !== 'function')
      throw invalidArgument('now must be a function');
    // Looked up per call, so fake timers installed after construction still apply.
    this.now = options.now ?? (() => Date.now());
    const cache = parseCacheOptions(options.cache);
    const freshness: FreshnessBounds = { maxAgeMs: cache.maxAgeMs, minAgeMs: cache.minAgeMs };
    const emitEvent = createEmitter(options.onEvent);
    const verifiedTokens = parseVerifiedTokensOption(options.cache?.verifiedTokens);
    this.verifiedTokens = verifiedTokens ? new VerifiedTokenCache(verifiedTokens, this.now) : undefined;
    const emit: typeof emitEvent = (event) => {
      if (event.type === 'key_rotated') this.verifiedTokens?.dropKids(event.removed);
      emitEvent(event);
    };
    const mode = parseDiscoveryMode(options.discovery);

    const fleet = parseFleetOptions(options.cache);
    const discoverNow = async () => {
      const result = await discoverMetadata(this.issuer, mode, this.http, {
        requireJwksUri: options.jwksUri === undefined,
      });
      emit({
        type: 'discovery',
        issuer: this.issuer,
        url: result.url,
        kind: result.kind,
        jwksUri: result.metadata.jwks_uri,
      });
      return { value: result, freshForMs: freshnessMs(result.headers, freshness) };
    };
    this.metadataResource = new CachedResource<DiscoveryResult>({
      load: (previous) =>
        fleet.store
          ? loadMetadataThroughStore({
              store: fleet.store,
              issuer: this.issuer,
              mode,
              jwksUri: options.jwksUri,
              previous,
              now: this.now,
              maxAgeMs: cache.maxAgeMs,
              allowInsecureHttp: this.http.allowInsecureHttp,
              timeoutMs: this.http.timeoutMs,
              emit,
              fetch: discoverNow,
            })
          : discoverNow(),
      now: this.now,
      staleIfErrorMs: cache.staleIfErrorMs,
      failureBackoffMs: cache.cooldownMs,
      onError: (error, servingStale) =>
        emit({ type: 'discovery_failed', issuer: this.issuer, error, servingStale }),
    });

    const fixedJwksUri =
      options.jwksUri === undefined
        ? undefined
        : parseOptionUrl(options.jwksUri, 'jwksUri', this.http.allowInsecureHttp).href;
    this.jwks = new JwksCache({
      jwksUri: async () =>
        fixedJwksUri ?? ((await this.metadataResource.get()).value.metadata.jwks_uri as string),
      http: this.http,
      freshness,
      cooldownMs: cache.cooldownMs,
      staleIfErrorMs: cache.staleIfErrorMs,
      now: this.now,
      emit,
      store: fleet.store,
      refreshAhead: fleet.refreshAhead,
    });
    if (fleet.snapshot !== undefined) {
      const read = readSnapshot(fleet.snapshot, {
        issuer: this.issuer,
        jwksUri: fixedJwksUri,
        now: this.now(),
        maxAgeMs: cache.maxAgeMs,
        allowInsecureHttp: this.http.allowInsecureHttp,
      });
      if (read.metadata) {
        this.metadataResource.restore(read.metadata);
        emit({
          type: 'metadata_loaded',
          issuer: this.issuer,
          url: read.metadata.value.url,
          source: 'snapshot',
        });
      }
      if (read.jwks) this.jwks.restoreKeySet(read.jwks);
      for (const reason of read.ignored) emit({ type: 'snapshot_ignored', reason });
    }
  }

  /**
   * Verifies a compact JWS and returns its payload and header. Rejects with a
   * {@link JwtVerifyError} whose `code` says why.
   *
   * @example
   * const { payload } = await verifier.verify<{ sub: string; scope: string }>(token);
   */
  verify<Payload extends JwtPayload = JwtPayload>(token: string): Promise<VerifyResult<Payload>> {
    const result =
      this.verifiedTokens === undefined ? this.verifyToken(token) : this.verifyThroughCache(token);
    return result as Promise<VerifyResult<Payload>>;
  }

  /**
   * The full verification. Not an async function: a warm call makes one promise, the one it
   * returns, and an error thrown on the way becomes its rejection (see docs/performance.md).
   */
  private verifyToken(token: string): Promise<VerifyResult> {
    try {
      const parsed = parseToken(token, this.maxTokenLength, segmentDecoder);
      const alg = this.allowedAlgorithm(parsed.header.alg);
      return Promise.resolve(this.checkToken(token, parsed, alg));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** After the signature verified with `key`: the claims, `validate`, and the verified-token cache. */
  private accept(
    token: string,
    parsed: ParsedToken,
    alg: JwsAlgorithm,
    key: JwksKey,
  ): VerifyResult | Promise<VerifyResult> {
    checkClaims(parsed.payload, parsed.header, this.rules, Math.floor(this.now() / 1000));
    if (this.validate) return this.runValidate(parsed).then(() => this.remember(token, parsed, alg, key));
    return this.remember(token, parsed, alg, key);
  }

  private remember(token: string, parsed: ParsedToken, alg: JwsAlgorithm, key: JwksKey): VerifyResult {
    const cache = this.verifiedTokens;
    if (cache === undefined) return { payload: parsed.payload, header: parsed.header };
    const expiresAtMs = ((parsed.payload.exp as number) + this.rules.clockToleranceSeconds) * 1000;
    cache.set(token, { payload: parsed.payload, header: parsed.header, alg, key, expiresAtMs });
    return { payload: { ...parsed.payload }, header: { ...parsed.header } };
  }

  private async verifyThroughCache(token: string): Promise<VerifyResult> {
    const entry = typeof token === 'string' ? this.verifiedTokens!.get(token) : undefined;
    if (entry !== undefined) {
      const checked = this.checkCachedHit(token, entry);
      const hit = checked instanceof Promise ? await checked : checked;
      if (hit) {
        if (this.validate) await this.runValidate(hit);
        return hit;
      }
    }
    return this.verifyToken(token);
  }

  /**
   * A cache hit, checked again: its key still fits and is in the JWKS, its claims hold now.
   * Answers at once while the key set is fresh; `undefined` sends the token the full way.
   */
  private checkCachedHit(
    token: string,
    entry: VerifiedToken,
  ): VerifyResult | undefined | Promise<VerifyResult | undefined> {
    const { kid } = entry.header;
    const fresh = this.jwks.freshKeysFor(kid, entry.alg);
    if (fresh !== undefined) return this.cachedResult(token, entry, fresh);
    return this.jwks.keysFor(kid, entry.alg).then(
      (candidates) => this.cachedResult(token, entry, candidates),
      () => this.cachedResult(token, entry, undefined),
    );
  }

  private cachedResult(
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
   * A missing header or another scheme is `ERR_TOKEN_MISSING`.
   */
  async verifyAuthorizationHeader<Payload extends JwtPayload = JwtPayload>(
    authorization: string | readonly string[] | null | undefined,
  ): Promise<VerifyResult<Payload>> {
    return this.verify<Payload>(bearerToken(authorization));
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
   * `using` declaration closes the verifier at the end of its block.
   *
   * @example
   * const verifier = new JwtVerifier({ issuer, audience });
   * await verifier.warmup();
   * verifier.close();
   */
  close(): void {
    this.jwks.close();
  }

  /** The issuer's discovered RFC 8414 / OpenID Connect metadata (cached). */
  async metadata(): Promise<AuthorizationServerMetadata> {
    return (await this.metadataResource.get()).value.metadata;
  }

  private allowedAlgorithm(alg: string): JwsAlgorithm {
    if (isSupportedAlgorithm(alg) && this.algorithms.has(alg)) return alg;
    throw new JwtVerifyError(
      'ERR_ALG_NOT_ALLOWED',
      `the token is signed with ${JSON.stringify(alg)}, which is not allowed; allowed: ${[...this.algorithms].join(', ')}`,
    );
  }

  /**
   * The signature, with the first key of the cached JWKS that verifies it, then the claims.
   * Answers at once (no promise) when a fresh key set is in hand and the signature path
   * answers synchronously: the warm path.
   */
  private checkToken(
    token: string,
    parsed: ParsedToken,
    alg: JwsAlgorithm,
  ): VerifyResult | Promise<VerifyResult> {
    const candidates = this.jwks.freshKeysFor(parsed.header.kid, alg);
    if (candidates === undefined) return this.checkWithFetchedKeys(token, parsed, alg);
    // Counted until the current job ends, not until this call returns: calls made together
    // (a burst of requests) all count as in flight, which is what hands a pile-up to the pool.
    if (callsThisJob++ === 0) void settled.then(endJob);
    return this.checkCandidates(token, parsed, alg, candidates, 0, false);
  }

  private async checkWithFetchedKeys(
    token: string,
    parsed: ParsedToken,
    alg: JwsAlgorithm,
  ): Promise<VerifyResult> {
    verificationsWaiting++;
    try {
      const candidates = await this.jwks.keysFor(parsed.header.kid, alg);
      return await this.checkCandidates(token, parsed, alg, candidates, 0, false);
    } finally {
      verificationsWaiting--;
    }
  }

  /**
   * Tries the keys from `from` on, synchronously for as long as the signature path answers
   * so. A thread-pool check is counted as waiting until it answers, and one `.then` on it
   * goes on to the claims or the next key: one promise per pooled verify besides the pool's.
   */
  private checkCandidates(
    token: string,
    parsed: ParsedToken,
    alg: JwsAlgorithm,
    candidates: readonly JwksKey[],
    from: number,
    imported: boolean,
  ): VerifyResult | Promise<VerifyResult> {
    for (let i = from; i < candidates.length; i++) {
      const key = candidates[i]!;
      const result = checkSignature(parsed, key, alg, verificationsWaiting + callsThisJob);
      if (typeof result !== 'string') {
        verificationsWaiting++;
        return result.then((check) => {
          verificationsWaiting--;
          if (check === 'valid') return this.accept(token, parsed, alg, key);
          return this.checkCandidates(token, parsed, alg, candidates, i + 1, imported || check === 'invalid');
        });
      }
      if (result === 'valid') return this.accept(token, parsed, alg, key);
      if (result === 'invalid') imported = true;
    }
    const kid =
      parsed.header.kid === undefined ? 'the only fitting key' : `kid ${JSON.stringify(parsed.header.kid)}`;
    if (!imported) {
      throw new JwtVerifyError('ERR_KEY_NOT_FOUND', `the JWKS key (${kid}) could not be imported for ${alg}`);
    }
    throw new JwtVerifyError('ERR_SIGNATURE_INVALID', `the ${alg} signature does not verify with ${kid}`);
  }

  private async runValidate(parsed: Pick<ParsedToken, 'payload' | 'header'>): Promise<void> {
    try {
      await this.validate!(parsed.payload, parsed.header);
    } catch (error) {
      if (isJwtVerifyError(error)) throw error;
      const reason = error instanceof Error ? error.message : String(error);
      throw new JwtVerifyError('ERR_CLAIM_INVALID', `the validate callback refused the token: ${reason}`, {
        cause: error,
      });
    }
  }
}

// Defined at run time rather than declared in the class: the declarations must compile
// without the `esnext.disposable` lib (browsers' projects), where `Symbol.dispose` has no type.
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

/**
 * Extracts the token from an `Authorization` header value: `Bearer` (any case), one or
 * more spaces, then a b64token (RFC 6750 §2.1).
 */
export function bearerToken(authorization: string | readonly string[] | null | undefined): string {
  if (authorization === undefined || authorization === null || authorization === '') {
    throw new JwtVerifyError('ERR_TOKEN_MISSING', 'no Authorization header');
  }
  if (typeof authorization !== 'string') {
    throw new JwtVerifyError('ERR_TOKEN_MALFORMED', 'more than one Authorization header');
  }
  const match = /^([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?: +(.*))?$/.exec(authorization.trim());
  if (!match || match[1]!.toLowerCase() !== 'bearer') {
    throw new JwtVerifyError('ERR_TOKEN_MISSING', 'the Authorization header has no Bearer credentials');
  }
  const credentials = match[2] ?? '';
  if (credentials === '') throw new JwtVerifyError('ERR_TOKEN_MISSING', 'the Bearer credentials are empty');
  if (!/^[A-Za-z0-9\-._~+/]+=*$/.test(credentials)) {
    throw new JwtVerifyError(
      'ERR_TOKEN_MALFORMED',
      'the Bearer credentials are not a single b64token (RFC 6750 §2.1)',
    );
  }
  return credentials;
}

function parseAudienceOption(value: unknown): readonly string[] | null {
  if (value === null) return null;
  if (value === undefined) {
    throw invalidArgument(
      'audience is required: the API identifier(s) tokens must be issued for (pass null to skip the check explicitly)',
    );
  }
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((aud) => typeof aud !== 'string' || aud === '')
  ) {
    throw invalidArgument('audience must be a non-empty string, a non-empty array of strings, or null');
  }
  return [...list] as string[];
}

function parseTypOption(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw invalidArgument('typ must be a non-empty string');
  return normalizeTyp(value);
}

function parseClaimNames(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string')) {
    throw invalidArgument('requiredClaims must be an array of claim names');
  }
  return [...value] as string[];
}

function parseFleetOptions(
  cache: CacheOptions | undefined,
): Pick<CacheOptions, 'store' | 'snapshot'> & { refreshAhead: boolean } {
  if (cache?.refreshAhead !== undefined && typeof cache.refreshAhead !== 'boolean') {
    throw invalidArgument('cache.refreshAhead must be a boolean');
  }
  const store = cache?.store;
  if (
    store !== undefined &&
    (typeof store !== 'object' ||
      store === null ||
      typeof store.get !== 'function' ||
      typeof store.set !== 'function' ||
      (store.acquire !== undefined && typeof store.acquire !== 'function'))
  ) {
    throw invalidArgument(
      'cache.store must be a JwksStore: an object with get, set and optionally acquire functions',
    );
  }
  return { store, snapshot: cache?.snapshot, refreshAhead: cache?.refreshAhead ?? true };
}

function parseVerifiedTokensOption(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 10_000_000) {
    throw invalidArgument('cache.verifiedTokens must be a whole number of tokens from 0 (off) to 10000000');
  }
  return value;
}

function parseCacheOptions(
  cache: CacheOptions | undefined,
): Required<Pick<CacheOptions, 'maxAgeMs' | 'minAgeMs' | 'cooldownMs' | 'staleIfErrorMs'>> {
  if (cache !== undefined && (typeof cache !== 'object' || cache === null)) {
    throw invalidArgument('cache must be an object');
  }
  const result = {
    maxAgeMs: positiveNumberOption(cache?.maxAgeMs, 'cache.maxAgeMs', DEFAULT_CACHE.maxAgeMs),
    minAgeMs: positiveNumberOption(cache?.minAgeMs, 'cache.minAgeMs', DEFAULT_CACHE.minAgeMs),
    cooldownMs: positiveNumberOption(cache?.cooldownMs, 'cache.cooldownMs', DEFAULT_CACHE.cooldownMs),
    staleIfErrorMs: positiveNumberOption(
      cache?.staleIfErrorMs,
      'cache.staleIfErrorMs',
      DEFAULT_CACHE.staleIfErrorMs,
    ),
  };
  result.minAgeMs = Math.min(result.minAgeMs, result.maxAgeMs);
  return result;
}

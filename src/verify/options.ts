/** The verifier's options: their types, one defaults object, and `resolveVerifierOptions()` that checks them. */
import { type JwsAlgorithm, parseAlgorithmsOption } from '../token/algorithms.js';
import { DEFAULT_MAX_TOKEN_LENGTH, type JwtHeader, type JwtPayload } from '../token/parse.js';
import { invalidArgument } from '../errors.js';
import type { VerifierEvent } from '../events.js';
import { type DiscoveryMode, parseDiscoveryMode, parseIssuerOption } from '../issuer/discovery.js';
import type { FreshnessBounds } from '../issuer/freshness.js';
import { type HttpOptions, type ResolvedHttpOptions } from '../issuer/http.js';
import {
  booleanOption,
  functionOption,
  nonEmptyStringOption,
  nonNegativeNumberOption,
  parseOptionUrl,
} from '../option-checks.js';
import { resolveHttpOptions } from '../issuer/verifier-http.js';
import type { JwksStore } from '../fleet/store.js';
import type { VerifierCacheSnapshot } from './snapshot.js';
import { type DpopOptions, type ResolvedDpopOptions, resolveDpopOptions } from '../dpop/options.js';
import { type ClaimRules, normalizeTyp, parseScopesOption } from './claims.js';
import { parseAuthenticationRequirement } from './authentication.js';
import { type DecryptionOptions, type TokenDecryptor, resolveDecryptionOptions } from './decryption.js';

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
  /**
   * Step-up authentication (RFC 9470): the accepted `acr` values; a token whose `acr` is
   * none of them, or that has no `acr`, is `ERR_INSUFFICIENT_AUTHENTICATION`, whose
   * challenge asks for them (`acr_values`). Default: any `acr`, or none.
   */
  acrValues?: readonly string[];
  /**
   * Step-up authentication (RFC 9470): the longest time since the user logged in, in
   * seconds, measured from `auth_time` (then required) with `clockTolerance`; else
   * `ERR_INSUFFICIENT_AUTHENTICATION`, whose challenge asks for a login that fresh
   * (`max_age`). Default: no limit.
   */
  maxAuthAgeSeconds?: number;
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
  /**
   * Accept DPoP-bound tokens (RFC 9449) in `verifyRequest()` and `authenticate()`: the
   * `DPoP` scheme with a proof of the client's key. Default: off (Bearer only; a DPoP-bound
   * token is still refused when sent as Bearer).
   */
  dpop?: DpopOptions;
  /**
   * Accept encrypted access tokens: a compact JWE (RFC 7516) whose plaintext is a signed
   * JWT, decrypted with these keys, then verified exactly as a plain token. With
   * `required: true`, unencrypted tokens are refused. Default: off (a JWE is
   * `ERR_TOKEN_MALFORMED`). See docs/advanced-tokens.md.
   */
  decryption?: DecryptionOptions;
}

/** Options of `verify(token, options)` on every verifier. */
/**
 * Options of `verify(token, options)`, the same on every verifier.
 *
 * @example
 * // Your code checks the TLS client certificate itself:
 * const { payload } = await verifier.verify(token, { allowBoundTokens: true });
 * await checkCertificateBinding(payload, certificate);
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7.2
 */
export interface VerifyOptions {
  /**
   * Accept a sender-constrained token: DPoP-bound (`cnf.jkt`, RFC 9449) or bound to a TLS
   * client certificate (`cnf["x5t#S256"]`, RFC 8705). `verify(token)` sees neither the proof
   * nor the certificate, so by default such a token is refused (`ERR_DPOP_BINDING`,
   * `ERR_CERTIFICATE_BINDING`): a stolen one would otherwise work as a bearer token. Set it
   * only when you check the binding yourself (e.g. with `checkCertificateBinding`);
   * `verifyRequest()`, `authenticate()` and the adapters check it for you. Default false.
   */
  allowBoundTokens?: boolean;
}

/** What a successful verification returns. */
export interface VerifyResult<Payload extends JwtPayload = JwtPayload> {
  payload: Payload;
  header: JwtHeader;
}

/** Every default of {@link JwtVerifierOptions}, in one place. */
export const VERIFIER_DEFAULTS = {
  cache: {
    maxAgeMs: 600_000,
    minAgeMs: 30_000,
    cooldownMs: 5_000,
    staleIfErrorMs: 86_400_000,
    refreshAhead: true,
    verifiedTokens: 0,
  },
  clockTolerance: 0,
  maxTokenLength: DEFAULT_MAX_TOKEN_LENGTH,
  discovery: 'auto',
} as const;

/** The largest `cache.verifiedTokens`. */
const MAX_VERIFIED_TOKENS = 10_000_000;

/** The cache options, checked and defaulted. */
export interface ResolvedCacheOptions extends FreshnessBounds {
  cooldownMs: number;
  staleIfErrorMs: number;
  refreshAhead: boolean;
  verifiedTokens: number;
  store: JwksStore | undefined;
  snapshot: VerifierCacheSnapshot | string | undefined;
}

/** {@link JwtVerifierOptions}, checked and defaulted: what the verifier is wired from. */
export interface ResolvedVerifierOptions {
  issuer: string;
  http: ResolvedHttpOptions;
  algorithms: ReadonlySet<JwsAlgorithm>;
  rules: ClaimRules;
  validate: JwtVerifierOptions['validate'];
  maxTokenLength: number;
  now: () => number;
  discovery: DiscoveryMode;
  /** The `jwksUri` option as a checked URL; undefined means discovery finds it. */
  jwksUri: string | undefined;
  cache: ResolvedCacheOptions;
  onEvent: JwtVerifierOptions['onEvent'];
  dpop: ResolvedDpopOptions | undefined;
  decryption: TokenDecryptor | undefined;
}

/**
 * Checks every option at once, so a caller's mistake is a TypeError at construction, not
 * on the first request.
 */
export function resolveVerifierOptions(options: JwtVerifierOptions): ResolvedVerifierOptions {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('JwtVerifier needs an options object with issuer and audience');
  }
  const http = resolveHttpOptions(options);
  const issuer = parseIssuerOption(options.issuer, http.allowInsecureHttp);
  functionOption(options.validate, 'validate');
  functionOption(options.now, 'now');
  // Looked up per call, so fake timers installed after construction still apply.
  const now = options.now ?? (() => Date.now());
  const maxTokenLength = nonNegativeNumberOption(
    options.maxTokenLength,
    'maxTokenLength',
    VERIFIER_DEFAULTS.maxTokenLength,
  );
  return {
    issuer,
    http,
    algorithms: parseAlgorithmsOption(options.algorithms),
    rules: {
      issuer,
      audiences: parseAudienceOption(options.audience),
      clockToleranceSeconds: nonNegativeNumberOption(
        options.clockTolerance,
        'clockTolerance',
        VERIFIER_DEFAULTS.clockTolerance,
      ),
      maxTokenAgeSeconds:
        options.maxTokenAge === undefined
          ? undefined
          : nonNegativeNumberOption(options.maxTokenAge, 'maxTokenAge', 0),
      typ: parseTypOption(options.typ),
      requiredClaims: parseClaimNamesOption(options.requiredClaims),
      requiredScopes: parseScopesOption(options.requiredScopes),
      authentication: parseAuthenticationRequirement(options.acrValues, options.maxAuthAgeSeconds, {
        acrValues: 'acrValues',
        maxAgeSeconds: 'maxAuthAgeSeconds',
      }),
    },
    validate: options.validate,
    maxTokenLength,
    now,
    discovery: parseDiscoveryMode(options.discovery),
    jwksUri:
      options.jwksUri === undefined
        ? undefined
        : parseOptionUrl(options.jwksUri, 'jwksUri', http.allowInsecureHttp).href,
    cache: parseCacheOption(options.cache),
    onEvent: options.onEvent,
    dpop: resolveDpopOptions(options.dpop, now),
    decryption: resolveDecryptionOptions(options.decryption, maxTokenLength),
  };
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
  return normalizeTyp(nonEmptyStringOption(value, 'typ'));
}

function parseClaimNamesOption(value: unknown): readonly string[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.some((name) => typeof name !== 'string')) {
    throw invalidArgument('requiredClaims must be an array of claim names');
  }
  return [...value] as string[];
}

function parseCacheOption(cache: CacheOptions | undefined): ResolvedCacheOptions {
  if (cache !== undefined && (typeof cache !== 'object' || cache === null)) {
    throw invalidArgument('cache must be an object');
  }
  const defaults = VERIFIER_DEFAULTS.cache;
  booleanOption(cache?.refreshAhead, 'cache.refreshAhead');
  const maxAgeMs = nonNegativeNumberOption(cache?.maxAgeMs, 'cache.maxAgeMs', defaults.maxAgeMs);
  return {
    maxAgeMs,
    minAgeMs: Math.min(
      nonNegativeNumberOption(cache?.minAgeMs, 'cache.minAgeMs', defaults.minAgeMs),
      maxAgeMs,
    ),
    cooldownMs: nonNegativeNumberOption(cache?.cooldownMs, 'cache.cooldownMs', defaults.cooldownMs),
    staleIfErrorMs: nonNegativeNumberOption(
      cache?.staleIfErrorMs,
      'cache.staleIfErrorMs',
      defaults.staleIfErrorMs,
    ),
    refreshAhead: cache?.refreshAhead ?? defaults.refreshAhead,
    verifiedTokens: parseVerifiedTokensOption(cache?.verifiedTokens),
    store: parseStoreOption(cache?.store),
    snapshot: cache?.snapshot,
  };
}

function parseStoreOption(store: unknown): JwksStore | undefined {
  if (store === undefined) return undefined;
  const candidate = store as Partial<JwksStore> | null;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.get !== 'function' ||
    typeof candidate.set !== 'function' ||
    (candidate.acquire !== undefined && typeof candidate.acquire !== 'function')
  ) {
    throw invalidArgument(
      'cache.store must be a JwksStore: an object with get, set and optionally acquire functions',
    );
  }
  return candidate as JwksStore;
}

function parseVerifiedTokensOption(value: unknown): number {
  if (value === undefined) return VERIFIER_DEFAULTS.cache.verifiedTokens;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_VERIFIED_TOKENS) {
    throw invalidArgument(
      `cache.verifiedTokens must be a whole number of tokens from 0 (off) to ${MAX_VERIFIED_TOKENS}`,
    );
  }
  return value;
}

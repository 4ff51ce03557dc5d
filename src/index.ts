/**
 * `oauth-jwt-verify`: verify JWTs from an OAuth 2.0 / OpenID Connect issuer. Discovery
 * (RFC 8414, then OpenID Connect), a JWKS cache that survives rotation and outages, RFC 9068
 * claim checks, and one {@link JwtVerifyError} with a stable `code` for every rejection.
 * Web APIs only (jose and the global `fetch`): Node, browsers, Deno, Bun and Workers.
 *
 * @example
 * import { JwtVerifier } from 'oauth-jwt-verify';
 * const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
 * const { payload } = await verifier.verify(token);
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @module
 */
export { JwtVerifier, bearerToken } from './verifier.js';
export type { CacheOptions, JwtVerifierOptions, VerifyResult } from './verifier.js';
export { MultiIssuerVerifier } from './multi-issuer.js';
export { createMemoryJwksStore } from './jwks-store.js';
export type { JwksStore, MemoryJwksStoreOptions, StoredKeySet } from './jwks-store.js';
export { createRedisJwksStore } from './redis-jwks-store.js';
export type { RedisJwksStoreClient, RedisJwksStoreOptions } from './redis-jwks-store.js';
export type { VerifierCacheSnapshot } from './cache-snapshot.js';
export { authenticate } from './authenticate.js';
export type {
  AuthenticateErrorBody,
  AuthenticateFailure,
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  AuthenticateSuccess,
  TokenVerifier,
} from './authenticate.js';
export { JwtVerifyError, isJwtVerifyError, ERROR_STATUS } from './errors.js';
export type { JwtVerifyErrorCode, JwtVerifyErrorDetails } from './errors.js';
export { discover, discoveryUrls } from './discovery.js';
export type {
  AuthorizationServerMetadata,
  DiscoveryCandidate,
  DiscoveryMode,
  DiscoverOptions,
} from './discovery.js';
export { decodeUnverified } from './token.js';
export type { JwtHeader, JwtPayload } from './token.js';
export { SUPPORTED_ALGORITHMS } from './algorithms.js';
export type { JwsAlgorithm } from './algorithms.js';
export type { PublicJwk } from './jwk.js';
export type { VerifierEvent, VerifierEventType } from './events.js';
export type { FetchLike, HttpOptions } from './http.js';

/**
 * `oauth-jwt-verify`: verify JWTs from an OAuth 2.0 / OpenID Connect issuer. Discovery
 * (RFC 8414, then OpenID Connect), a JWKS cache that survives rotation and outages, RFC 9068
 * claim checks, and one {@link JwtVerifyError} with a stable `code` for every rejection.
 * Runs on Node (signatures through node:crypto) and on Web runtimes (jose and Web Crypto):
 * browsers, Deno, Bun and Workers. Transport is the global `fetch`, looked up per request.
 *
 * @example
 * import { JwtVerifier } from 'oauth-jwt-verify';
 * const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
 * const { payload } = await verifier.verify(token);
 * @see https://www.rfc-editor.org/rfc/rfc9068
 * @module
 */
// Verifying JWTs: the verifier, its options and results, several issuers, ID tokens.
export { JwtVerifier } from './verify/verifier.js';
export type { CacheOptions, JwtVerifierOptions, VerifyOptions, VerifyResult } from './verify/options.js';
export type { DecryptionKey, DecryptionOptions } from './verify/decryption.js';
export { CONTENT_ENCRYPTION_ALGORITHMS, KEY_MANAGEMENT_ALGORITHMS } from './token/jwe.js';
export type { ContentEncryptionAlgorithm, KeyManagementAlgorithm } from './token/jwe.js';
export { MultiIssuerVerifier } from './verify/multi-issuer.js';
export type { IssuerVerifier } from './verify/multi-issuer.js';
export { verifyIdToken } from './verify/id-token.js';
export type { VerifyIdTokenOptions } from './verify/id-token.js';
export { decodeUnverified } from './token/parse.js';
export type { JwtHeader, JwtPayload } from './token/parse.js';
export { SUPPORTED_ALGORITHMS } from './token/algorithms.js';
export type { JwsAlgorithm, MlDsaAlgorithm } from './token/algorithms.js';
export type { PublicJwk } from './token/jwk.js';
export type { VerifierEvent, VerifierEventType } from './events.js';

// Errors: one class, a stable code for every rejection, the challenges to answer with.
export { JwtVerifyError, isJwtVerifyError, ERROR_STATUS } from './errors.js';
export type { JwtVerifyErrorCode, JwtVerifyErrorDetails } from './errors.js';
export type { AuthChallenge, AuthScheme, AuthenticationRequirement } from './errors.js';

// Opaque tokens: RFC 7662 introspection, RFC 9701 signed answers, JWT-or-introspection.
export { IntrospectionVerifier } from './verify/introspection-verifier.js';
export type { IntrospectionVerifierOptions } from './verify/introspection-verifier.js';
export type { IntrospectionCacheOptions } from './introspection/cache.js';
export type { ClientSecretMethod } from './issuer/client-auth.js';
export { JwtOrIntrospectionVerifier } from './verify/jwt-or-introspection.js';
export type { JwtOrIntrospectionVerifierOptions } from './verify/jwt-or-introspection.js';

// Requests: the Authorization header, the request shapes read, verifyRequest()'s options and result.
export { bearerToken } from './verify/bearer.js';
export type { FetchRequestLike, HttpRequest, NodeRequestLike } from './request/http-request.js';
export type { ForwardedHeader, RequestUrlOptions } from './request/public-url.js';
export type { RequestVerifyResult, VerifyRequestOptions } from './verify/request.js';

// Sender-constrained tokens: DPoP (RFC 9449) and its replay stores, certificate binding (RFC 8705).
export type { DpopNonceOptions, DpopOptions } from './dpop/options.js';
export type { DpopProofHeader, DpopProofPayload } from './dpop/proof.js';
export type { DpopResult } from './dpop/verify-request.js';
export { createMemoryDpopReplayStore } from './dpop/replay-store.js';
export type { DpopReplayStore, MemoryDpopReplayStoreOptions } from './dpop/replay-store.js';
export { createRedisDpopReplayStore } from './dpop/redis-replay-store.js';
export type { RedisDpopReplayStoreClient, RedisDpopReplayStoreOptions } from './dpop/redis-replay-store.js';
export { certificateThumbprint, checkCertificateBinding } from './verify/certificate-binding.js';
export type { ClientCertificate } from './verify/certificate-binding.js';

// Caches shared by a fleet, and snapshots to start warm.
export { createMemoryJwksStore } from './fleet/memory-store.js';
export type { MemoryJwksStoreOptions } from './fleet/memory-store.js';
export type { JwksStore } from './fleet/store.js';
export { createRedisJwksStore } from './fleet/redis-store.js';
export type { RedisJwksStoreClient, RedisJwksStoreOptions } from './fleet/redis-store.js';
export type { StoredKeySet } from './keys/key-set.js';
export type { VerifierCacheSnapshot } from './verify/snapshot.js';

// The issuer: discovery (RFC 8414, OpenID Connect) and the transport.
export { discover, discoveryUrls } from './issuer/discovery.js';
export type {
  AuthorizationServerMetadata,
  DiscoveryCandidate,
  DiscoveryMode,
  DiscoverOptions,
} from './issuer/discovery.js';
export type { FetchLike, HttpOptions } from './issuer/http.js';

// Resource servers: authenticate() as a pure decision, RFC 9728 protected resource metadata.
export { authenticate } from './server/authenticate.js';
export type {
  AuthenticateErrorBody,
  AuthenticateFailure,
  AuthenticateOptions,
  AuthenticateRequest,
  AuthenticateResult,
  AuthenticateSuccess,
  TokenVerifier,
} from './server/authenticate.js';
export { protectedResource } from './server/protected-resource.js';
export type { ProtectedResource, ProtectedResourceOptions } from './server/protected-resource.js';
export { answerResourceMetadata, protectedResourceMetadata } from './server/resource-metadata.js';
export type {
  ProtectedResourceMetadataOptions,
  ResourceMetadataAnswer,
  ResourceMetadataRequest,
} from './server/resource-metadata.js';
export { resourceMetadataUrl } from './issuer/resource-metadata.js';
export type { ProtectedResourceMetadata } from './issuer/resource-metadata.js';

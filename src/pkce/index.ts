/**
 * `oauth-jwt-verify/pkce`: the authorization-code flow with PKCE for single-page apps,
 * browser-safe (Web Crypto and `fetch` only; no jose, no Node built-ins).
 *
 * @example
 * import { discover, buildAuthorizationUrl } from 'oauth-jwt-verify/pkce';
 * const metadata = await discover('https://signin.altostrat.io/');
 * const { url } = await buildAuthorizationUrl(metadata, { clientId: 'my-spa', redirectUri: location.href });
 * @see https://www.rfc-editor.org/rfc/rfc7636
 * @module
 */
export { discover } from './discover.js';
export type { AuthorizationServerMetadata, DiscoverOptions, DiscoveryMode } from '../issuer/discovery.js';
export { JwtVerifyError, isJwtVerifyError } from '../errors.js';
export type { JwtVerifyErrorCode, JwtVerifyErrorDetails } from '../errors.js';
export type { FetchLike, HttpOptions } from '../issuer/http.js';
export { createPkcePair } from './pkce.js';
export type { PkcePair } from './pkce.js';
export { buildAuthorizationUrl, parseAuthorizationResponse } from './authorization.js';
export type {
  AuthorizationRequest,
  AuthorizationResponse,
  AuthorizationUrlOptions,
  ParseAuthorizationResponseOptions,
} from './authorization.js';
export { exchangeAuthorizationCode, refreshTokens, revokeToken } from './token.js';
export type {
  ClientOptions,
  ExchangeAuthorizationCodeOptions,
  RefreshTokensOptions,
  RevokeTokenOptions,
  TokenResponse,
} from './token.js';
export { AuthorizationResponseError, TokenEndpointError, TokenEndpointRefusedError } from './errors.js';
export type { AuthorizationResponseErrorCode, OAuthErrorFields } from './errors.js';
export { createDpopKeyPair } from './dpop/key-pair.js';
export type { DpopAlgorithm, DpopKeyPairOptions } from './dpop/key-pair.js';
export { createDpopHandle } from './dpop/handle.js';
export type { DpopAnswer, DpopHandle, DpopHandleOptions, DpopProofOptions } from './dpop/handle.js';
export { fetchWithDpop } from './dpop/fetch.js';
export { createIndexedDbDpopStore, createMemoryDpopStore } from './dpop/store.js';
export type { DpopStore, IndexedDbDpopStoreOptions } from './dpop/store.js';

/**
 * `oauth-jwt-verify/testing`: a stub OAuth 2.0 / OpenID Connect issuer for tests.
 * Node only (`listen` uses `node:http`); msw is an optional peer dependency.
 * @packageDocumentation
 */
export { createTestIssuer } from './issuer.js';
export { startIssuerServer } from './server/start.js';
export type {
  IssuerConfig,
  IssuerServer,
  IssuerServerConfig,
  IssuerServerOptions,
  IssuerServerRequestLog,
} from './server/types.js';
export type { EncryptAccessTokensOptions } from './encrypt.js';
export { createDpopProof, dpopThumbprint } from './dpop.js';
export { OAuthError } from './hooks.js';
export type { DpopKeyPair, DpopProofOptions } from './dpop.js';
export type {
  FailureOptions,
  Hook,
  HookEvent,
  HookOptions,
  OpaqueTokenOptions,
  RequestCounts,
  RotateKeysOptions,
  SignOptions,
  TestClient,
  TestIssuer,
  TestIssuerAlgorithm,
  TestIssuerEndpoint,
  TestIssuerKey,
  TestIssuerOptions,
  TestIssuerProfile,
  TestProtectedResource,
  TestProtectedResourceOptions,
  TestRequestMapping,
  TestUser,
} from './types.js';

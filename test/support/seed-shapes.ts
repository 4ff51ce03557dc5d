// The documented shapes of the two seed issuers (../shared/seeds), for tests that check a
// server (the testing issuer's profiles, the hand-built seed servers) against them.

/** The members Archera's OAuthMetadata schema requires (additionalProperties: false). */
export const ARCHERA_REQUIRED = [
  'authorization_endpoint',
  'code_challenge_methods_supported',
  'grant_types_supported',
  'issuer',
  'jwks_uri',
  'response_types_supported',
  'revocation_endpoint',
  'scopes_supported',
  'token_endpoint',
  'token_endpoint_auth_methods_supported',
];
/** The members Archera's schema allows besides the required ones. */
export const ARCHERA_ALLOWED = [...ARCHERA_REQUIRED, 'service_documentation'];
/** Archera's JWK schema: exactly these members, all required. */
export const SEED_JWK_MEMBERS = ['alg', 'e', 'kid', 'kty', 'n', 'use'];

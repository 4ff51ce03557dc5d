// The stub issuer's endpoints per profile, and the metadata documents that announce them.
import { type AuthorizationServerMetadata, discoveryUrls } from '../issuer/discovery.js';
import { CLASSIC_ALGORITHMS } from '../token/algorithms.js';
import type { TestIssuerAlgorithm, TestIssuerEndpoint, TestIssuerProfile } from './types.js';

/** What a URL of the issuer serves. */
export type Route = 'oauth-metadata' | 'oidc-metadata' | Exclude<TestIssuerEndpoint, 'metadata'>;

/** Where the issuer's endpoints live, and the metadata documents announcing them. */
export interface Endpoints {
  /** `origin + pathname` → what it serves. */
  routes: ReadonlyMap<string, Route>;
  oauth?: AuthorizationServerMetadata;
  oidc?: AuthorizationServerMetadata;
}

const PATHS = {
  default: {
    jwks: '/jwks',
    authorize: '/authorize',
    token: '/token',
    revoke: '/revoke',
    register: '/register',
    logout: '/logout',
    userinfo: '/userinfo',
  },
  rfc8414: {
    jwks: '/.well-known/jwks.json',
    authorize: '/authorize',
    token: '/token',
    revoke: '/revoke',
  },
  auth0: {
    jwks: '/.well-known/jwks.json',
    authorize: '/authorize',
    token: '/oauth/token',
    revoke: '/oauth/revoke',
    logout: '/oidc/logout',
    userinfo: '/userinfo',
  },
} as const satisfies Record<TestIssuerProfile, Record<string, string>>;

/** The key under which a URL is routed: query and fragment do not matter. */
export function routeKey(url: string): string {
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}

export function describeEndpoints(
  issuer: string,
  profile: TestIssuerProfile,
  discovery: 'oauth' | 'oidc' | 'both',
  algorithms: readonly TestIssuerAlgorithm[],
): Endpoints {
  const base = issuer.replace(/\/+$/, '');
  const paths = PATHS[profile];
  const url = (path: string) => `${base}${path}`;
  const routes = new Map<string, Route>([
    [routeKey(url(paths.jwks)), 'jwks'],
    [routeKey(url(paths.authorize)), 'authorize'],
    [routeKey(url(paths.token)), 'token'],
    [routeKey(url(paths.revoke)), 'revoke'],
  ]);
  // Exactly the members Archera's RFC 8414 schema requires (it allows no others).
  const metadata: AuthorizationServerMetadata = {
    issuer,
    authorization_endpoint: url(paths.authorize),
    token_endpoint: url(paths.token),
    revocation_endpoint: url(paths.revoke),
    jwks_uri: url(paths.jwks),
    response_types_supported: ['code'],
    grant_types_supported: [
      'authorization_code',
      'refresh_token',
      'client_credentials',
      'urn:ietf:params:oauth:grant-type:token-exchange',
      'urn:ietf:params:oauth:grant-type:jwt-bearer',
    ],
    code_challenge_methods_supported: ['S256'],
    token_endpoint_auth_methods_supported: ['none', 'client_secret_post', 'client_secret_basic'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
  };
  if ('userinfo' in paths) {
    // As Auth0 does; the rfc8414 (Archera) schema allows none of these members.
    metadata.userinfo_endpoint = url(paths.userinfo);
    routes.set(routeKey(metadata.userinfo_endpoint), 'userinfo');
    metadata.token_endpoint_auth_methods_supported!.push('private_key_jwt');
    metadata.token_endpoint_auth_signing_alg_values_supported = [...CLASSIC_ALGORITHMS];
  }
  if (profile === 'default') {
    metadata.client_id_metadata_document_supported = true;
    metadata.authorization_response_iss_parameter_supported = true;
    metadata.introspection_endpoint = url('/introspect');
    routes.set(routeKey(metadata.introspection_endpoint), 'introspect');
    // RFC 9449 §5.1: the token endpoint binds tokens to a DPoP proof's key.
    metadata.dpop_signing_alg_values_supported = [...CLASSIC_ALGORITHMS];
    metadata.registration_endpoint = url(PATHS.default.register);
    routes.set(routeKey(metadata.registration_endpoint), 'register');
  }

  // RP-Initiated Logout 1.0 §2.1, where an OpenID provider has it (Auth0 at /oidc/logout);
  // Archera's RFC 8414 schema allows no such member, so the rfc8414 profile has no logout.
  if ('logout' in paths) {
    metadata.end_session_endpoint = url(paths.logout);
    routes.set(routeKey(metadata.end_session_endpoint), 'logout');
  }

  const endpoints: Endpoints = { routes };
  // The two documents where their specs put them (not the MCP order's extra OIDC location).
  const served = discovery === 'both' ? (['oauth', 'oidc'] as const) : [discovery];
  for (const candidate of served.flatMap((mode) => discoveryUrls(issuer, mode))) {
    routes.set(routeKey(candidate.url), `${candidate.kind}-metadata`);
    endpoints[candidate.kind] =
      candidate.kind === 'oauth'
        ? metadata
        : // OpenID Connect Discovery 1.0 §3 requires these two as well.
          {
            ...metadata,
            subject_types_supported: ['public'],
            id_token_signing_alg_values_supported: [...algorithms],
          };
  }
  return endpoints;
}

// Hand-built issuers serving the seeds' documented shapes literally (../shared/seeds), so
// the verifier is tested against more than our own stub. Each is one Fetch-API handler,
// served through msw or on a real node:http server.
import { jsonResponse } from './msw.js';
import { type LooseKey, looseKey, signWith } from './tokens.js';

export interface SeedServer {
  handle: (request: Request) => Promise<Response>;
  keys: LooseKey[];
  /** Makes the next JWKS request answer this. */
  failJwksWith?: () => Response;
}

/** Altostrat as Auth0 serves it: the OIDC document with Auth0's members, the seed's JWK members. */
export async function altostrat(): Promise<SeedServer> {
  const keys = [await looseKey('RS256'), await looseKey('RS256')];
  const seed: SeedServer = {
    keys,
    async handle(request) {
      const { origin, pathname } = new URL(request.url);
      const issuer = `${origin}/`;
      if (pathname === '/.well-known/openid-configuration') {
        return jsonResponse({
          issuer,
          authorization_endpoint: `${issuer}authorize`,
          token_endpoint: `${issuer}oauth/token`,
          device_authorization_endpoint: `${issuer}oauth/device/code`,
          userinfo_endpoint: `${issuer}userinfo`,
          mfa_challenge_endpoint: `${issuer}mfa/challenge`,
          jwks_uri: `${issuer}.well-known/jwks.json`,
          registration_endpoint: `${issuer}oidc/register`,
          revocation_endpoint: `${issuer}oauth/revoke`,
          scopes_supported: [
            'openid',
            'profile',
            'offline_access',
            'name',
            'given_name',
            'family_name',
            'email',
            'email_verified',
          ],
          response_types_supported: [
            'code',
            'token',
            'id_token',
            'code token',
            'code id_token',
            'token id_token',
            'code token id_token',
          ],
          code_challenge_methods_supported: ['S256', 'plain'],
          response_modes_supported: ['query', 'fragment', 'form_post'],
          subject_types_supported: ['public'],
          token_endpoint_auth_methods_supported: [
            'client_secret_basic',
            'client_secret_post',
            'private_key_jwt',
          ],
          claims_supported: [
            'aud',
            'auth_time',
            'created_at',
            'email',
            'email_verified',
            'exp',
            'family_name',
            'given_name',
            'iat',
            'identities',
            'iss',
            'name',
            'nickname',
            'phone_number',
            'picture',
            'sub',
          ],
          request_uri_parameter_supported: false,
          request_parameter_supported: false,
          id_token_signing_alg_values_supported: ['HS256', 'RS256', 'PS256'],
          end_session_endpoint: `${issuer}oidc/logout`,
        });
      }
      if (pathname === '/.well-known/jwks.json') {
        if (seed.failJwksWith) return seed.failJwksWith();
        return jsonResponse({
          keys: keys.map(({ publicJwk }, i) => ({
            alg: 'RS256',
            kty: 'RSA',
            use: 'sig',
            n: publicJwk.n,
            e: publicJwk.e,
            kid: `altostrat-key-${i}`,
          })),
        });
      }
      return new Response('Not Found', { status: 404 });
    },
  };
  return seed;
}

/** Archera as its OpenAPI document describes it: RFC 8414 metadata, ApiErrorResponse errors. */
export async function archera(): Promise<SeedServer> {
  const keys = [await looseKey('RS256')];
  const apiError = (status: number, message: string, type: string) =>
    jsonResponse(
      { message, detail: null, code: null, url: null, timestamp: '2026-12-01T05:00:00.000Z', type },
      { status },
    );
  const seed: SeedServer = {
    keys,
    async handle(request) {
      const { origin, pathname } = new URL(request.url);
      if (request.method !== 'GET') return apiError(405, 'Method not allowed', 'MethodNotAllowed');
      if (pathname === '/.well-known/oauth-authorization-server') {
        return jsonResponse({
          issuer: origin,
          authorization_endpoint: `${origin}/oauth/authorize`,
          token_endpoint: `${origin}/oauth/token`,
          revocation_endpoint: `${origin}/oauth/revoke`,
          jwks_uri: `${origin}/.well-known/jwks.json`,
          response_types_supported: ['code'],
          grant_types_supported: ['authorization_code', 'refresh_token'],
          code_challenge_methods_supported: ['S256'],
          token_endpoint_auth_methods_supported: ['none', 'client_secret_post'],
          scopes_supported: ['read', 'write'],
          service_documentation: `${origin}/docs`,
        });
      }
      if (pathname === '/.well-known/jwks.json') {
        if (seed.failJwksWith) return seed.failJwksWith();
        return jsonResponse({
          keys: keys.map(({ publicJwk }) => ({
            kty: 'RSA',
            use: 'sig',
            kid: 'archera-2026',
            alg: 'RS256',
            n: publicJwk.n,
            e: publicJwk.e,
          })),
        });
      }
      return apiError(404, `No route for ${pathname}`, 'NotFound');
    },
  };
  return seed;
}

export const ALTOSTRAT_API = 'https://v1.api.altostrat.io';

/** An Auth0 access token: two audiences (the API and userinfo), azp, space-delimited scope. */
export function auth0Token(seed: SeedServer, issuer: string, kid: string): Promise<string> {
  return signWith(
    seed.keys[1]!,
    {
      iss: issuer,
      sub: 'auth0|6553a8f3b1c2d4e5f6a7b8c9',
      aud: [ALTOSTRAT_API, `${issuer}userinfo`],
      azp: 'altostrat-spa',
      scope: 'openid profile email offline_access',
    },
    { kid },
  );
}

export function archeraToken(seed: SeedServer, issuer: string): Promise<string> {
  return signWith(
    seed.keys[0]!,
    { iss: issuer, sub: 'user-42', aud: 'https://api.archera.ai', scope: 'read' },
    { kid: 'archera-2026' },
  );
}

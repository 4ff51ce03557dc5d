// A real OpenID Provider for the tests: oidc-provider 9 on 127.0.0.1 with one public SPA
// client (PKCE required, development login and consent pages), refresh and revocation, and
// RFC 8707 resource indicators that issue RS256 JWT access tokens (typ at+jwt) for `api`.
// With `dpop`, RFC 9449 is on with server nonces required on every proof. With
// `hybridClientId`, a native client of the hybrid flows too (`code id_token`, for c_hash).
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWK, exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface OidcProviderOptions {
  clientId: string;
  redirectUri: string;
  /** The resource indicator the access tokens are for (their `aud`). */
  api: string;
  /** RFC 9449 DPoP with nonces required. Default false. */
  dpop?: boolean;
  /** A page origin allowed to call the token endpoints with CORS. Default: the redirect URI's origin. */
  corsOrigin?: string;
  /** A second public client, for the hybrid `code id_token` and `code id_token token` flows. */
  hybridClientId?: string;
}

export interface OidcProvider {
  /** `http://127.0.0.1:<port>` */
  issuer: string;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 for a provider, its issuer URL, and its RS256 signing key. */
async function providerServer(): Promise<{ server: Server; issuer: string; jwk: JWK }> {
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' };
  return { server, issuer, jwk };
}

/** Serves `provider` on `server`; the handle closes both. */
function serve(server: Server, issuer: string, provider: Provider): OidcProvider {
  server.on('request', provider.callback());
  return {
    issuer,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

export async function startOidcProvider(options: OidcProviderOptions): Promise<OidcProvider> {
  const { server, issuer, jwk } = await providerServer();
  const corsOrigin = options.corsOrigin ?? new URL(options.redirectUri).origin;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        token_endpoint_auth_method: 'none',
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      ...(options.hybridClientId
        ? [
            {
              client_id: options.hybridClientId,
              // Implicit and hybrid web clients need https redirect URIs; native ones may use loopback.
              application_type: 'native',
              token_endpoint_auth_method: 'none',
              redirect_uris: [options.redirectUri],
              grant_types: ['authorization_code', 'implicit'],
              response_types: ['code id_token', 'code id_token token'],
            },
          ]
        : []),
    ],
    jwks: { keys: [jwk] },
    ...(options.hybridClientId && {
      responseTypes: ['code', 'code id_token', 'code id_token token', 'none'],
    }),
    cookies: { keys: ['a-test-only-cookie-signing-key'] },
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access', 'api:read'],
    clientBasedCORS: (_ctx: unknown, origin: string) => origin === corsOrigin,
    features: {
      devInteractions: { enabled: true },
      revocation: { enabled: true },
      registration: { enabled: true },
      ...(options.dpop && {
        dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      }),
      resourceIndicators: {
        enabled: true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== options.api) throw new Provider.errors.InvalidTarget();
          return {
            scope: 'api:read',
            audience: options.api,
            accessTokenTTL: 300,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
  });
  return serve(server, issuer, provider);
}

/** The confidential client of {@link startServiceProvider}. */
export const SERVICE_CLIENT = { id: 'service', secret: 'a-test-secret' } as const;

/**
 * oidc-provider for one confidential client, {@link SERVICE_CLIENT}, with the client
 * credentials grant: scope api:read for `api` (the default resource) as an RS256 JWT access
 * token. With `dpopAlgorithms`, RFC 9449 is on with server nonces required.
 */
export async function startServiceProvider(options: {
  api: string;
  dpopAlgorithms?: string[];
}): Promise<OidcProvider> {
  const { server, issuer, jwk } = await providerServer();
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: SERVICE_CLIENT.id,
        client_secret: SERVICE_CLIENT.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
    ],
    jwks: { keys: [jwk] },
    scopes: ['api:read'],
    ...(options.dpopAlgorithms && { enabledJWA: { dPoPSigningAlgValues: options.dpopAlgorithms } }),
    features: {
      clientCredentials: { enabled: true },
      ...(options.dpopAlgorithms && {
        dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      }),
      resourceIndicators: {
        enabled: true,
        defaultResource: () => options.api,
        getResourceServerInfo: () => ({
          scope: 'api:read',
          audience: options.api,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  return serve(server, issuer, provider);
}

/** {@link SERVICE_CLIENT}'s client credentials request for api:read at `api`, with `headers` (a DPoP proof) added. */
export function requestServiceToken(
  issuer: string,
  api: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  const basic = Buffer.from(`${SERVICE_CLIENT.id}:${SERVICE_CLIENT.secret}`).toString('base64');
  return fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}`, ...headers },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'api:read', resource: api }),
  });
}

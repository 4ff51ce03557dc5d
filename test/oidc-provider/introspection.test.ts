// Token introspection against a real authorization server: oidc-provider 9 on 127.0.0.1
// issues opaque (and JWT) access tokens by client_credentials; IntrospectionVerifier asks
// its /token/introspection endpoint (RFC 7662, and RFC 9701 signed answers), sees
// revocation, and JwtOrIntrospectionVerifier sends each kind of token its own way.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IntrospectionVerifier,
  type IntrospectionVerifierOptions,
  JwtOrIntrospectionVerifier,
  MultiIssuerVerifier,
  authenticate,
} from '../../src/index.js';
import { expectRejection } from '../support/rejections.js';

const API = 'https://api.example.test';
const JWT_API = 'https://jwt-api.example.test';
const SERVICE = { id: 'service', secret: 'service-secret-of-32-characters!' };
const RESOURCE_SERVER = { clientId: 'orders-api', clientSecret: 'orders-api-secret-of-32-chars!!' };
const POST_RESOURCE_SERVER = { clientId: 'post-api', clientSecret: 'post-api-secret-of-32-characters' };

let server: Server;
let issuer: string;
let introspections = 0;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

beforeAll(async () => {
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(privateKey)), kid: 'rs-1', alg: 'RS256', use: 'sig' };
  const resourceServer = { grant_types: [], redirect_uris: [], response_types: [] };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: SERVICE.id,
        client_secret: SERVICE.secret,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
      },
      {
        ...resourceServer,
        client_id: RESOURCE_SERVER.clientId,
        client_secret: RESOURCE_SERVER.clientSecret,
      },
      {
        ...resourceServer,
        client_id: POST_RESOURCE_SERVER.clientId,
        client_secret: POST_RESOURCE_SERVER.clientSecret,
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    jwks: { keys: [jwk] },
    scopes: ['api:read', 'api:write'],
    features: {
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      jwtIntrospection: { enabled: true },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => API,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== API && resource !== JWT_API) throw new Provider.errors.InvalidTarget();
          return {
            scope: 'api:read api:write',
            audience: resource,
            accessTokenTTL: 300,
            accessTokenFormat: resource === API ? 'opaque' : 'jwt',
            ...(resource === JWT_API ? { jwt: { sign: { alg: 'RS256' } } } : {}),
          };
        },
      },
    },
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (req.url?.startsWith('/token/introspection')) introspections++;
    callback(req, res);
  });
}, 60_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function clientCredentialsToken(resource = API, scope = 'api:read'): Promise<string> {
  const response = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: { authorization: basic(SERVICE.id, SERVICE.secret) },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
  });
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`no access token: ${JSON.stringify(body)}`);
  return body.access_token;
}

function verifierWith(options: Partial<IntrospectionVerifierOptions> = {}): IntrospectionVerifier {
  return new IntrospectionVerifier({
    issuer,
    audience: API,
    discovery: 'oidc',
    ...RESOURCE_SERVER,
    ...options,
  });
}

describe('IntrospectionVerifier against oidc-provider', () => {
  it('introspects an opaque access token, discovering /token/introspection', async () => {
    const token = await clientCredentialsToken();
    expect(token.split('.')).toHaveLength(1); // opaque
    const verifier = verifierWith({ requiredScopes: 'api:read' });
    const before = introspections;
    const { payload, header } = await verifier.verify(token);
    expect(payload).toMatchObject({
      active: true,
      iss: issuer,
      aud: API,
      client_id: SERVICE.id,
      scope: 'api:read',
      token_type: 'Bearer',
    });
    expect(payload.exp).toBeGreaterThan(Date.now() / 1000);
    expect(header).toEqual({ alg: 'none' });
    expect((await verifier.metadata()).introspection_endpoint).toBe(`${issuer}/token/introspection`);
    await verifier.verify(token);
    expect(introspections - before).toBe(1);
  });

  it('verifies the signed answer (RFC 9701) with the provider JWKS', async () => {
    const token = await clientCredentialsToken();
    const { payload, header } = await verifierWith({ jwtResponse: true }).verify(token);
    expect(header).toMatchObject({ typ: 'token-introspection+jwt', alg: 'RS256', kid: 'rs-1' });
    expect(payload).toMatchObject({ active: true, aud: API, client_id: SERVICE.id });
  });

  it('authenticates with client_secret_post when told to', async () => {
    const token = await clientCredentialsToken();
    const verifier = verifierWith({ ...POST_RESOURCE_SERVER, clientAuthMethod: 'client_secret_post' });
    expect((await verifier.verify(token)).payload.active).toBe(true);
  });

  it('refuses a token for another resource with ERR_AUDIENCE_MISMATCH, and a missing scope with 403', async () => {
    const token = await clientCredentialsToken();
    await expectRejection(
      verifierWith({ audience: 'https://elsewhere.test' }).verify(token),
      'ERR_AUDIENCE_MISMATCH',
    );
    await expectRejection(
      verifierWith({ requiredScopes: 'api:write' }).verify(token),
      'ERR_INSUFFICIENT_SCOPE',
    );
  });

  it('refuses a revoked token (inactive) with ERR_CLAIM_INVALID', async () => {
    const token = await clientCredentialsToken();
    const verifier = verifierWith({ cache: { maxAgeMs: 0 } });
    expect((await verifier.verify(token)).payload.active).toBe(true);
    const revoked = await fetch(`${issuer}/token/revocation`, {
      method: 'POST',
      headers: { authorization: basic(SERVICE.id, SERVICE.secret) },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }),
    });
    expect(revoked.status).toBe(200);
    await expectRejection(verifier.verify(token), 'ERR_CLAIM_INVALID', token);
  });

  it('refuses a token the provider never issued, and a wrong client secret is a 503', async () => {
    await expectRejection(verifierWith().verify('forged-opaque-token'), 'ERR_CLAIM_INVALID');
    const error = await expectRejection(
      verifierWith({ clientSecret: 'not-the-secret' }).verify(await clientCredentialsToken()),
      'ERR_ISSUER_UNAVAILABLE',
    );
    expect(error.details.issuerStatus).toBe(401);
  });

  it('refuses a JWT, which oidc-provider will not introspect (unsupported_token_type)', async () => {
    const jwt = await clientCredentialsToken(JWT_API);
    const error = await expectRejection(
      verifierWith({ audience: JWT_API }).verify(jwt),
      'ERR_CLAIM_INVALID',
      jwt,
    );
    expect(error.message).toMatch(/unsupported_token_type/);
  });
});

describe('JwtOrIntrospectionVerifier against oidc-provider', () => {
  it('verifies JWTs with the JWKS and introspects opaque tokens', async () => {
    const verifier = new JwtOrIntrospectionVerifier({
      issuer,
      audience: [API, JWT_API],
      discovery: 'oidc',
      ...RESOURCE_SERVER,
      jwt: { typ: 'at+jwt' },
    });
    const before = introspections;
    const jwt = await verifier.verify(await clientCredentialsToken(JWT_API));
    expect(jwt.header).toMatchObject({ typ: 'at+jwt', kid: 'rs-1' });
    expect(introspections).toBe(before);
    const opaque = await verifier.verify(await clientCredentialsToken(API));
    expect(opaque.payload).toMatchObject({ active: true, aud: API });
    expect(introspections).toBe(before + 1);
    // A JWT that fails (here: typ) is refused, not introspected instead.
    const strict = new JwtOrIntrospectionVerifier({
      issuer,
      audience: JWT_API,
      discovery: 'oidc',
      ...RESOURCE_SERVER,
      jwt: { typ: 'dpop+jwt' },
    });
    await expectRejection(strict.verify(await clientCredentialsToken(JWT_API)), 'ERR_TYPE_MISMATCH');
    expect(introspections).toBe(before + 1);
  });

  it('works through authenticate() and a MultiIssuerVerifier', async () => {
    const verifier = new MultiIssuerVerifier([
      { issuer: 'https://other-tenant.example.test', audience: API },
      new JwtOrIntrospectionVerifier({ issuer, audience: API, discovery: 'oidc', ...RESOURCE_SERVER }),
    ]);
    const token = await clientCredentialsToken(API);
    const result = await authenticate(
      verifier,
      new Request('https://api.example.test/orders', { headers: { authorization: `Bearer ${token}` } }),
      { requiredScopes: 'api:read' },
    );
    expect(result).toMatchObject({ ok: true, token: { payload: { client_id: SERVICE.id } } });
  });
});

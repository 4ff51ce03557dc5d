import { createLocalJWKSet, decodeJwt, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { CLASSIC_ALGORITHMS } from '../../src/token/algorithms.js';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuerAlgorithm, TestIssuerOptions } from '../../src/testing/index.js';
import { ARCHERA_REQUIRED, SEED_JWK_MEMBERS } from '../support/seed-shapes.js';

// ML-DSA, which needs the runtime's support, has its own tests (test/verify/ml-dsa.test.ts).
const ALL_ALGORITHMS: TestIssuerAlgorithm[] = [...CLASSIC_ALGORITHMS];

async function status(issuer: { fetch(url: string): Promise<Response> }, url: string): Promise<number> {
  return (await issuer.fetch(url)).status;
}

describe('createTestIssuer defaults', () => {
  it('is https://issuer.test for https://api.test with one RS256 key and both metadata documents', async () => {
    const issuer = await createTestIssuer();
    expect(issuer.issuer).toBe('https://issuer.test');
    expect(issuer.audience).toBe('https://api.test');
    expect(issuer.keys).toHaveLength(1);
    expect(issuer.keys[0]).toMatchObject({ alg: 'RS256', active: true });
    expect(await status(issuer, 'https://issuer.test/.well-known/oauth-authorization-server')).toBe(200);
    expect(await status(issuer, 'https://issuer.test/.well-known/openid-configuration')).toBe(200);
    const payload = decodeJwt(await issuer.sign());
    expect(payload).toMatchObject({ iss: 'https://issuer.test', aud: 'https://api.test' });
    expect(payload.exp! - payload.iat!).toBe(3600);
  });

  it('announces the default profile endpoints, grants, client authentication, PKCE S256, RFC 9207 iss, DPoP algorithms and client ID metadata documents in its metadata', async () => {
    const issuer = await createTestIssuer();
    expect(issuer.metadata).toEqual({
      issuer: 'https://issuer.test',
      authorization_endpoint: 'https://issuer.test/authorize',
      token_endpoint: 'https://issuer.test/token',
      revocation_endpoint: 'https://issuer.test/revoke',
      introspection_endpoint: 'https://issuer.test/introspect',
      jwks_uri: 'https://issuer.test/jwks',
      userinfo_endpoint: 'https://issuer.test/userinfo',
      response_types_supported: ['code'],
      grant_types_supported: [
        'authorization_code',
        'refresh_token',
        'client_credentials',
        'urn:ietf:params:oauth:grant-type:token-exchange',
        'urn:ietf:params:oauth:grant-type:jwt-bearer',
      ],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: [
        'none',
        'client_secret_post',
        'client_secret_basic',
        'private_key_jwt',
      ],
      token_endpoint_auth_signing_alg_values_supported: [...CLASSIC_ALGORITHMS],
      scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
      client_id_metadata_document_supported: true,
      authorization_response_iss_parameter_supported: true,
      dpop_signing_alg_values_supported: [...CLASSIC_ALGORITHMS],
      registration_endpoint: 'https://issuer.test/register',
      end_session_endpoint: 'https://issuer.test/logout',
    });
    const oidc = await (await issuer.fetch('https://issuer.test/.well-known/openid-configuration')).json();
    expect(oidc).toEqual({
      ...issuer.metadata,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });
});

describe('algorithms', () => {
  it('creates a key for every algorithm asked for, each signing tokens its published JWK verifies', async () => {
    const issuer = await createTestIssuer({ algorithms: ALL_ALGORITHMS });
    expect(issuer.keys.map((key) => key.alg)).toEqual(ALL_ALGORITHMS);
    const jwks = createLocalJWKSet(issuer.jwks());
    for (const alg of ALL_ALGORITHMS) {
      const token = await issuer.sign({ sub: alg }, { alg });
      const { payload, protectedHeader } = await jwtVerify(token, jwks, { algorithms: [alg] });
      expect(protectedHeader.alg).toBe(alg);
      expect(payload.sub).toBe(alg);
    }
  });

  it('signs with the first algorithm by default', async () => {
    const issuer = await createTestIssuer({ algorithms: ['ES256', 'RS256'] });
    const { protectedHeader } = await jwtVerify(await issuer.sign(), createLocalJWKSet(issuer.jwks()));
    expect(protectedHeader).toMatchObject({ alg: 'ES256', kid: issuer.keys[0]!.kid });
  });

  it('publishes kid, alg and use: sig with unique kids (RFC 7638 thumbprints)', async () => {
    const issuer = await createTestIssuer({ algorithms: ['RS256', 'PS256', 'ES384', 'EdDSA'] });
    const { keys } = issuer.jwks();
    expect(new Set(keys.map((key) => key.kid)).size).toBe(4);
    for (const key of keys)
      expect(key).toMatchObject({ use: 'sig', kid: expect.any(String), alg: expect.any(String) });
    expect(keys[2]).toMatchObject({ kty: 'EC', crv: 'P-384', alg: 'ES384' });
    expect(keys[3]).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA' });
    expect(keys.every((key) => !('d' in key))).toBe(true);
  });

  it('lists the algorithms in id_token_signing_alg_values_supported', async () => {
    const issuer = await createTestIssuer({ algorithms: ['PS256', 'ES256'] });
    const oidc = await (await issuer.fetch('https://issuer.test/.well-known/openid-configuration')).json();
    expect(oidc.id_token_signing_alg_values_supported).toEqual(['PS256', 'ES256']);
  });
});

describe('discovery', () => {
  it.each([
    ['oauth', 200, 404],
    ['oidc', 404, 200],
    ['both', 200, 200],
  ] as const)('discovery: %s serves RFC 8414 → %i, OpenID Connect → %i', async (discovery, oauth, oidc) => {
    const issuer = await createTestIssuer({ discovery });
    expect(await status(issuer, 'https://issuer.test/.well-known/oauth-authorization-server')).toBe(oauth);
    expect(await status(issuer, 'https://issuer.test/.well-known/openid-configuration')).toBe(oidc);
  });

  it('puts the RFC 8414 well-known segment before the issuer path and appends the OIDC one', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://idp.test/tenant-1' });
    const oauth = await issuer.fetch('https://idp.test/.well-known/oauth-authorization-server/tenant-1');
    const oidc = await issuer.fetch('https://idp.test/tenant-1/.well-known/openid-configuration');
    expect((await oauth.json()).issuer).toBe('https://idp.test/tenant-1');
    expect((await oidc.json()).issuer).toBe('https://idp.test/tenant-1');
    expect(issuer.metadata.jwks_uri).toBe('https://idp.test/tenant-1/jwks');
    expect(await status(issuer, 'https://idp.test/.well-known/oauth-authorization-server')).toBe(404);
  });

  it('the metadata issuer is exactly the configured one, trailing slash included', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://idp.test/tenant/' });
    const oidc = await (
      await issuer.fetch('https://idp.test/tenant/.well-known/openid-configuration')
    ).json();
    expect(oidc.issuer).toBe('https://idp.test/tenant/');
    expect(oidc.token_endpoint).toBe('https://idp.test/tenant/token');
  });
});

describe('profiles', () => {
  it('rfc8414 (Archera): RFC 8414 only, exactly the schema members, JWKS at /.well-known/jwks.json', async () => {
    const issuer = await createTestIssuer({ profile: 'rfc8414' });
    const response = await issuer.fetch('https://issuer.test/.well-known/oauth-authorization-server');
    const metadata = await response.json();
    expect(Object.keys(metadata).sort()).toEqual(ARCHERA_REQUIRED);
    expect(metadata.jwks_uri).toBe('https://issuer.test/.well-known/jwks.json');
    expect(await status(issuer, 'https://issuer.test/.well-known/openid-configuration')).toBe(404);
    const jwks = await (await issuer.fetch(metadata.jwks_uri)).json();
    expect(Object.keys(jwks)).toEqual(['keys']);
    expect(Object.keys(jwks.keys[0]).sort()).toEqual(SEED_JWK_MEMBERS);
  });

  it('auth0 (Altostrat): trailing-slash issuer, OIDC discovery only, Auth0 paths', async () => {
    const issuer = await createTestIssuer({
      profile: 'auth0',
      issuer: 'https://tenant.auth0.test',
    });
    expect(issuer.issuer).toBe('https://tenant.auth0.test/');
    expect(await status(issuer, 'https://tenant.auth0.test/.well-known/oauth-authorization-server')).toBe(
      404,
    );
    const metadata = await (
      await issuer.fetch('https://tenant.auth0.test/.well-known/openid-configuration')
    ).json();
    expect(metadata).toMatchObject({
      issuer: 'https://tenant.auth0.test/',
      jwks_uri: 'https://tenant.auth0.test/.well-known/jwks.json',
      authorization_endpoint: 'https://tenant.auth0.test/authorize',
      token_endpoint: 'https://tenant.auth0.test/oauth/token',
      revocation_endpoint: 'https://tenant.auth0.test/oauth/revoke',
      end_session_endpoint: 'https://tenant.auth0.test/oidc/logout',
    });
    expect(metadata).not.toHaveProperty('authorization_response_iss_parameter_supported');
    expect(decodeJwt(await issuer.sign()).iss).toBe('https://tenant.auth0.test/');
  });

  it('auth0 defaults to https://issuer.test/', async () => {
    expect((await createTestIssuer({ profile: 'auth0' })).issuer).toBe('https://issuer.test/');
  });

  it('an explicit discovery wins over the profile default', async () => {
    const issuer = await createTestIssuer({ profile: 'auth0', discovery: 'both' });
    expect(await status(issuer, 'https://issuer.test/.well-known/oauth-authorization-server')).toBe(200);
  });
});

describe('token options', () => {
  it('audience (a list too) is the default aud', async () => {
    const issuer = await createTestIssuer({ audience: ['https://a.test', 'https://b.test'] });
    expect(decodeJwt(await issuer.sign()).aud).toEqual(['https://a.test', 'https://b.test']);
  });

  it('tokenTtlSeconds sets exp', async () => {
    const issuer = await createTestIssuer({ tokenTtlSeconds: 60 });
    const payload = decodeJwt(await issuer.sign());
    expect(payload.exp! - payload.iat!).toBe(60);
  });

  it('now is the clock for iat and exp', async () => {
    const issuer = await createTestIssuer({ now: () => 1_700_000_000_500 });
    expect(decodeJwt(await issuer.sign())).toMatchObject({
      iat: 1_700_000_000,
      exp: 1_700_003_600,
    });
  });
});

describe('option checks', () => {
  it.each<[string, TestIssuerOptions]>([
    ['issuer not a URL', { issuer: 'issuer.test' }],
    ['issuer with a query', { issuer: 'https://issuer.test/?x=1' }],
    ['issuer with a fragment', { issuer: 'https://issuer.test/#x' }],
    ['issuer not http(s)', { issuer: 'ftp://issuer.test' }],
    ['empty audience', { audience: '' }],
    ['empty audience list', { audience: [] }],
    ['empty algorithms', { algorithms: [] }],
    ['unknown algorithm', { algorithms: ['HS256' as TestIssuerAlgorithm] }],
    ['duplicate algorithms', { algorithms: ['RS256', 'RS256'] }],
    ['unknown discovery', { discovery: 'auto' as 'oauth' }],
    ['unknown profile', { profile: 'okta' as 'auth0' }],
    ['bad port', { listen: { port: 70000 } }],
    ['zero ttl', { tokenTtlSeconds: 0 }],
    ['empty subject', { subject: '' }],
    ['client without id', { clients: [{ clientId: '' }] }],
    [
      'client with a bad auth method',
      { clients: [{ clientId: 'a', tokenEndpointAuthMethod: 'basic' as 'none' }] },
    ],
    ['client jwks not a set', { clients: [{ clientId: 'a', jwks: [] as unknown as { keys: [] } }] }],
    [
      'client logout URIs not strings',
      { clients: [{ clientId: 'a', postLogoutRedirectUris: [1] as unknown as string[] }] },
    ],
    ['user without sub', { users: [{ sub: '' }] }],
    ['users with the same sub', { users: [{ sub: 'alice' }, { sub: 'alice' }] }],
    [
      'user claims not an object',
      { users: [{ sub: 'alice', claims: [] as unknown as Record<string, unknown> }] },
    ],
    ['user with an empty acr', { users: [{ sub: 'alice', acr: '' }] }],
    ['request mapping without claims', { requestMappings: [{ param: 'scope', match: '*' } as never] }],
    ['interactiveLogin not a boolean', { interactiveLogin: 'yes' as unknown as boolean }],
  ])('refuses %s with a TypeError (ERR_INVALID_ARGUMENT)', async (_name, options) => {
    const error = await createTestIssuer(options).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect(error).toBeInstanceOf(TypeError);
  });
});

// The two issuers this package started from (../shared/seeds): Altostrat (Auth0: OIDC
// discovery, an issuer ending in '/', /.well-known/jwks.json) and Archera (RFC 8414
// metadata, JWKS keys with exactly alg/e/kid/kty/n/use, ApiErrorResponse errors, and a
// JWKS that can answer 500 "Failed to load keys"). Each is reached twice: through the
// testing issuer's profiles, and through hand-built servers that serve the documented
// shapes literally, so the verifier is not only tested against our own stub. Both over
// msw and over real HTTP on 127.0.0.1.
import { type HttpHandler, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { createTestIssuer } from '../../src/testing/index.js';
import { jsonResponse, useMsw } from '../support/msw.js';
import {
  ALTOSTRAT_API,
  type SeedServer,
  altostrat,
  archera,
  archeraToken,
  auth0Token,
} from '../support/seed-servers.js';
import { expectRejection } from '../support/rejections.js';
import { ARCHERA_ALLOWED, ARCHERA_REQUIRED, SEED_JWK_MEMBERS } from '../support/seed-shapes.js';

const server = useMsw();

describe('the testing issuer profiles are shaped as the seeds', () => {
  it('auth0 (Altostrat): issuer ending in "/", OIDC only, /.well-known/jwks.json, seed JWK members', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://signin.altostrat.io', profile: 'auth0' });
    expect(issuer.issuer).toBe('https://signin.altostrat.io/');
    expect(issuer.metadata).toMatchObject({
      issuer: 'https://signin.altostrat.io/',
      jwks_uri: 'https://signin.altostrat.io/.well-known/jwks.json',
      authorization_endpoint: 'https://signin.altostrat.io/authorize',
      token_endpoint: 'https://signin.altostrat.io/oauth/token',
    });
    for (const key of issuer.jwks().keys) expect(Object.keys(key).sort()).toEqual(SEED_JWK_MEMBERS);
    expect(issuer.handlers.map((h) => h.info.path)).toContain(
      'https://signin.altostrat.io/.well-known/openid-configuration',
    );
    expect(issuer.handlers.map((h) => h.info.path)).not.toContain(
      'https://signin.altostrat.io/.well-known/oauth-authorization-server',
    );
  });

  it('rfc8414 (Archera): every required metadata member and no other, seed JWK members', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://api.archera.ai', profile: 'rfc8414' });
    expect(Object.keys(issuer.metadata).sort()).toEqual(expect.arrayContaining(ARCHERA_REQUIRED));
    for (const member of Object.keys(issuer.metadata)) expect(ARCHERA_ALLOWED).toContain(member);
    expect(issuer.metadata.jwks_uri).toBe('https://api.archera.ai/.well-known/jwks.json');
    for (const key of issuer.jwks().keys) expect(Object.keys(key).sort()).toEqual(SEED_JWK_MEMBERS);
  });
});

describe('seed-shaped testing issuers verify, through msw', () => {
  it('Altostrat (auth0 profile), with OIDC discovery and with auto (RFC 8414 absent: 404)', async () => {
    const issuer = await createTestIssuer({
      issuer: 'https://signin.altostrat.io',
      profile: 'auth0',
      audience: 'https://v1.api.altostrat.io',
    });
    server.use(
      ...issuer.handlers,
      http.get(
        'https://signin.altostrat.io/.well-known/oauth-authorization-server',
        () => new Response('Not Found', { status: 404 }),
      ),
    );
    const token = await issuer.sign({ sub: 'auth0|user-1', scope: 'openid profile' });
    for (const discovery of ['oidc', 'auto'] as const) {
      const verifier = new JwtVerifier({
        issuer: 'https://signin.altostrat.io/',
        audience: 'https://v1.api.altostrat.io',
        discovery,
      });
      expect((await verifier.verify(token)).payload.sub).toBe('auth0|user-1');
    }
    expect(issuer.requests).toMatchObject({ metadata: 2, jwks: 2 });
  });

  it('Archera (rfc8414 profile), and its 500 "Failed to load keys" surfaces in the message', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://api.archera.ai', profile: 'rfc8414' });
    server.use(...issuer.handlers);
    const verifier = new JwtVerifier({
      issuer: 'https://api.archera.ai',
      audience: 'https://api.test',
      discovery: 'oauth',
    });
    expect((await verifier.verify(await issuer.sign({ sub: 'org-1' }))).payload.sub).toBe('org-1');

    issuer.failNext('jwks', { status: 500, body: 'Failed to load keys' });
    const cold = new JwtVerifier({ issuer: 'https://api.archera.ai', audience: 'https://api.test' });
    const token = await issuer.sign();
    const error = await expectRejection(cold.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toContain('https://api.archera.ai/.well-known/jwks.json');
    expect(error.message).toMatch(/500.*Failed to load keys/);
  });
});

describe('the seeds served literally, through msw', () => {
  const mswFor = (origin: string, seed: SeedServer): HttpHandler[] => [
    http.all(`${origin}/*`, ({ request }) => seed.handle(request)),
  ];

  it('Altostrat: an Auth0 access token verifies through OIDC discovery, in auto mode too', async () => {
    const seed = await altostrat();
    server.use(...mswFor('https://signin.altostrat.io', seed));
    const issuer = 'https://signin.altostrat.io/';
    const token = await auth0Token(seed, issuer, 'altostrat-key-1');
    for (const discovery of ['oidc', 'auto'] as const) {
      const verifier = new JwtVerifier({
        issuer,
        audience: ALTOSTRAT_API,
        discovery,
        requiredScopes: ['profile'],
      });
      const { payload, header } = await verifier.verify(token);
      expect(payload.azp).toBe('altostrat-spa');
      expect(header.kid).toBe('altostrat-key-1');
      expect((await verifier.metadata()).token_endpoint).toBe('https://signin.altostrat.io/oauth/token');
    }
  });

  it('Altostrat: the issuer without its trailing "/" is another issuer', async () => {
    const seed = await altostrat();
    server.use(...mswFor('https://signin.altostrat.io', seed));
    const verifier = new JwtVerifier({
      issuer: 'https://signin.altostrat.io',
      audience: ALTOSTRAT_API,
      discovery: 'oidc',
    });
    const error = await expectRejection(verifier.warmup(), 'ERR_METADATA_INVALID');
    expect(error.message).toContain('"https://signin.altostrat.io/"');
  });

  it('Archera: a token verifies through RFC 8414 metadata', async () => {
    const seed = await archera();
    server.use(...mswFor('https://api.archera.ai', seed));
    const verifier = new JwtVerifier({
      issuer: 'https://api.archera.ai',
      audience: 'https://api.archera.ai',
      requiredScopes: 'read',
    });
    expect((await verifier.verify(await archeraToken(seed, 'https://api.archera.ai'))).payload.sub).toBe(
      'user-42',
    );
    expect((await verifier.metadata()).service_documentation).toBe('https://api.archera.ai/docs');
  });

  it.each<[string, () => Response, RegExp]>([
    [
      'a bare 500 "Failed to load keys"',
      () => new Response('Failed to load keys', { status: 500 }),
      /500.*Failed to load keys/,
    ],
    [
      'an ApiErrorResponse 500',
      () =>
        jsonResponse(
          {
            message: 'Failed to load keys',
            timestamp: '2026-12-01T05:00:00.000Z',
            type: 'InternalServerError',
          },
          { status: 500 },
        ),
      /500.*Failed to load keys/,
    ],
    [
      'the default Error schema',
      () =>
        jsonResponse(
          { code: 503, status: 'Service Unavailable', message: 'Key service is restarting' },
          { status: 503 },
        ),
      /503.*Key service is restarting/,
    ],
  ])('Archera: %s surfaces in ERR_ISSUER_UNAVAILABLE', async (_what, failure, message) => {
    const seed = await archera();
    seed.failJwksWith = failure;
    server.use(...mswFor('https://api.archera.ai', seed));
    const verifier = new JwtVerifier({
      issuer: 'https://api.archera.ai',
      audience: 'https://api.archera.ai',
    });
    const token = await archeraToken(seed, 'https://api.archera.ai');
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toMatch(message);
    expect(error.details.issuerStatus).toBe(Number(/\d{3}/.exec(message.source)![0]));
  });

  it('Archera: an ApiErrorResponse 404 for the OIDC document is reported with its message in oidc mode', async () => {
    const seed = await archera();
    server.use(...mswFor('https://api.archera.ai', seed));
    const verifier = new JwtVerifier({
      issuer: 'https://api.archera.ai',
      audience: 'https://api.archera.ai',
      discovery: 'oidc',
    });
    const error = await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toMatch(/404.*No route for \/\.well-known\/openid-configuration/);
  });
});

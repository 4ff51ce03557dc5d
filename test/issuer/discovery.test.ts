// Discovery through msw: which well-known URLs are asked for (RFC 8414 §3.1 insertion, the
// OIDC append, the trailing-slash rule), the auto fallback, metadata validation and caching.
import { http } from 'msw';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type DiscoveryMode,
  JwtVerifier,
  type VerifierEvent,
  discover,
  discoveryUrls,
} from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { jsonResponse, recordRequests, useMsw } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const server = useMsw();
afterEach(() => server.events.removeAllListeners());

const AUDIENCE = 'https://api.test';

describe('discovery URL construction', () => {
  it.each([
    [
      'https://h.test',
      'https://h.test/.well-known/oauth-authorization-server',
      'https://h.test/.well-known/openid-configuration',
    ],
    [
      'https://h.test/',
      'https://h.test/.well-known/oauth-authorization-server',
      'https://h.test/.well-known/openid-configuration',
    ],
    [
      'https://h.test/t1',
      'https://h.test/.well-known/oauth-authorization-server/t1',
      'https://h.test/t1/.well-known/openid-configuration',
    ],
    [
      'https://h.test/t1/',
      'https://h.test/.well-known/oauth-authorization-server/t1',
      'https://h.test/t1/.well-known/openid-configuration',
    ],
    [
      'https://h.test/a/b',
      'https://h.test/.well-known/oauth-authorization-server/a/b',
      'https://h.test/a/b/.well-known/openid-configuration',
    ],
    [
      'https://h.test:8443/t1',
      'https://h.test:8443/.well-known/oauth-authorization-server/t1',
      'https://h.test:8443/t1/.well-known/openid-configuration',
    ],
  ])('%s: RFC 8414 inserts after the host, OIDC appends', (issuer, oauth, oidc) => {
    // With a path, 'auto' asks in the MCP order: the OIDC document inserted RFC 8414-style
    // comes between the two.
    const path = new URL(issuer).pathname.replace(/\/+$/, '');
    const inserted = `${new URL(issuer).origin}/.well-known/openid-configuration${path}`;
    expect(discoveryUrls(issuer, 'auto')).toEqual([
      { kind: 'oauth', url: oauth },
      ...(path ? [{ kind: 'oidc', url: inserted }] : []),
      { kind: 'oidc', url: oidc },
    ]);
    expect(discoveryUrls(issuer, 'oauth')).toEqual([{ kind: 'oauth', url: oauth }]);
    expect(discoveryUrls(issuer, 'oidc')).toEqual([{ kind: 'oidc', url: oidc }]);
  });

  it.each([
    [
      'https://idp.test/tenant-1',
      'oauth',
      'https://idp.test/.well-known/oauth-authorization-server/tenant-1',
    ],
    [
      'https://idp.test/tenant-1/',
      'oauth',
      'https://idp.test/.well-known/oauth-authorization-server/tenant-1',
    ],
    ['https://idp.test/tenant-1', 'oidc', 'https://idp.test/tenant-1/.well-known/openid-configuration'],
    ['https://idp.test/tenant-1/', 'oidc', 'https://idp.test/tenant-1/.well-known/openid-configuration'],
    ['https://idp.test/', 'oauth', 'https://idp.test/.well-known/oauth-authorization-server'],
    ['https://idp.test', 'oidc', 'https://idp.test/.well-known/openid-configuration'],
  ] as const)('a verifier for %s in %s mode asks for exactly %s', async (issuerId, mode, expected) => {
    const issuer = await createTestIssuer({ issuer: issuerId, discovery: mode });
    server.use(...issuer.handlers);
    const urls = recordRequests(server);
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, discovery: mode });
    const { payload } = await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(payload.iss).toBe(issuerId);
    expect(urls[0]).toBe(`GET ${expected}`);
    expect(urls).toHaveLength(2); // metadata, then the JWKS
  });
});

/** Verifies one token of `issuer` by discovery: the URLs asked for and the events, in order. */
async function verifyOnce(
  issuer: TestIssuer,
): Promise<{ urls: string[]; events: VerifierEvent[]; verifier: JwtVerifier }> {
  const urls = recordRequests(server);
  const events: VerifierEvent[] = [];
  const verifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    onEvent: (e) => events.push(e),
  });
  await verifier.verify(await issuer.sign());
  return { urls, events, verifier };
}

describe('discovery modes', () => {
  it('auto uses the RFC 8414 document when there is one, and never asks for the OIDC one', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://both.test', discovery: 'both' });
    server.use(...issuer.handlers);
    const { urls, events } = await verifyOnce(issuer);
    expect(urls).toEqual([
      'GET https://both.test/.well-known/oauth-authorization-server',
      'GET https://both.test/jwks',
    ]);
    expect(events[0]).toEqual({
      type: 'discovery',
      issuer: 'https://both.test',
      url: 'https://both.test/.well-known/oauth-authorization-server',
      kind: 'oauth',
      jwksUri: 'https://both.test/jwks',
    });
  });

  it('auto falls back to OpenID Connect discovery when the RFC 8414 document is absent (404)', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://oidc-only.test/t', discovery: 'oidc' });
    server.use(
      ...issuer.handlers,
      http.get('https://oidc-only.test/.well-known/oauth-authorization-server/t', () =>
        jsonResponse({ error: 'not_found' }, { status: 404 }),
      ),
      http.get('https://oidc-only.test/.well-known/openid-configuration/t', () =>
        jsonResponse({ error: 'not_found' }, { status: 404 }),
      ),
    );
    const { urls, events, verifier } = await verifyOnce(issuer);
    expect(urls).toEqual([
      'GET https://oidc-only.test/.well-known/oauth-authorization-server/t',
      'GET https://oidc-only.test/.well-known/openid-configuration/t',
      'GET https://oidc-only.test/t/.well-known/openid-configuration',
      'GET https://oidc-only.test/t/jwks',
    ]);
    expect(events.find((e) => e.type === 'discovery')).toMatchObject({ kind: 'oidc' });
    expect((await verifier.metadata()).issuer).toBe('https://oidc-only.test/t');
    expect(urls).toHaveLength(4); // metadata() is served from the cache
  });

  it.each<[DiscoveryMode, 'oauth' | 'oidc', string]>([
    ['oauth', 'oidc', 'https://only.test/.well-known/oauth-authorization-server'],
    ['oidc', 'oauth', 'https://only.test/.well-known/openid-configuration'],
  ])(
    '%s mode does not try the other document: an issuer serving only %s is unavailable',
    async (mode, served, missing) => {
      const issuer = await createTestIssuer({ issuer: 'https://only.test', discovery: served });
      server.use(
        ...issuer.handlers,
        http.get(missing, () =>
          jsonResponse({ message: 'No such document', timestamp: 'now', type: 'not_found' }, { status: 404 }),
        ),
      );
      const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, discovery: mode });
      const token = await issuer.sign();
      const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
      expect(error.message).toContain(missing);
      expect(error.message).toContain('404');
      expect(error.message).toContain('No such document');
      expect(issuer.requests.metadata).toBe(0);
    },
  );

  it('auto reports both URLs when neither document can be had', async () => {
    server.use(http.get('https://none.test/*', () => jsonResponse({ error: 'not_found' }, { status: 404 })));
    const verifier = new JwtVerifier({ issuer: 'https://none.test', audience: AUDIENCE });
    const error = await expectRejection(verifier.metadata(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toContain('https://none.test/.well-known/oauth-authorization-server');
    expect(error.message).toContain('https://none.test/.well-known/openid-configuration');
    expect(error.message).toContain('404');
  });
});

describe('metadata validation', () => {
  const ISSUER = 'https://meta.test';
  const METADATA_URL = `${ISSUER}/.well-known/oauth-authorization-server`;
  const serve = (document: unknown) => server.use(http.get(METADATA_URL, () => jsonResponse(document)));

  it('refuses metadata whose issuer is not the configured one, naming both (RFC 8414 §3.3)', async () => {
    serve({ issuer: `${ISSUER}/`, jwks_uri: `${ISSUER}/jwks` });
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE });
    const error = await expectRejection(verifier.warmup(), 'ERR_METADATA_INVALID');
    expect(error.message).toContain(`"${ISSUER}/"`);
    expect(error.message).toContain(`expected "${ISSUER}"`);
    expect(error.wwwAuthenticate()).toBe('Bearer');
  });

  it('in auto mode reports an invalid RFC 8414 document instead of falling back to OIDC', async () => {
    serve({ issuer: 'https://impostor.test', jwks_uri: `${ISSUER}/jwks` });
    const urls = recordRequests(server);
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE });
    await expectRejection(verifier.metadata(), 'ERR_METADATA_INVALID');
    expect(urls).toEqual([`GET ${METADATA_URL}`]);
  });

  it('refuses metadata without jwks_uri, unless jwksUri is configured', async () => {
    serve({ issuer: ISSUER, token_endpoint: `${ISSUER}/token` });
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE });
    const error = await expectRejection(verifier.warmup(), 'ERR_METADATA_INVALID');
    expect(error.message).toContain('jwks_uri is missing');

    const issuer = await createTestIssuer({ issuer: ISSUER });
    server.use(http.get(issuer.metadata.jwks_uri!, () => jsonResponse(issuer.jwks())));
    const fixed = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri: issuer.metadata.jwks_uri! });
    await fixed.verify(await issuer.sign());
    expect((await fixed.metadata()).token_endpoint).toBe(`${ISSUER}/token`);
  });

  it('refuses a jwks_uri over plain http to a non-loopback host', async () => {
    serve({ issuer: ISSUER, jwks_uri: 'http://keys.meta.test/jwks' });
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE });
    const error = await expectRejection(verifier.warmup(), 'ERR_METADATA_INVALID');
    expect(error.message).toMatch(/jwks_uri must .*https/);
    expect(error.message).toContain('http://keys.meta.test/jwks');
  });

  it.each(['http://127.0.0.1:9/jwks', 'http://localhost:9/jwks', 'http://[::1]:9/jwks'])(
    'accepts a loopback jwks_uri %s',
    async (jwksUri) => {
      serve({ issuer: ISSUER, jwks_uri: jwksUri });
      const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE });
      expect((await verifier.metadata()).jwks_uri).toBe(jwksUri);
    },
  );

  it('accepts a plain-http jwks_uri with allowInsecureHttp', async () => {
    serve({ issuer: ISSUER, jwks_uri: 'http://keys.meta.test/jwks' });
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE, allowInsecureHttp: true });
    expect((await verifier.metadata()).jwks_uri).toBe('http://keys.meta.test/jwks');
  });

  it.each([
    ['an array', []],
    ['a string', 'metadata'],
    ['a jwks_uri that is not a URL', { issuer: ISSUER, jwks_uri: 'not a url' }],
    ['a jwks_uri that is not a string', { issuer: ISSUER, jwks_uri: 42 }],
    [
      'an http token_endpoint',
      { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks`, token_endpoint: 'http://meta.test/token' },
    ],
  ])('refuses a document that is %s', async (_what, document) => {
    serve(document);
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE });
    await expectRejection(verifier.warmup(), 'ERR_METADATA_INVALID');
  });

  it('keeps members it does not know, as the server sent them', async () => {
    serve({ issuer: ISSUER, jwks_uri: `${ISSUER}/jwks`, dpop_signing_alg_values_supported: ['ES256'] });
    const verifier = new JwtVerifier({ issuer: ISSUER, audience: AUDIENCE });
    expect((await verifier.metadata()).dpop_signing_alg_values_supported).toEqual(['ES256']);
  });
});

describe('metadata caching', () => {
  it('fetches the metadata once for many verifications and metadata() calls', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://cached.test' });
    server.use(...issuer.handlers);
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const token = await issuer.sign();
    for (let i = 0; i < 5; i++) await verifier.verify(token);
    await Promise.all([verifier.metadata(), verifier.metadata(), verifier.warmup()]);
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('shares one metadata request among concurrent metadata() calls', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://cached2.test' });
    server.use(...issuer.handlers);
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const all = await Promise.all(Array.from({ length: 20 }, () => verifier.metadata()));
    expect(new Set(all).size).toBe(1);
    expect(issuer.requests.metadata).toBe(1);
  });

  it('refetches the metadata once its max-age has passed', async () => {
    const ISSUER = 'https://aging.test';
    let served = 0;
    server.use(
      http.get(`${ISSUER}/.well-known/oauth-authorization-server`, () => {
        served++;
        return jsonResponse(
          { issuer: ISSUER, jwks_uri: `${ISSUER}/jwks` },
          { headers: { 'cache-control': 'max-age=60' } },
        );
      }),
    );
    let now = 1_800_000_000_000;
    const verifier = new JwtVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      now: () => now,
      cache: { minAgeMs: 0 },
    });
    await verifier.metadata();
    now += 59_000;
    await verifier.metadata();
    expect(served).toBe(1);
    now += 2_000;
    await verifier.metadata();
    expect(served).toBe(2);
  });
});

describe('discover()', () => {
  it('returns the validated metadata of an issuer', async () => {
    const issuer = await createTestIssuer({ issuer: 'https://discover.test/tenant' });
    server.use(...issuer.handlers);
    const metadata = await discover(issuer.issuer);
    expect(metadata).toEqual(issuer.metadata);
  });

  it('refuses metadata that belongs to another issuer', async () => {
    server.use(
      http.get('https://discover2.test/.well-known/oauth-authorization-server', () =>
        jsonResponse({ issuer: 'https://other.test', jwks_uri: 'https://other.test/jwks' }),
      ),
    );
    await expectRejection(discover('https://discover2.test'), 'ERR_METADATA_INVALID');
  });
});

// The rest of the verifier's surface through msw: RFC 6750 header parsing, warmup(),
// metadata(), jwksUri, onEvent, option checks at construction, and MultiIssuerVerifier.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, MultiIssuerVerifier, type VerifierEvent } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const AUDIENCE = 'https://api.test';
const { server, issuer: a } = useMswIssuer({ issuer: 'https://tenant-a.test' });
let b: TestIssuer;
beforeAll(async () => {
  b = await createTestIssuer({ issuer: 'https://idp.test/tenant-b/', profile: 'auth0' });
});
beforeEach(() => {
  server.use(...b.handlers);
  b.reset();
});

const verifierA = (options: Partial<ConstructorParameters<typeof JwtVerifier>[0]> = {}) =>
  new JwtVerifier({ issuer: a.issuer, audience: AUDIENCE, ...options });

describe('verifyAuthorizationHeader (RFC 6750 §2.1)', () => {
  it.each(['Bearer %s', 'bearer %s', 'BEARER %s', 'Bearer   %s', '  Bearer %s  '])(
    'accepts "%s"',
    async (shape) => {
      const token = await a.sign({ sub: 'u' });
      const { payload } = await verifierA().verifyAuthorizationHeader(shape.replace('%s', token));
      expect(payload.sub).toBe('u');
    },
  );

  it.each([
    ['two credentials', 'Bearer a.b.c d.e.f', 'ERR_TOKEN_MALFORMED'],
    ['a character outside b64token', 'Bearer a.b.c,', 'ERR_TOKEN_MALFORMED'],
    ['another scheme', 'Basic dXNlcjpwYXNz', 'ERR_TOKEN_MISSING'],
    ['a scheme only', 'Bearer', 'ERR_TOKEN_MISSING'],
    ['a tab as separator', 'Bearer\ta.b.c', 'ERR_TOKEN_MISSING'],
  ] as const)('refuses %s', async (_what, header, code) => {
    await expectRejection(verifierA().verifyAuthorizationHeader(header), code);
  });

  it('refuses several Authorization headers', async () => {
    const token = await a.sign();
    await expectRejection(
      verifierA().verifyAuthorizationHeader([`Bearer ${token}`, `Bearer ${token}`]),
      'ERR_TOKEN_MALFORMED',
    );
  });
});

describe('warmup() and metadata()', () => {
  it('warmup fetches metadata and JWKS, so verification makes no request', async () => {
    const verifier = verifierA();
    await verifier.warmup();
    expect(a.requests).toMatchObject({ metadata: 1, jwks: 1 });
    await verifier.verify(await a.sign());
    expect(a.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('warmup rejects with the reason when the issuer is down, and a later call recovers', async () => {
    a.failNext('jwks', { status: 503 });
    const verifier = verifierA();
    const error = await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toContain('503');
    await verifier.warmup();
    expect(a.requests.jwks).toBe(2);
  });

  it('metadata() returns the discovered document, cached', async () => {
    const verifier = verifierA();
    expect(await verifier.metadata()).toEqual(a.metadata);
    await verifier.metadata();
    expect(a.requests).toMatchObject({ metadata: 1, jwks: 0 });
  });

  it('jwksUri skips discovery for verification; metadata() still discovers on demand', async () => {
    const verifier = verifierA({ jwksUri: a.metadata.jwks_uri! });
    await verifier.verify(await a.sign());
    expect(a.requests).toMatchObject({ metadata: 0, jwks: 1 });
    expect((await verifier.metadata()).issuer).toBe(a.issuer);
    expect(a.requests.metadata).toBe(1);
  });
});

describe('onEvent', () => {
  it('reports discovery, fetches, rotations and failures, in order', async () => {
    const events: VerifierEvent[] = [];
    const verifier = verifierA({ onEvent: (event) => events.push(event), cache: { cooldownMs: 0 } });
    await verifier.verify(await a.sign());
    const [added] = await a.rotateKeys();
    await verifier.verify(await a.sign());
    a.failNext('jwks', { status: 500 });
    await expectRejection(
      verifier.verify(await a.sign({}, { unpublishedKey: true })),
      'ERR_ISSUER_UNAVAILABLE',
    );
    expect(events.map((e) => e.type)).toEqual([
      'discovery',
      'jwks_fetched',
      'jwks_fetched',
      'key_rotated',
      'jwks_failed',
    ]);
    expect(events[1]).toMatchObject({
      url: a.metadata.jwks_uri,
      kids: [a.keys[0]!.kid],
      freshForMs: 600_000,
    });
    expect(events[3]).toEqual({ type: 'key_rotated', added: [added!.kid], removed: [] });
    expect(events[4]).toMatchObject({ servingStale: true, error: { code: 'ERR_ISSUER_UNAVAILABLE' } });
  });

  it('reports a failed discovery', async () => {
    a.failNext('metadata', { status: 500, times: 2 });
    const events: VerifierEvent[] = [];
    const verifier = verifierA({ onEvent: (event) => events.push(event) });
    await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    // The JWKS could not be fetched either, since its URL is in the metadata.
    expect(events).toEqual([
      expect.objectContaining({ type: 'discovery_failed', issuer: a.issuer, servingStale: false }),
      expect.objectContaining({ type: 'jwks_failed', servingStale: false }),
    ]);
  });

  it('ignores a listener that throws', async () => {
    const verifier = verifierA({
      onEvent: () => {
        throw new Error('listener bug');
      },
    });
    await verifier.verify(await a.sign());
  });
});

describe('options are checked at construction', () => {
  it.each<[string, Record<string, unknown>]>([
    ['no audience', { issuer: 'https://x.test' }],
    ['an empty audience array', { issuer: 'https://x.test', audience: [] }],
    ['no issuer', { audience: AUDIENCE }],
    ['an issuer with a query', { issuer: 'https://x.test/?a=1', audience: AUDIENCE }],
    ['an issuer with a fragment', { issuer: 'https://x.test/#a', audience: AUDIENCE }],
    ['an unknown discovery mode', { issuer: 'https://x.test', audience: AUDIENCE, discovery: 'both' }],
    ['HS256 in algorithms', { issuer: 'https://x.test', audience: AUDIENCE, algorithms: ['HS256'] }],
    ['an empty algorithms list', { issuer: 'https://x.test', audience: AUDIENCE, algorithms: [] }],
    ['a negative clockTolerance', { issuer: 'https://x.test', audience: AUDIENCE, clockTolerance: -1 }],
    ['a NaN timeoutMs', { issuer: 'https://x.test', audience: AUDIENCE, timeoutMs: Number.NaN }],
    ['a non-function fetch', { issuer: 'https://x.test', audience: AUDIENCE, fetch: 'fetch' }],
    ['a non-function validate', { issuer: 'https://x.test', audience: AUDIENCE, validate: true }],
    ['an empty typ', { issuer: 'https://x.test', audience: AUDIENCE, typ: '' }],
    ['requiredClaims as a string', { issuer: 'https://x.test', audience: AUDIENCE, requiredClaims: 'sub' }],
    ['cache as a number', { issuer: 'https://x.test', audience: AUDIENCE, cache: 5 }],
    ['a negative cooldown', { issuer: 'https://x.test', audience: AUDIENCE, cache: { cooldownMs: -5 } }],
  ])('throws a coded TypeError for %s', (_what, options) => {
    expect(() => new JwtVerifier(options as never)).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('MultiIssuerVerifier', () => {
  it('routes each token to its issuer by iss, from options or instances', async () => {
    const multi = new MultiIssuerVerifier([
      { issuer: a.issuer, audience: AUDIENCE },
      new JwtVerifier({ issuer: b.issuer, audience: AUDIENCE, discovery: 'oidc' }),
    ]);
    expect(multi.issuers).toEqual([a.issuer, b.issuer]);
    expect((await multi.verify(await a.sign({ sub: 'from-a' }))).payload.sub).toBe('from-a');
    const viaHeader = await multi.verifyAuthorizationHeader(`Bearer ${await b.sign({ sub: 'from-b' })}`);
    expect(viaHeader.payload).toMatchObject({ sub: 'from-b', iss: 'https://idp.test/tenant-b/' });
    expect(a.requests).toMatchObject({ metadata: 1, jwks: 1 });
    expect(b.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('refuses an unknown issuer with ERR_ISSUER_MISMATCH before any request', async () => {
    const multi = new MultiIssuerVerifier([{ issuer: a.issuer, audience: AUDIENCE }]);
    const token = await a.sign({ iss: 'https://stranger.test' });
    const error = await expectRejection(multi.verify(token), 'ERR_ISSUER_MISMATCH', token);
    expect(error.message).toContain('"https://stranger.test"');
    await expectRejection(multi.verify(await a.sign({ iss: undefined })), 'ERR_ISSUER_MISMATCH');
    expect(a.requests).toMatchObject({ metadata: 0, jwks: 0 });
  });

  it("lets a token signed by one issuer's key but claiming the other fail that issuer's checks", async () => {
    const multi = new MultiIssuerVerifier([
      { issuer: a.issuer, audience: AUDIENCE },
      { issuer: b.issuer, audience: AUDIENCE, discovery: 'oidc' },
    ]);
    const token = await a.sign({ iss: b.issuer });
    await expectRejection(multi.verify(token), 'ERR_KEY_NOT_FOUND', token);
  });

  it('refuses malformed tokens and missing headers with their own codes', async () => {
    const multi = new MultiIssuerVerifier([{ issuer: a.issuer, audience: AUDIENCE }]);
    await expectRejection(multi.verify('x.y'), 'ERR_TOKEN_MALFORMED');
    await expectRejection(multi.verifyAuthorizationHeader(undefined), 'ERR_TOKEN_MISSING');
  });

  it('warms every issuer up', async () => {
    const multi = new MultiIssuerVerifier([
      { issuer: a.issuer, audience: AUDIENCE },
      { issuer: b.issuer, audience: AUDIENCE, discovery: 'oidc' },
    ]);
    await multi.warmup();
    expect([a.requests.jwks, b.requests.jwks]).toEqual([1, 1]);
  });

  it('refuses an empty list and an issuer configured twice', () => {
    expect(() => new MultiIssuerVerifier([])).toThrow(TypeError);
    expect(
      () =>
        new MultiIssuerVerifier([
          { issuer: a.issuer, audience: AUDIENCE },
          { issuer: a.issuer, audience: 'https://other.test' },
        ]),
    ).toThrow(/configured twice/);
  });
});

// IntrospectionVerifier (RFC 7662) against the stub issuer's /introspect through msw
// (onUnhandledRequest: 'error'): discovery, client authentication, the answer checked like
// a JWT's claims, the SHA-256-keyed cache (counted requests, an injected clock), single
// flight, and outages that are 503s, never 401s.
import { inspect } from 'node:util';
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { IntrospectionVerifier, type IntrospectionVerifierOptions } from '../../src/index.js';
import { jsonResponse, useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const API = 'https://api.test';
const CLIENT = { clientId: 'orders-api', clientSecret: 'orders-secret' };
let clockMs = Date.parse('2030-01-01T00:00:00Z');
const now = () => clockMs;

const { server, issuer } = useMswIssuer({
  issuer: 'https://as.test',
  audience: API,
  clients: [CLIENT, { clientId: 'spa' }],
  now,
});

function verifierWith(options: Partial<IntrospectionVerifierOptions> = {}): IntrospectionVerifier {
  return new IntrospectionVerifier({ issuer: issuer.issuer, audience: API, ...CLIENT, now, ...options });
}

/** Verifies `token` now and again `ms` later, expecting one introspection request for both. */
async function answeredOnceOver(verifier: IntrospectionVerifier, token: string, ms: number): Promise<void> {
  await verifier.verify(token);
  clockMs += ms;
  await verifier.verify(token);
  expect(issuer.requests.introspect).toBe(1);
}

/** The introspection requests msw saw, as their headers and form bodies. */
function recordIntrospection(): { headers: Headers; form: URLSearchParams }[] {
  const seen: { headers: Headers; form: URLSearchParams }[] = [];
  server.events.on('request:start', async ({ request }) => {
    if (!request.url.endsWith('/introspect')) return;
    seen.push({ headers: request.headers, form: new URLSearchParams(await request.clone().text()) });
  });
  return seen;
}

describe('IntrospectionVerifier against the stub issuer (msw)', () => {
  it('discovers the endpoint, introspects an opaque token and returns the answer as the payload', async () => {
    const token = issuer.issueOpaqueToken({ sub: 'alice', client_id: 'spa', scope: 'read:orders' });
    const seen = recordIntrospection();
    const { payload, header } = await verifierWith().verify(token);
    expect(payload).toMatchObject({
      active: true,
      iss: issuer.issuer,
      aud: API,
      sub: 'alice',
      client_id: 'spa',
      scope: 'read:orders',
      token_type: 'Bearer',
    });
    expect(header).toEqual({ alg: 'none' });
    expect(issuer.requests).toMatchObject({ metadata: 1, introspect: 1, jwks: 0 });
    // RFC 7662 §2.1: a form POST with the token and a hint, the client in Basic credentials.
    expect(seen).toHaveLength(1);
    expect(Object.fromEntries(seen[0]!.form)).toEqual({ token, token_type_hint: 'access_token' });
    expect(seen[0]!.headers.get('authorization')).toBe(
      `Basic ${Buffer.from('orders-api:orders-secret').toString('base64')}`,
    );
    expect(seen[0]!.headers.get('accept')).toBe('application/json');
  });

  it('sends client_secret_post when the metadata lists only that for the introspection endpoint', async () => {
    server.use(
      http.get('https://as.test/.well-known/oauth-authorization-server', () =>
        jsonResponse({
          ...issuer.metadata,
          introspection_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt'],
        }),
      ),
    );
    const seen = recordIntrospection();
    const token = issuer.issueOpaqueToken({ sub: 'bob' });
    expect((await verifierWith().verify(token)).payload.sub).toBe('bob');
    expect(seen[0]!.headers.get('authorization')).toBeNull();
    expect(seen[0]!.form.get('client_id')).toBe('orders-api');
    expect(seen[0]!.form.get('client_secret')).toBe('orders-secret');
  });

  it('needs no jwks_uri in the metadata for plain answers', async () => {
    server.use(
      http.get('https://as.test/.well-known/oauth-authorization-server', () =>
        jsonResponse({ ...issuer.metadata, jwks_uri: undefined }),
      ),
    );
    expect((await verifierWith().verify(issuer.issueOpaqueToken({ sub: 'noa' }))).payload.sub).toBe('noa');
    const signed = verifierWith({ jwtResponse: true });
    const error = await expectRejection(signed.verify(issuer.issueOpaqueToken()), 'ERR_METADATA_INVALID');
    expect(error.message).toMatch(/jwks_uri is missing/);
  });

  it('skips discovery with introspectionEndpoint', async () => {
    const verifier = verifierWith({ introspectionEndpoint: 'https://as.test/introspect' });
    await verifier.verify(issuer.issueOpaqueToken({ sub: 'carol' }));
    expect(issuer.requests).toMatchObject({ metadata: 0, introspect: 1 });
  });

  it('verifies the Authorization header value, and refuses a missing one before any request', async () => {
    const verifier = verifierWith();
    const token = issuer.issueOpaqueToken({ sub: 'dave' });
    expect((await verifier.verifyAuthorizationHeader(`Bearer ${token}`)).payload.sub).toBe('dave');
    await expectRejection(verifier.verifyAuthorizationHeader('Basic abc'), 'ERR_TOKEN_MISSING');
  });

  it('caches an answer by the SHA-256 of the token: the token is nowhere in the verifier', async () => {
    const verifier = verifierWith();
    const token = issuer.issueOpaqueToken({ sub: 'erin' });
    for (let i = 0; i < 3; i++) await verifier.verify(token);
    expect(issuer.requests.introspect).toBe(1);
    expect(inspect(verifier, { depth: 20, showHidden: true })).not.toContain(token);
  });

  it('sends one request for concurrent callers of one token (single flight)', async () => {
    const verifier = verifierWith();
    const token = issuer.issueOpaqueToken({ sub: 'frank' });
    issuer.failNext('introspect', { delayMs: 50 });
    const results = await Promise.all(Array.from({ length: 20 }, () => verifier.verify(token)));
    expect(results.map((r) => r.payload.sub)).toEqual(Array(20).fill('frank'));
    expect(issuer.requests).toMatchObject({ metadata: 1, introspect: 1 });
  });

  it('returns copies: a caller changing its payload does not change the cached answer', async () => {
    const verifier = verifierWith();
    const token = issuer.issueOpaqueToken({ sub: 'gina' });
    (await verifier.verify(token)).payload.sub = 'mallory';
    expect((await verifier.verify(token)).payload.sub).toBe('gina');
  });

  it('keeps an active answer until maxAgeMs, then asks again', async () => {
    const verifier = verifierWith({ cache: { maxAgeMs: 10_000 } });
    const token = issuer.issueOpaqueToken({ sub: 'hal' });
    await answeredOnceOver(verifier, token, 9_999);
    clockMs += 1;
    await verifier.verify(token);
    expect(issuer.requests.introspect).toBe(2);
  });

  it('keeps an active answer no longer than the token lives (exp)', async () => {
    const verifier = verifierWith({ cache: { maxAgeMs: 600_000 } });
    const token = issuer.issueOpaqueToken({ sub: 'ivy' }, { expiresIn: 30 });
    await answeredOnceOver(verifier, token, 29_000);
    clockMs += 1_000;
    // The cached answer ended with exp; the issuer now says inactive.
    const error = await expectRejection(verifier.verify(token), 'ERR_CLAIM_INVALID', token);
    expect(error.message).toMatch(/not active/);
    expect(issuer.requests.introspect).toBe(2);
  });

  it('refuses an inactive (unknown) token with ERR_CLAIM_INVALID and keeps that answer briefly', async () => {
    const verifier = verifierWith({ cache: { inactiveMaxAgeMs: 2_000 } });
    const token = 'never-issued-by-this-issuer';
    const error = await expectRejection(verifier.verify(token), 'ERR_CLAIM_INVALID', token);
    expect(error.message).toMatch(/introspection endpoint says the token is not active/);
    expect(error.wwwAuthenticate()).toMatch(/^Bearer error="invalid_token"/);
    await expectRejection(verifier.verify(token), 'ERR_CLAIM_INVALID');
    expect(issuer.requests.introspect).toBe(1);
    clockMs += 2_000;
    await expectRejection(verifier.verify(token), 'ERR_CLAIM_INVALID');
    expect(issuer.requests.introspect).toBe(2);
  });

  it('refuses a revoked token once its cached answer ends (at once with maxAgeMs: 0)', async () => {
    const cached = verifierWith({ cache: { maxAgeMs: 5_000 } });
    const uncached = verifierWith({ cache: { maxAgeMs: 0 } });
    const token = issuer.issueOpaqueToken({ sub: 'jack', client_id: 'orders-api' });
    await cached.verify(token);
    await uncached.verify(token);
    const revoked = await issuer.fetch(issuer.metadata.revocation_endpoint!, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from('orders-api:orders-secret').toString('base64')}`,
      },
      body: new URLSearchParams({ token }),
    });
    expect(revoked.status).toBe(200);
    await expectRejection(uncached.verify(token), 'ERR_CLAIM_INVALID', token);
    expect((await cached.verify(token)).payload.sub).toBe('jack');
    clockMs += 5_000;
    await expectRejection(cached.verify(token), 'ERR_CLAIM_INVALID', token);
  });

  it('keeps at most maxEntries answers, dropping the least recently used', async () => {
    const verifier = verifierWith({ cache: { maxEntries: 2 } });
    const [a, b, c] = ['kim', 'lee', 'max'].map((sub) => issuer.issueOpaqueToken({ sub })) as [
      string,
      string,
      string,
    ];
    await verifier.verify(a);
    await verifier.verify(b);
    await verifier.verify(a); // a is now the most recently used
    await verifier.verify(c); // drops b
    expect(issuer.requests.introspect).toBe(3);
    await verifier.verify(a);
    expect(issuer.requests.introspect).toBe(3);
    await verifier.verify(b);
    expect(issuer.requests.introspect).toBe(4);
  });

  it('checks the answer like JWT claims: audience, issuer, expiry, scopes, validate', async () => {
    const cases: [Record<string, unknown>, Partial<IntrospectionVerifierOptions>, string][] = [
      [{ aud: 'https://other.test' }, {}, 'ERR_AUDIENCE_MISMATCH'],
      [{ aud: undefined }, {}, 'ERR_CLAIM_INVALID'],
      [{ iss: 'https://impostor.test' }, {}, 'ERR_ISSUER_MISMATCH'],
      [{ nbf: Math.floor(clockMs / 1000) + 600 }, {}, 'ERR_TOKEN_NOT_YET_VALID'],
      [{ scope: 'read' }, { requiredScopes: ['read', 'write'] }, 'ERR_INSUFFICIENT_SCOPE'],
      [{ exp: '2030' }, {}, 'ERR_CLAIM_INVALID'],
      [{ token_type: 'refresh_token' }, {}, 'ERR_CLAIM_INVALID'],
      [{ sub: 'nobody' }, { validate: () => Promise.reject(new Error('no such user')) }, 'ERR_CLAIM_INVALID'],
    ];
    for (const [claims, options, code] of cases) {
      const token = issuer.issueOpaqueToken(claims);
      await expectRejection(verifierWith(options).verify(token), code as never, token);
    }
  });

  it('accepts an answer without aud when audience is null, and one without iss or exp', async () => {
    const token = issuer.issueOpaqueToken({ aud: undefined, iss: undefined, exp: undefined });
    const { payload } = await verifierWith({ audience: null }).verify(token);
    expect(payload).toMatchObject({ active: true });
    expect(payload).not.toHaveProperty('exp');
  });

  it('refuses an answer whose exp passed (clock skew) with ERR_TOKEN_EXPIRED, within tolerance not', async () => {
    // The issuer's clock is behind ours: it still calls the token active.
    const token = issuer.issueOpaqueToken({ exp: Math.floor(clockMs / 1000) - 30 });
    server.use(
      http.post('https://as.test/introspect', () =>
        jsonResponse({ active: true, iss: issuer.issuer, aud: API, exp: Math.floor(clockMs / 1000) - 30 }),
      ),
    );
    await expectRejection(verifierWith().verify(token), 'ERR_TOKEN_EXPIRED', token);
    expect((await verifierWith({ clockTolerance: 60 }).verify(token)).payload.active).toBe(true);
  });

  it('refuses malformed tokens before any request', async () => {
    const verifier = verifierWith({ maxTokenLength: 100 });
    for (const token of ['with space', 'tab\there', 'ümlaut', 'x'.repeat(101)]) {
      await expectRejection(verifier.verify(token), 'ERR_TOKEN_MALFORMED', token);
    }
    await expectRejection(verifier.verify(42 as never), 'ERR_TOKEN_MALFORMED');
    await expectRejection(verifier.verify(''), 'ERR_TOKEN_MISSING');
    expect(issuer.requests).toMatchObject({ metadata: 0, introspect: 0 });
  });
});

describe('IntrospectionVerifier when the issuer fails: ERR_ISSUER_UNAVAILABLE, never a 401', () => {
  it.each([
    ['a 500', { status: 500 }],
    ['a 503 with Retry-After', { status: 503, headers: { 'retry-after': '7' } }],
    ['an HTML page', { status: 502, malformed: 'html' as const }],
    ['truncated JSON', { malformed: true as const }],
    ['JSON without active', { status: 200, body: { sub: 'x' } }],
    ['a 400 invalid_request', { status: 400, body: { error: 'invalid_request' } }],
  ])('%s', async (_name, failure) => {
    const verifier = verifierWith();
    const token = issuer.issueOpaqueToken({ sub: 'nina' });
    issuer.failNext('introspect', failure);
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.status).toBe(503);
    expect(error.message).toContain('https://as.test/introspect');
    if ('headers' in failure) expect(error.details.retryAfterSeconds).toBe(7);
    // A failure is not cached: the next call asks again and succeeds.
    expect((await verifier.verify(token)).payload.sub).toBe('nina');
    expect(issuer.requests.introspect).toBe(2);
  });

  it("a wrong client secret (401 invalid_client) is the server side's problem, not the caller's", async () => {
    const verifier = verifierWith({ clientSecret: 'wrong' });
    const error = await expectRejection(verifier.verify(issuer.issueOpaqueToken()), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.details.issuerStatus).toBe(401);
    expect(error.message).toMatch(/invalid_client|wrong client secret/);
  });

  it('a timeout', async () => {
    const verifier = verifierWith({ timeoutMs: 50, introspectionEndpoint: 'https://as.test/introspect' });
    issuer.failNext('introspect', { delayMs: 5_000 });
    const error = await expectRejection(verifier.verify(issuer.issueOpaqueToken()), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toMatch(/did not answer within 50 ms/);
  });

  it('metadata without introspection_endpoint is ERR_METADATA_INVALID, naming the option', async () => {
    server.use(
      http.get('https://as.test/.well-known/oauth-authorization-server', () =>
        jsonResponse({ ...issuer.metadata, introspection_endpoint: undefined }),
      ),
    );
    const error = await expectRejection(verifierWith().verify('opaque-token'), 'ERR_METADATA_INVALID');
    expect(error.message).toMatch(/no introspection_endpoint; pass introspectionEndpoint/);
  });
});

describe('IntrospectionVerifier options', () => {
  it.each([
    [{ clientId: undefined }, /clientId must be a non-empty string/],
    [{ clientSecret: '' }, /clientSecret must be a non-empty string/],
    [{ clientAuthMethod: 'private_key_jwt' }, /clientAuthMethod must be/],
    [{ introspectionEndpoint: 'http://as.example/introspect' }, /introspectionEndpoint must use https/],
    [{ jwtResponse: 'yes' }, /jwtResponse must be a boolean/],
    [{ cache: { maxEntries: -1 } }, /cache.maxEntries/],
    [{ cache: { maxAgeMs: Infinity } }, /cache.maxAgeMs/],
    [{ audience: undefined }, /audience is required/],
  ])('%j is a coded TypeError at construction', (options, message) => {
    expect(() => verifierWith(options as never)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      }),
    );
  });

  it('exposes issuer and audience, and metadata() and warmup() discover once', async () => {
    const verifier = verifierWith();
    expect(verifier.issuer).toBe('https://as.test');
    expect(verifier.audience).toEqual([API]);
    await verifier.warmup();
    expect((await verifier.metadata()).introspection_endpoint).toBe('https://as.test/introspect');
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 0, introspect: 0 });
    verifier.close();
  });
});

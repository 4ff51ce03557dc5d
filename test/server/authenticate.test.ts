import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthenticateFailure,
  type AuthenticateResult,
  type TokenVerifier,
  JwtVerifier,
  JwtVerifyError,
  authenticate,
} from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';

const AUDIENCE = 'https://api.test';
let issuer: TestIssuer;
let verifier: JwtVerifier;
const server = setupServer();

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: 'https://issuer.test', audience: AUDIENCE });
  server.listen({ onUnhandledRequest: 'error' });
  verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
});
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

const fetchRequest = (authorization?: string) =>
  new Request('https://api.test/orders', { headers: authorization === undefined ? {} : { authorization } });

/** A verifier that rejects with whatever it is given, to see how each failure is answered. */
const rejecting = (reason: unknown): TokenVerifier => ({ verify: () => Promise.reject(reason) });

function failed(result: AuthenticateResult): AuthenticateFailure {
  if (result.ok) throw new Error('expected a rejection');
  return result;
}

describe('authenticate() with a Fetch Request (msw issuer)', () => {
  it('resolves the verified token, having fetched metadata and JWKS once', async () => {
    server.use(...issuer.handlers);
    issuer.reset();
    const token = await issuer.sign({ sub: 'alice', scope: 'read:orders' });
    const results = await Promise.all(
      [1, 2, 3].map(() => authenticate(verifier, fetchRequest(`Bearer ${token}`))),
    );
    for (const result of results) {
      expect(result).toEqual({
        ok: true,
        token: { payload: expect.objectContaining({ sub: 'alice' }), header: expect.any(Object) },
      });
    }
    expect(issuer.requests.metadata).toBe(1);
    expect(issuer.requests.jwks).toBe(1);
  });

  it('accepts the scheme in any case and several spaces before the token (RFC 6750 §2.1)', async () => {
    server.use(...issuer.handlers);
    const token = await issuer.sign({ sub: 'bob' });
    const result = await authenticate(verifier, fetchRequest(`bEaReR   ${token}`));
    expect(result.ok).toBe(true);
  });

  it('applies requiredScopes per call, as a string or an array', async () => {
    server.use(...issuer.handlers);
    const token = await issuer.sign({ sub: 'alice', scope: 'read:orders profile' });
    expect(
      (
        await authenticate(verifier, fetchRequest(`Bearer ${token}`), {
          requiredScopes: 'read:orders profile',
        })
      ).ok,
    ).toBe(true);
    const result = failed(
      await authenticate(verifier, fetchRequest(`Bearer ${token}`), {
        requiredScopes: ['read:orders', 'write:orders'],
        realm: 'api',
      }),
    );
    expect(result.body.code).toBe('ERR_INSUFFICIENT_SCOPE');
    expect(result.status).toBe(403);
    expect(result.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="the token lacks the scope write:orders (granted: read:orders profile)", scope="read:orders write:orders"',
    );
  });

  it('answers a missing token with a bare challenge when there is no realm', async () => {
    const result = failed(await authenticate(verifier, fetchRequest()));
    expect(result.body).toEqual({
      error: 'unauthorized',
      error_description: 'no Authorization header',
      code: 'ERR_TOKEN_MISSING',
    });
    expect(result.status).toBe(401);
    expect(result.headers).toEqual({
      'Content-Type': 'application/json; charset=utf-8',
      'Cache-Control': 'no-store',
      'WWW-Authenticate': 'Bearer',
    });
    expect(result.error).toBeInstanceOf(JwtVerifyError);
  });

  it('refuses two Bearer credentials joined into one Fetch header', async () => {
    const request = fetchRequest('Bearer a.b.c');
    request.headers.append('authorization', 'Bearer d.e.f');
    const result = failed(await authenticate(verifier, request));
    expect(result.body.code).toBe('ERR_TOKEN_MALFORMED');
    expect(result.status).toBe(401);
  });

  it('never puts the token in the answer', async () => {
    server.use(...issuer.handlers);
    const token = await issuer.sign({ sub: 'alice' }, { expiresIn: -10 });
    const result = failed(await authenticate(verifier, fetchRequest(`Bearer ${token}`)));
    expect(result.body.code).toBe('ERR_TOKEN_EXPIRED');
    expect(JSON.stringify(result)).not.toContain(token.split('.')[1]);
  });
});

describe('authenticate() with a Node IncomingMessage shape', () => {
  it('reads headers.authorization', async () => {
    const token = await issuer.sign({ sub: 'carol' });
    server.use(...issuer.handlers);
    const result = await authenticate(verifier, { headers: { authorization: `Bearer ${token}` } });
    expect(result.ok && result.token.payload.sub).toBe('carol');
  });

  it('refuses repeated Authorization headers, which Node would silently drop to the first', async () => {
    const token = await issuer.sign({ sub: 'carol' });
    const message = {
      headers: { authorization: `Bearer ${token}` },
      rawHeaders: ['Host', 'api.test', 'Authorization', `Bearer ${token}`, 'authorization', 'Bearer other'],
    };
    const result = failed(await authenticate(verifier, message));
    expect(result.body.code).toBe('ERR_TOKEN_MALFORMED');
    expect(result.body.error_description).toBe('more than one Authorization header');
  });
});

describe('how failures are answered', () => {
  it.each([
    ['ERR_ISSUER_UNAVAILABLE', {}, '10'],
    ['ERR_ISSUER_UNAVAILABLE', { retryAfterSeconds: 42 }, '42'],
    ['ERR_METADATA_INVALID', {}, '10'],
  ] as const)('%s %o → 503 with Retry-After %s and no challenge', async (code, details, retryAfter) => {
    const reason = new JwtVerifyError(code, 'https://idp.internal/jwks answered 502', { details });
    const result = failed(
      await authenticate(rejecting(reason), fetchRequest('Bearer a.b.c'), { realm: 'api' }),
    );
    expect(result.body.code).toBe(code);
    expect(result.status).toBe(503);
    expect(result.headers['Retry-After']).toBe(retryAfter);
    expect(result.headers['WWW-Authenticate']).toBeUndefined();
    expect(result.body.error).toBe('temporarily_unavailable');
    expect(result.body.error_description).not.toContain('idp.internal');
    expect(result.error).toBe(reason);
  });

  it('calls onFailure with each rejection, and ignores what it throws', async () => {
    const seen: AuthenticateFailure[] = [];
    const onFailure = (failure: AuthenticateFailure) => {
      seen.push(failure);
      throw new Error('a broken logger');
    };
    const outage = new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', 'https://idp.internal/jwks answered 502');
    const result = failed(await authenticate(rejecting(outage), fetchRequest('Bearer a.b.c'), { onFailure }));
    expect(result.body.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(seen).toEqual([result]);
    expect(seen[0]!.error.message).toContain('idp.internal');

    const missing = failed(await authenticate(verifier, fetchRequest(), { onFailure }));
    expect(seen).toEqual([result, missing]);
    expect((await authenticate(verifierStub(), fetchRequest(), { onFailure: 'log' as never })).ok).toBe(
      false,
    );
  });

  it('rounds a fractional retryAfterSeconds option up to whole seconds', async () => {
    const reason = new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', 'down');
    const result = failed(
      await authenticate(rejecting(reason), fetchRequest('Bearer a.b.c'), { retryAfterSeconds: 2.5 }),
    );
    expect(result.headers['Retry-After']).toBe('3');
  });

  it('answers 500 server_error, not invalid_token, when the verifier fails unexpectedly', async () => {
    const bug = new RangeError('boom');
    const result = failed(await authenticate(rejecting(bug), fetchRequest('Bearer a.b.c')));
    expect(result.body).toEqual({
      error: 'server_error',
      error_description: 'the access token could not be checked because of an internal error',
      code: 'ERR_INTERNAL',
    });
    expect(result.status).toBe(500);
    expect(result.headers['WWW-Authenticate']).toBeUndefined();
    expect(result.error).toBe(bug);
  });

  it('wraps a thrown non-Error value so `error` is always an Error', async () => {
    const result = failed(await authenticate(rejecting('nope'), fetchRequest('Bearer a.b.c')));
    expect(result.body.code).toBe('ERR_INTERNAL');
    expect(result.error).toBeInstanceOf(Error);
    expect(result.error.cause).toBe('nope');
  });

  it.each([
    ['no verifier', null, fetchRequest('Bearer a.b.c'), {}],
    ['a request without headers', verifierStub(), {}, {}],
    ['a bad realm', verifierStub(), fetchRequest('Bearer a.b.c'), { realm: 7 }],
    ['bad requiredScopes', verifierStub(), fetchRequest('Bearer a.b.c'), { requiredScopes: [''] }],
    ['a negative retryAfterSeconds', verifierStub(), fetchRequest('Bearer a.b.c'), { retryAfterSeconds: -1 }],
  ])('resolves (never rejects) a 500 for a caller mistake: %s', async (_name, v, request, options) => {
    const result = failed(await authenticate(v as never, request as never, options as never));
    expect(result.body.code).toBe('ERR_INTERNAL');
    expect(result.status).toBe(500);
    expect(result.error).toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' });
  });
});

function verifierStub(): TokenVerifier {
  return { verify: () => Promise.reject(new Error('not reached')) };
}

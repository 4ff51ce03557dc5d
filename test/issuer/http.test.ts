// The verifier's HTTP through msw and injected fetch functions: the fetch seam, headers,
// per-request timeout, response size cap, the HTTPS rule, and how failures are reported.
import { http } from 'msw';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { type FetchLike, JwtVerifier } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const AUDIENCE = 'https://api.test';
// Handlers are installed per describe: the fetch-option tests need none.
const { server, issuer } = useMswIssuer({ issuer: 'https://http.test' }, { installHandlers: false });

const verifierFor = (options: Partial<ConstructorParameters<typeof JwtVerifier>[0]> = {}) =>
  new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, ...options });

describe('the fetch option', () => {
  it('sends every request through an injected fetch, with the configured headers', async () => {
    const seen: { url: string; headers: Headers }[] = [];
    const injected: FetchLike = async (input, init) => {
      const request = new Request(input, init);
      seen.push({ url: request.url, headers: request.headers });
      return issuer.fetch(request);
    };
    // No msw handler is installed: a request to the global fetch would fail the test.
    const verifier = verifierFor({ fetch: injected, headers: { 'user-agent': 'api/1.0' } });
    await verifier.verify(await issuer.sign());
    expect(seen.map((s) => s.url)).toEqual([
      'https://http.test/.well-known/oauth-authorization-server',
      'https://http.test/jwks',
    ]);
    for (const { headers } of seen) {
      expect(headers.get('user-agent')).toBe('api/1.0');
      expect(headers.get('accept')).toContain('application/json');
    }
  });

  it('looks the global fetch up at request time, so one stubbed after construction is used', async () => {
    const verifier = verifierFor();
    const stub = vi.fn((input: string | URL | Request, init?: RequestInit) => issuer.fetch(input, init));
    vi.stubGlobal('fetch', stub);
    await verifier.verify(await issuer.sign());
    expect(stub).toHaveBeenCalledTimes(2);
  });

  it('turns a fetch that throws into ERR_ISSUER_UNAVAILABLE naming the URL and the cause', async () => {
    const verifier = verifierFor({
      fetch: () =>
        Promise.reject(
          new TypeError('fetch failed', { cause: new Error('getaddrinfo ENOTFOUND http.test') }),
        ),
    });
    const error = await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toContain('https://http.test/.well-known/oauth-authorization-server');
    expect(error.message).toContain('fetch failed');
  });
});

describe('timeout and size cap', () => {
  beforeEach(() => server.use(...issuer.handlers));

  it('gives up on a request after timeoutMs', async () => {
    issuer.failNext('jwks', { delayMs: 10_000 });
    const verifier = verifierFor({ timeoutMs: 50 });
    const token = await issuer.sign();
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toContain('50 ms');
    expect(error.message).toContain('https://http.test/jwks');
  });

  it('refuses a body over maxResponseBytes, declared by content-length', async () => {
    const verifier = verifierFor({ maxResponseBytes: 200 });
    const error = await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toMatch(/200.byte/);
  });

  it('refuses a streamed body over maxResponseBytes, without content-length', async () => {
    server.use(
      http.get('https://http.test/jwks', () => {
        const chunk = new TextEncoder().encode(' '.repeat(1024));
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent++ < 64) controller.enqueue(chunk);
            else controller.close();
          },
        });
        return new Response(body, { headers: { 'content-type': 'application/json' } });
      }),
    );
    const verifier = verifierFor({ maxResponseBytes: 10_000 });
    const error = await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toMatch(/10000.byte/);
  });

  it('accepts a JWKS within the cap', async () => {
    const size = JSON.stringify(issuer.jwks()).length;
    const verifier = verifierFor({ maxResponseBytes: size + 10, jwksUri: issuer.metadata.jwks_uri! });
    await verifier.verify(await issuer.sign());
  });
});

describe('failures carry the status and the server message', () => {
  beforeEach(() => server.use(...issuer.handlers));

  it.each<[string, Parameters<TestIssuer['failNext']>[1], RegExp]>([
    [
      'a JSON error with message (ApiErrorResponse)',
      {
        status: 500,
        body: { message: 'Failed to load keys', timestamp: '2026-01-01T00:00:00Z', type: 'internal_error' },
      },
      /500.*Failed to load keys/,
    ],
    [
      'an OAuth error',
      { status: 503, body: { error: 'temporarily_unavailable', error_description: 'maintenance' } },
      /503.*maintenance/,
    ],
    ['a plain-text body', { status: 500, body: 'Failed to load keys' }, /500.*Failed to load keys/],
    ['an HTML error page', { status: 502, malformed: 'html' }, /502.*HTML/],
    [
      'a 404',
      { status: 404, body: { message: 'Not found', timestamp: 'now', type: 'not_found' } },
      /404.*Not found/,
    ],
    ['a 200 that is not JSON (truncated)', { malformed: true }, /200.*not JSON/],
    ['a 200 HTML page', { status: 200, malformed: 'html' }, /200.*not JSON.*text\/html/],
  ])('%s', async (_what, failure, message) => {
    issuer.failNext('jwks', failure);
    const verifier = verifierFor();
    const token = await issuer.sign();
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toMatch(message);
    expect(error.message).toContain('https://http.test/jwks');
    expect(error.details.url).toBe('https://http.test/jwks');
  });

  it('follows a same-origin redirect and refuses a cross-origin one', async () => {
    server.use(
      http.get(
        'https://http.test/keys-moved',
        () => new Response(null, { status: 302, headers: { location: '/jwks' } }),
      ),
      http.get(
        'https://http.test/keys-elsewhere',
        () => new Response(null, { status: 302, headers: { location: 'https://evil.test/jwks' } }),
      ),
    );
    const moved = verifierFor({ jwksUri: 'https://http.test/keys-moved' });
    await moved.verify(await issuer.sign());
    const elsewhere = verifierFor({ jwksUri: 'https://http.test/keys-elsewhere' });
    const error = await expectRejection(elsewhere.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toContain('https://evil.test');
  });
});

describe('the HTTPS rule', () => {
  it.each(['http://idp.example.com', 'ftp://idp.example.com', 'not a url'])(
    'refuses the issuer %s at construction',
    (issuerId) => {
      expect(() => new JwtVerifier({ issuer: issuerId, audience: AUDIENCE })).toThrow(
        expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' }),
      );
    },
  );

  it('refuses a plain-http jwksUri to a non-loopback host at construction', () => {
    expect(() => verifierFor({ jwksUri: 'http://keys.example.com/jwks' })).toThrow(TypeError);
  });

  it.each(['http://localhost:4000', 'http://127.0.0.1:4000', 'http://127.8.9.10', 'http://[::1]:4000'])(
    'accepts the loopback issuer %s',
    (issuerId) => {
      expect(new JwtVerifier({ issuer: issuerId, audience: AUDIENCE }).issuer).toBe(issuerId);
    },
  );

  it('verifies tokens from a plain-http issuer with allowInsecureHttp', async () => {
    const insecure = await createTestIssuer({ issuer: 'http://idp.example.com' });
    server.use(...insecure.handlers);
    const verifier = new JwtVerifier({
      issuer: insecure.issuer,
      audience: AUDIENCE,
      allowInsecureHttp: true,
    });
    expect((await verifier.verify(await insecure.sign({ sub: 'u' }))).payload.sub).toBe('u');
  });
});

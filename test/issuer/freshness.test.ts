// Freshness and outages through msw, on an injected clock: Cache-Control max-age within the
// bounds, the default max age, no-cache, revalidation, stale-if-error and Retry-After.
import { http } from 'msw';
import { beforeEach, describe, expect, it } from 'vitest';
import { type CacheOptions, JwtVerifier, type VerifierEvent } from '../../src/index.js';
import { jsonResponse, useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const AUDIENCE = 'https://api.test';
let now = 1_800_000_000_000;
const clock = () => now;
const { server, issuer } = useMswIssuer({
  issuer: 'https://fresh.test',
  now: clock,
  tokenTtlSeconds: 365 * 86_400,
});
beforeEach(() => {
  now = 1_800_000_000_000;
});

/** Serves the issuer's metadata, and its JWKS with these response headers. */
function serveWithHeaders(headers: Record<string, string>): void {
  server.use(
    http.get(issuer.metadata.jwks_uri!, async ({ request }) => {
      const response = await issuer.fetch(request);
      return jsonResponse(await response.json(), { status: response.status, headers });
    }),
    ...issuer.handlers,
  );
}

function verifierFor(cache?: CacheOptions, onEvent?: (e: VerifierEvent) => void): JwtVerifier {
  return new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, now: clock, cache, onEvent });
}

/** Verifies a token at `atMs` after the start and returns the JWKS requests so far. */
async function jwksRequestsAt(verifier: JwtVerifier, token: string, atMs: number): Promise<number> {
  now = 1_800_000_000_000 + atMs;
  await verifier.verify(token);
  return issuer.requests.jwks;
}

describe('Cache-Control', () => {
  it.each<[string, Record<string, string>, CacheOptions | undefined, number]>([
    ['no Cache-Control: the default max age, 10 minutes', {}, undefined, 600_000],
    ['max-age=120', { 'cache-control': 'public, max-age=120' }, undefined, 120_000],
    ['max-age below the minimum (30 s by default)', { 'cache-control': 'max-age=5' }, undefined, 30_000],
    [
      'max-age above the maximum (10 minutes by default)',
      { 'cache-control': 'max-age=86400' },
      undefined,
      600_000,
    ],
    ['no-cache: the minimum', { 'cache-control': 'no-cache' }, undefined, 30_000],
    ['no-store: the minimum', { 'cache-control': 'no-store' }, undefined, 30_000],
    ['max-age less Age', { 'cache-control': 'max-age=300', age: '100' }, undefined, 200_000],
    ['a configured maximum', { 'cache-control': 'max-age=3600' }, { maxAgeMs: 60_000 }, 60_000],
    ['a configured default', {}, { maxAgeMs: 90_000 }, 90_000],
    ['a configured minimum', { 'cache-control': 'max-age=1' }, { minAgeMs: 2_000 }, 2_000],
  ])('%s', async (_what, headers, cache, freshForMs) => {
    serveWithHeaders(headers);
    const events: VerifierEvent[] = [];
    const verifier = verifierFor(cache, (e) => events.push(e));
    const token = await issuer.sign();
    expect(await jwksRequestsAt(verifier, token, 0)).toBe(1);
    expect(events.find((e) => e.type === 'jwks_fetched')).toMatchObject({ freshForMs });
    expect(await jwksRequestsAt(verifier, token, freshForMs - 1)).toBe(1);
    expect(await jwksRequestsAt(verifier, token, freshForMs + 1)).toBe(2);
  });

  it('revalidates with If-None-Match and keeps the keys on 304', async () => {
    const conditional: (string | null)[] = [];
    server.use(
      http.get(issuer.metadata.jwks_uri!, ({ request }) => {
        conditional.push(request.headers.get('if-none-match'));
        if (request.headers.get('if-none-match') === '"v1"')
          return new Response(null, { status: 304, headers: { 'cache-control': 'max-age=60' } });
        return jsonResponse(issuer.jwks(), { headers: { etag: '"v1"', 'cache-control': 'max-age=60' } });
      }),
      ...issuer.handlers,
    );
    const events: VerifierEvent[] = [];
    const verifier = verifierFor({ minAgeMs: 0 }, (e) => events.push(e));
    const token = await issuer.sign();
    await jwksRequestsAt(verifier, token, 0);
    await jwksRequestsAt(verifier, token, 61_000);
    expect(conditional).toEqual([null, '"v1"']);
    expect(events.filter((e) => e.type === 'jwks_revalidated')).toEqual([
      { type: 'jwks_revalidated', url: issuer.metadata.jwks_uri, freshForMs: 60_000 },
    ]);
    await jwksRequestsAt(verifier, token, 120_000); // fresh again after the 304
    expect(conditional).toHaveLength(2);
  });
});

describe('stale-if-error', () => {
  it('keeps verifying known keys while the issuer fails, and refuses unknown kids as unavailable', async () => {
    const events: VerifierEvent[] = [];
    const verifier = verifierFor({ maxAgeMs: 60_000 }, (e) => events.push(e));
    const token = await issuer.sign();
    await jwksRequestsAt(verifier, token, 0);

    issuer.failNext('jwks', { status: 503, times: Infinity });
    expect(await jwksRequestsAt(verifier, token, 61_000)).toBe(2); // stale: tried, failed, served stale
    expect(events.filter((e) => e.type === 'jwks_failed')).toEqual([
      expect.objectContaining({
        servingStale: true,
        error: expect.objectContaining({ code: 'ERR_ISSUER_UNAVAILABLE' }),
      }),
    ]);
    // Every token of the outage does not become a request: one per cooldown (5 s).
    for (let i = 0; i < 10; i++) await jwksRequestsAt(verifier, token, 62_000 + i * 100);
    expect(issuer.requests.jwks).toBe(2);
    expect(await jwksRequestsAt(verifier, token, 67_000)).toBe(3);

    const unknown = await issuer.sign({}, { unpublishedKey: true });
    now += 10_000;
    const error = await expectRejection(verifier.verify(unknown), 'ERR_ISSUER_UNAVAILABLE', unknown);
    expect(error.message).toContain('503');
    expect(error.wwwAuthenticate('api')).toBe('Bearer realm="api"');
  });

  it('stops serving stale keys once staleIfErrorMs has passed', async () => {
    const verifier = verifierFor({ maxAgeMs: 60_000, staleIfErrorMs: 120_000 });
    const token = await issuer.sign();
    await jwksRequestsAt(verifier, token, 0);
    issuer.failNext('jwks', { status: 500, times: Infinity });
    await jwksRequestsAt(verifier, token, 179_000); // 60 s fresh + 119 s stale
    now = 1_800_000_000_000 + 181_000;
    await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
  });

  it('recovers when the issuer is back', async () => {
    const verifier = verifierFor({ maxAgeMs: 60_000 });
    const token = await issuer.sign();
    await jwksRequestsAt(verifier, token, 0);
    issuer.failNext('jwks', { status: 500 });
    await jwksRequestsAt(verifier, token, 61_000);
    expect(await jwksRequestsAt(verifier, token, 67_000)).toBe(3); // refetched and fresh again
    expect(await jwksRequestsAt(verifier, token, 120_000)).toBe(3);
  });

  it('fails a cold start with ERR_ISSUER_UNAVAILABLE carrying the status and the server message', async () => {
    issuer.failNext('jwks', {
      status: 500,
      body: { message: 'Failed to load keys', timestamp: 'now', type: 'internal' },
    });
    const verifier = verifierFor();
    const token = await issuer.sign();
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toMatch(/500.*Failed to load keys/);
    expect(error.details).toMatchObject({ issuerStatus: 500, url: issuer.metadata.jwks_uri });
  });
});

describe('Retry-After', () => {
  it('does not ask again before Retry-After, and says when to retry', async () => {
    issuer.failNext('jwks', { status: 503, headers: { 'retry-after': '30' } });
    const verifier = verifierFor();
    const token = await issuer.sign();
    const first = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(first.details.retryAfterSeconds).toBe(30);
    now += 29_000;
    const second = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(second.details.retryAfterSeconds).toBe(30);
    expect(issuer.requests.jwks).toBe(1);
    now += 2_000;
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('honours Retry-After on the metadata too', async () => {
    issuer.failNext('metadata', { status: 503, headers: { 'retry-after': '10' }, times: 2 });
    const verifier = verifierFor();
    await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(issuer.requests.metadata).toBe(2); // auto mode: RFC 8414, then OIDC, once
    now += 11_000;
    await verifier.warmup();
    expect(issuer.requests.metadata).toBe(3);
  });

  it('retries a cold failure without Retry-After on the next call', async () => {
    issuer.failNext('jwks', { status: 502 });
    const verifier = verifierFor();
    const token = await issuer.sign();
    await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('backs off repeated cold failures (1 s, 2 s, 4 s, then the 5 s cooldown) instead of a request per call', async () => {
    issuer.failNext('jwks', { status: 502, times: Infinity });
    const verifier = verifierFor();
    const token = await issuer.sign();
    const start = now;
    /** Calls verify 5 times at `atMs` after the start; returns the JWKS requests so far. */
    const failingAt = async (atMs: number) => {
      now = start + atMs;
      for (let call = 0; call < 5; call++)
        await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
      return issuer.requests.jwks;
    };
    expect(await failingAt(0)).toBe(2); // the first failure is retried at once, the second backs off
    expect(await failingAt(999)).toBe(2);
    expect(await failingAt(1_000)).toBe(3); // then waits 2 s
    expect(await failingAt(2_999)).toBe(3);
    expect(await failingAt(3_000)).toBe(4); // then 4 s
    expect(await failingAt(7_000)).toBe(5); // then the cap, cooldownMs (5 s)
    expect(await failingAt(11_999)).toBe(5);
    expect(await failingAt(12_000)).toBe(6);
  });

  it('recovers from a cold outage within one backoff once the issuer is back', async () => {
    issuer.failNext('jwks', { status: 502, times: 3 });
    const verifier = verifierFor();
    const token = await issuer.sign();
    for (let call = 0; call < 3; call++)
      await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(issuer.requests.jwks).toBe(2);
    now += 1_000;
    await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token); // the third failure
    now += 2_000;
    await verifier.verify(token); // the issuer is back: verified on the first call after the backoff
    expect(issuer.requests.jwks).toBe(4);
    now += 1;
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(4);
  });
});

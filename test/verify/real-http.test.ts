// The verifier over real HTTP to node:http servers on 127.0.0.1 (no msw in this file): the
// testing issuer in listen mode, and the seeds' literal servers (seed-servers.ts). Waiting
// for a cooldown uses a small cooldownMs and awaits the verification itself, never a sleep.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, type VerifierEvent } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { type Listening, listen } from '../../src/testing/listen.js';
import {
  ALTOSTRAT_API,
  type SeedServer,
  altostrat,
  archera,
  archeraToken,
  auth0Token,
} from '../support/seed-servers.js';
import { expectRejection } from '../support/rejections.js';
import { randomKid, signWith } from '../support/tokens.js';

const AUDIENCE = 'https://api.test';
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, issuer: 'http://localhost/tenant-1' });
});
beforeEach(() => issuer.reset());
afterAll(() => issuer.close());

const verifierFor = (options: Partial<ConstructorParameters<typeof JwtVerifier>[0]> = {}) =>
  new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, ...options });

/** Copies of a valid token that name kids the issuer never published. */
function withRandomKids(token: string, count: number): string[] {
  const [, payload, signature] = token.split('.');
  return Array.from({ length: count }, () => {
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', kid: randomKid() })).toString('base64url');
    return `${header}.${payload}.${signature}`;
  });
}

describe('the testing issuer over real HTTP', () => {
  it('keeps the issuer path and discovers it with RFC 8414 path insertion', async () => {
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/tenant-1$/);
    const events: VerifierEvent[] = [];
    const verifier = verifierFor({ onEvent: (e) => events.push(e) });
    await verifier.verify(await issuer.sign());
    const origin = new URL(issuer.issuer).origin;
    expect(events[0]).toMatchObject({
      type: 'discovery',
      url: `${origin}/.well-known/oauth-authorization-server/tenant-1`,
    });
  });

  it('answers 100 parallel verify calls on a cold start with 1 metadata and 1 JWKS request', async () => {
    const verifier = verifierFor();
    const token = await issuer.sign({ sub: 'u' });
    const results = await Promise.all(Array.from({ length: 100 }, () => verifier.verify(token)));
    expect(results.every((r) => r.payload.sub === 'u')).toBe(true);
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('verifies a key published right after warm-up, on its first token', async () => {
    const verifier = verifierFor();
    await verifier.warmup();
    await issuer.rotateKeys();
    await verifier.verify(await issuer.sign());
    expect(issuer.requests.jwks).toBe(2);
  });

  it('lets a flood of 1000 unknown kids cost at most 2 JWKS requests, then verifies a new key after the cooldown', async () => {
    const verifier = verifierFor({ cache: { cooldownMs: 300 } });
    await verifier.warmup();
    const flood = withRandomKids(await issuer.sign(), 1000).map((t) =>
      verifier.verify(t).catch((e: { code: string }) => e.code),
    );
    expect(new Set(await Promise.all(flood))).toEqual(new Set(['ERR_KEY_NOT_FOUND']));
    expect(issuer.requests.jwks).toBeLessThanOrEqual(2);

    await issuer.rotateKeys();
    const before = issuer.requests.jwks;
    expect((await verifier.verify(await issuer.sign({ sub: 'new-key' }))).payload.sub).toBe('new-key');
    expect(issuer.requests.jwks).toBe(before + 1);
  });

  it('keeps verifying known keys while the JWKS endpoint fails, and refuses unknown kids as unavailable', async () => {
    let now = Date.now();
    const verifier = verifierFor({ now: () => now, cache: { maxAgeMs: 60_000, cooldownMs: 0 } });
    const token = await issuer.sign();
    await verifier.verify(token);
    issuer.failNext('jwks', { status: 503, times: Infinity });
    now += 120_000;
    await verifier.verify(token);
    const unknown = await issuer.sign({}, { unpublishedKey: true });
    const error = await expectRejection(verifier.verify(unknown), 'ERR_ISSUER_UNAVAILABLE', unknown);
    expect(error.message).toContain('503');
    issuer.reset();
  });

  it('keeps a JWKS without Cache-Control for the default 10 minutes', async () => {
    let now = Date.now();
    const verifier = verifierFor({ now: () => now });
    const token = await issuer.sign({}, { expiresIn: 7200 });
    await verifier.verify(token);
    now += 599_000;
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(1);
    now += 2_000;
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('gives up after timeoutMs on a slow JWKS endpoint', async () => {
    issuer.failNext('jwks', { delayMs: 5_000 });
    const verifier = verifierFor({ timeoutMs: 100 });
    const token = await issuer.sign();
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toContain('100 ms');
  });

  it('reports a non-2xx answer with its status and the server message', async () => {
    issuer.failNext('jwks', {
      status: 502,
      body: { error: 'server_error', error_description: 'upstream key service down' },
    });
    const token = await issuer.sign();
    const error = await expectRejection(verifierFor().verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toMatch(/502.*upstream key service down/);
  });
});

describe('network failures over real sockets', () => {
  it('turns a refused connection into ERR_ISSUER_UNAVAILABLE', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const verifier = new JwtVerifier({
      issuer: `http://127.0.0.1:${port}`,
      audience: AUDIENCE,
      discovery: 'oidc',
    });
    const error = await expectRejection(verifier.warmup(), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toContain(`http://127.0.0.1:${port}/.well-known/openid-configuration`);
  });

  it('refuses a body over maxResponseBytes sent without content-length', async () => {
    const big = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"issuer":"');
      res.end(`${'x'.repeat(50_000)}"}`);
    });
    await new Promise<void>((resolve) => big.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = big.address() as AddressInfo;
      const verifier = new JwtVerifier({
        issuer: `http://127.0.0.1:${port}`,
        audience: AUDIENCE,
        maxResponseBytes: 4096,
        discovery: 'oidc',
      });
      const error = await expectRejection(verifier.metadata(), 'ERR_ISSUER_UNAVAILABLE');
      expect(error.message).toMatch(/4096.byte/);
    } finally {
      big.closeAllConnections();
      await new Promise<void>((resolve) => big.close(() => resolve()));
    }
  });
});

describe('seed-shaped testing issuers over real HTTP', () => {
  const live: TestIssuer[] = [];
  afterAll(() => Promise.all(live.map((issuer) => issuer.close())));

  it('Altostrat (auth0 profile) in auto mode: the real 404 leads to OIDC discovery', async () => {
    const issuer = await createTestIssuer({
      profile: 'auth0',
      listen: true,
      audience: 'https://v1.api.altostrat.io',
    });
    live.push(issuer);
    expect(issuer.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: 'https://v1.api.altostrat.io' });
    expect((await verifier.verify(await issuer.sign({ sub: 'auth0|u' }))).payload.sub).toBe('auth0|u');
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('Archera (rfc8414 profile), and its ApiErrorResponse on a JWKS failure', async () => {
    const issuer = await createTestIssuer({ profile: 'rfc8414', listen: true });
    live.push(issuer);
    const verifier = new JwtVerifier({
      issuer: issuer.issuer,
      audience: 'https://api.test',
      cache: { maxAgeMs: 0, minAgeMs: 0, cooldownMs: 0, staleIfErrorMs: 0 },
    });
    await verifier.verify(await issuer.sign());
    issuer.failNext('jwks', {
      status: 500,
      body: {
        message: 'Failed to load keys',
        timestamp: '2026-12-01T00:00:00Z',
        type: 'InternalServerError',
      },
    });
    const token = await issuer.sign();
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toMatch(/500.*Failed to load keys/);
  });
});

describe('the seeds served literally, over real HTTP', () => {
  const servers: Listening[] = [];
  afterAll(() => Promise.all(servers.map((s) => s.close())));
  const serve = async (seed: SeedServer) => {
    const listening = await listen({ port: 0, host: '127.0.0.1' }, seed.handle);
    servers.push(listening);
    return listening.origin;
  };

  it('Altostrat: an Auth0 access token verifies, cold start shared by 50 parallel calls', async () => {
    const seed = await altostrat();
    let requests = 0;
    const counted: SeedServer = { ...seed, handle: (request) => (requests++, seed.handle(request)) };
    const issuer = `${await serve(counted)}/`;
    const verifier = new JwtVerifier({ issuer, audience: ALTOSTRAT_API, discovery: 'oidc' });
    const token = await auth0Token(seed, issuer, 'altostrat-key-1');
    const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)));
    expect(results.every((r) => r.payload.iss === issuer)).toBe(true);
    expect(requests).toBe(2); // one OIDC document, one JWKS
  });

  it('Archera: a token verifies, then the 500 "Failed to load keys" surfaces for an unknown kid', async () => {
    const seed = await archera();
    const issuer = await serve(seed);
    const verifier = new JwtVerifier({ issuer, audience: 'https://api.archera.ai' });
    expect((await verifier.verify(await archeraToken(seed, issuer))).payload.sub).toBe('user-42');
    seed.failJwksWith = () => new Response('Failed to load keys', { status: 500 });
    const unknown = await signWith(
      seed.keys[0]!,
      { iss: issuer, aud: 'https://api.archera.ai' },
      { kid: 'archera-2027' },
    );
    const error = await expectRejection(verifier.verify(unknown), 'ERR_ISSUER_UNAVAILABLE', unknown);
    expect(error.message).toMatch(/500.*Failed to load keys/);
    // Known keys keep verifying during the outage.
    await verifier.verify(await archeraToken(seed, issuer));
  });
});

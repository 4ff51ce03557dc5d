import type { ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isJwtVerifyError } from '../../../src/errors.js';
import { createTestIssuer } from '../../../src/testing/index.js';
import type { TestIssuer } from '../../../src/testing/index.js';
import type { JwtVerifierOptions } from '../../../src/verify/options.js';
import { AUDIENCE, ISSUER, observedVerifier, trackUnhandledRejections } from '../helpers.js';
import { type ScriptedServer, startScriptedServer, writeForever } from './server.js';
import { rejectionCode } from '../../support/rejections.js';

type Mode =
  | 'ok'
  | 'hang'
  | 'stall mid-body'
  | 'reset'
  | 'reset mid-body'
  | 'declared huge body'
  | 'endless body'
  | 'invalid JSON'
  | 'HTML error page'
  | 'HTML with 200'
  | 'not a JWKS'
  | 'redirect to another origin'
  | 'redirect loop'
  | 'same-origin redirect'
  | '429 with Retry-After'
  | '503';

const FAULTS: Exclude<Mode, 'ok' | 'same-origin redirect'>[] = [
  'hang',
  'stall mid-body',
  'reset',
  'reset mid-body',
  'declared huge body',
  'endless body',
  'invalid JSON',
  'HTML error page',
  'HTML with 200',
  'not a JWKS',
  'redirect to another origin',
  'redirect loop',
  '429 with Retry-After',
  '503',
];

const HTML =
  '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1></body></html>';
const JSON_TYPE = { 'content-type': 'application/json' };
const HTML_TYPE = { 'content-type': 'text/html' };

/** The faults that are one whole answer, sent at once. */
const WHOLE_ANSWERS: Record<
  | 'invalid JSON'
  | 'HTML error page'
  | 'HTML with 200'
  | 'not a JWKS'
  | 'redirect loop'
  | 'same-origin redirect'
  | '429 with Retry-After'
  | '503',
  { status: number; headers: Record<string, string>; body?: string }
> = {
  'invalid JSON': { status: 200, headers: JSON_TYPE, body: '{"keys": [' },
  'HTML error page': { status: 502, headers: HTML_TYPE, body: HTML },
  'HTML with 200': { status: 200, headers: HTML_TYPE, body: HTML },
  'not a JWKS': { status: 200, headers: JSON_TYPE, body: '{"keys":"none"}' },
  'redirect loop': { status: 302, headers: { location: '/jwks' } },
  'same-origin redirect': { status: 307, headers: { location: '/moved' } },
  '429 with Retry-After': {
    status: 429,
    headers: { ...JSON_TYPE, 'retry-after': '30' },
    body: '{"error":"slow_down"}',
  },
  '503': { status: 503, headers: JSON_TYPE, body: '{"error":"temporarily_unavailable"}' },
};
const TIMEOUT_MS = 250;
const MAX_BYTES = 64 * 1024;
const MAX_AGE_MS = 60_000;

let issuer: TestIssuer;
let token: string;
let server: ScriptedServer;
let elsewhere: ScriptedServer;
let mode: Mode = 'ok';
let endless: Promise<number> | undefined;
const unhandled = trackUnhandledRejections();

function serveJwks(res: ServerResponse): void {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify(issuer.jwks()));
}

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] });
  token = await issuer.sign({ sub: 'user-1' });
  elsewhere = await startScriptedServer((_req, res) => serveJwks(res));
  server = await startScriptedServer((req, res) => {
    if (req.url === '/moved') return serveJwks(res);
    switch (mode) {
      case 'ok':
        return serveJwks(res);
      case 'hang':
        return;
      case 'stall mid-body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[{"kty":"EC",');
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'reset mid-body':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.write('{"keys":[', () => res.destroy());
        return;
      case 'declared huge body':
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': String(50 * 1024 * 1024),
        });
        res.write('{"keys":[');
        return;
      case 'endless body':
        res.writeHead(200, { 'content-type': 'application/json' });
        endless = writeForever(res);
        return;
      case 'redirect to another origin':
        res.writeHead(302, { location: `${elsewhere.origin}/jwks` });
        res.end();
        return;
      default: {
        const { status, headers, body } = WHOLE_ANSWERS[mode];
        res.writeHead(status, headers).end(body);
      }
    }
  });
});

afterEach(() => {
  mode = 'ok';
  expect(unhandled.reasons).toEqual([]);
});

afterAll(async () => {
  unhandled.stop();
  await Promise.all([server?.close(), elsewhere?.close()]);
});

function verifier(options: Partial<JwtVerifierOptions> = {}) {
  const observed = observedVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: `${server.origin}/jwks`,
    timeoutMs: TIMEOUT_MS,
    maxResponseBytes: MAX_BYTES,
    cache: { maxAgeMs: MAX_AGE_MS, cooldownMs: 1000 },
    ...options,
  });
  return { ...observed, failures: () => observed.ofType('jwks_failed') };
}

describe('a misbehaving JWKS server on 127.0.0.1', () => {
  it.each(FAULTS)('cold start, %s: ERR_ISSUER_UNAVAILABLE, reported through onEvent', async (fault) => {
    const { verifier: v, failures } = verifier();
    mode = fault;
    expect(await rejectionCode(v.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(failures()).toEqual([
      expect.objectContaining({
        type: 'jwks_failed',
        servingStale: false,
        error: expect.objectContaining({ code: 'ERR_ISSUER_UNAVAILABLE' }),
      }),
    ]);
  });

  it.each(FAULTS)('warm cache, %s: the known key keeps verifying from the stale set', async (fault) => {
    const { verifier: v, failures, clock } = verifier();
    await expect(v.verify(token)).resolves.toBeDefined();
    clock.offsetMs += MAX_AGE_MS + 1000;
    mode = fault;
    await expect(v.verify(token)).resolves.toMatchObject({ payload: { sub: 'user-1' } });
    expect(failures()).toEqual([expect.objectContaining({ servingStale: true })]);
    // A kid the stale set lacks cannot be looked up while the issuer fails.
    const unknownKid = await issuer.sign({}, { unpublishedKey: true });
    expect(await rejectionCode(v.verify(unknownKid))).toBe('ERR_ISSUER_UNAVAILABLE');
  });

  it('says why in the message: timeout, size cap, HTML, cross-origin redirect', async () => {
    const cases: [Mode, RegExp][] = [
      ['hang', /did not answer within 250 ms/],
      ['stall mid-body', /did not answer within 250 ms/],
      ['declared huge body', /larger than the 65536-byte limit/],
      ['endless body', /larger than the 65536-byte limit/],
      ['HTML error page', /502.*HTML/],
      ['redirect to another origin', /another origin/],
    ];
    for (const [fault, message] of cases) {
      const { verifier: v } = verifier();
      mode = fault;
      const error = await v.verify(token).catch((e: unknown) => e);
      expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
      expect((error as Error).message).toMatch(message);
    }
  });

  it('stops reading an endless body at the size cap and hangs up', async () => {
    const { verifier: v } = verifier();
    mode = 'endless body';
    expect(await rejectionCode(v.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
    // writeForever resolves only once the client closed the connection.
    await expect(endless).resolves.toBeGreaterThan(MAX_BYTES);
  });

  it('never follows a redirect to another origin, and follows one within the origin', async () => {
    const before = elsewhere.paths.length;
    const away = verifier().verifier;
    mode = 'redirect to another origin';
    expect(await rejectionCode(away.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(elsewhere.paths.length).toBe(before);

    const within = verifier().verifier;
    mode = 'same-origin redirect';
    await expect(within.verify(token)).resolves.toBeDefined();
    expect(server.paths.slice(-2)).toEqual(['/jwks', '/moved']);
  });

  it('respects 429 Retry-After: no request before it, one after', async () => {
    const { verifier: v, clock } = verifier();
    mode = '429 with Retry-After';
    const start = server.paths.length;
    const error = await v.verify(token).catch((e: unknown) => e);
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect((error as { details: { retryAfterSeconds?: number } }).details.retryAfterSeconds).toBe(30);
    expect(server.paths.length - start).toBe(1);

    mode = 'ok';
    clock.offsetMs += 29_000;
    for (let i = 0; i < 5; i++) expect(await rejectionCode(v.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(server.paths.length - start).toBe(1);

    clock.offsetMs += 2000;
    await expect(v.verify(token)).resolves.toBeDefined();
    expect(server.paths.length - start).toBe(2);
  });

  it('asks a failing issuer again at most once per cooldown while serving stale keys', async () => {
    const { verifier: v, clock, failures } = verifier();
    await v.verify(token);
    clock.offsetMs += MAX_AGE_MS + 1000;
    mode = '503';
    const start = server.paths.length;
    await Promise.all(Array.from({ length: 50 }, () => v.verify(token)));
    expect(server.paths.length - start).toBe(1);
    clock.offsetMs += 1001;
    await Promise.all(Array.from({ length: 50 }, () => v.verify(token)));
    expect(server.paths.length - start).toBe(2);
    expect(failures()).toHaveLength(2);
  });
});

describe('metadata that changes jwks_uri or names another issuer', () => {
  let discovery: ScriptedServer;
  let rotating: TestIssuer;
  let jwksPath = '/keys-a';
  let metadataOverride: Record<string, unknown> = {};
  const sets: Record<string, unknown> = {};

  beforeAll(async () => {
    discovery = await startScriptedServer((req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/.well-known/oauth-authorization-server') {
        res.end(
          JSON.stringify({
            issuer: discovery.origin,
            jwks_uri: `${discovery.origin}${jwksPath}`,
            ...metadataOverride,
          }),
        );
      } else if (req.url! in sets) {
        res.end(JSON.stringify(sets[req.url!]));
      } else {
        res.statusCode = 404;
        res.end('{}');
      }
    });
    rotating = await createTestIssuer({
      issuer: discovery.origin,
      audience: AUDIENCE,
      algorithms: ['ES256'],
    });
  });

  afterAll(() => discovery?.close());

  it('follows the new jwks_uri once the metadata is refreshed, and drops the keys of the old one', async () => {
    sets['/keys-a'] = rotating.jwks();
    const tokenA = await rotating.sign({ sub: 'a' });
    await rotating.rotateKeys({ keepPrevious: false });
    sets['/keys-b'] = rotating.jwks();
    const tokenB = await rotating.sign({ sub: 'b' });

    const {
      verifier: v,
      events,
      clock,
    } = observedVerifier({
      issuer: discovery.origin,
      audience: AUDIENCE,
      discovery: 'oauth',
      cache: { maxAgeMs: MAX_AGE_MS, cooldownMs: 0 },
    });
    await expect(v.verify(tokenA)).resolves.toMatchObject({ payload: { sub: 'a' } });

    jwksPath = '/keys-b';
    clock.offsetMs += MAX_AGE_MS + 1000;
    await expect(v.verify(tokenB)).resolves.toMatchObject({ payload: { sub: 'b' } });
    expect(discovery.paths.filter((path) => path === '/keys-b')).toHaveLength(1);
    expect(
      events.filter((e) => e.type === 'discovery').map((e) => (e as { jwksUri: string }).jwksUri),
    ).toEqual([`${discovery.origin}/keys-a`, `${discovery.origin}/keys-b`]);
    expect(await rejectionCode(v.verify(tokenA))).toBe('ERR_KEY_NOT_FOUND');
    expect(discovery.paths.filter((path) => path === '/keys-a')).toHaveLength(1);
  });

  it.each([
    ['an issuer with a trailing slash', () => ({ issuer: `${discovery.origin}/` })],
    ['another issuer (mix-up)', () => ({ issuer: 'https://evil.test' })],
    ['a jwks_uri over plain http to another host', () => ({ jwks_uri: 'http://evil.test/jwks' })],
    ['a jwks_uri that is not a URL', () => ({ jwks_uri: 'keys' })],
    ['no jwks_uri', () => ({ jwks_uri: undefined })],
  ])('refuses metadata with %s with ERR_METADATA_INVALID, and fetches no keys', async (_name, override) => {
    metadataOverride = override();
    try {
      sets['/keys-a'] = rotating.jwks();
      jwksPath = '/keys-a';
      const before = discovery.paths.filter((path) => path.startsWith('/keys')).length;
      const { verifier: v, ofType } = observedVerifier({
        issuer: discovery.origin,
        audience: AUDIENCE,
        discovery: 'oauth',
      });
      expect(await rejectionCode(v.verify(await rotating.sign()))).toBe('ERR_METADATA_INVALID');
      expect(ofType('discovery_failed')).toEqual([
        expect.objectContaining({ error: expect.objectContaining({ code: 'ERR_METADATA_INVALID' }) }),
      ]);
      expect(discovery.paths.filter((path) => path.startsWith('/keys')).length).toBe(before);
    } finally {
      metadataOverride = {};
    }
  });
});

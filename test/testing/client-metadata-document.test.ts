// Client ID Metadata Documents at the stub issuer: a URL client_id fetched from a real server
// on 127.0.0.1, checked, cached per its headers; hostile documents refused as invalid_client
// and never kept.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  CLIENT_DOCUMENT_LIMITS,
  ClientDocumentCache,
  isClientIdUrl,
} from '../../src/testing/client-metadata-document.js';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js';
import { close, listen, trackSockets } from '../support/network.js';
import { authorize, authorizeParams, codeExchange, postForm } from './helpers.js';
import { verifyIssued } from './openid-client.js';

const REDIRECT = 'http://127.0.0.1:5173/callback';
const hits = new Map<string, number>();
let base = '';
let arrivedAtHang: () => void = () => undefined;

function documentFor(path: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    client_id: `${base}${path}`,
    client_name: 'Doc client',
    redirect_uris: [REDIRECT],
    ...extra,
  });
}

const ROUTES: Record<string, (response: ServerResponse) => void> = {
  '/cached': (r) =>
    r
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' })
      .end(documentFor('/cached')),
  '/no-store': (r) =>
    r
      .writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      .end(documentFor('/no-store')),
  '/other-id': (r) =>
    r
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ client_id: 'https://other.test/c', redirect_uris: [REDIRECT] })),
  '/redirects': (r) => r.writeHead(302, { location: `${base}/cached` }).end(),
  '/secret': (r) =>
    r
      .writeHead(200, { 'content-type': 'application/json' })
      .end(documentFor('/secret', { token_endpoint_auth_method: 'client_secret_basic' })),
  '/not-json': (r) => r.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
  '/ten-mb': (r) => {
    r.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const more = () => {
      while (sent < 10 * 1024 * 1024 && !r.destroyed) {
        sent += chunk.length;
        if (!r.write(chunk)) return void r.once('drain', more);
      }
      r.end();
    };
    r.on('error', () => undefined);
    more();
  },
  '/hang': () => arrivedAtHang(),
};

const server = createServer((request: IncomingMessage, response: ServerResponse) => {
  const path = new URL(request.url!, base).pathname;
  hits.set(path, (hits.get(path) ?? 0) + 1);
  (ROUTES[path] ?? ((r: ServerResponse) => r.writeHead(404).end()))(response);
});
const sockets = trackSockets(server);
let clock = Date.now();
let issuer: TestIssuer;

beforeAll(async () => {
  base = `http://127.0.0.1:${await listen(server)}`;
  issuer = await createTestIssuer({ now: () => clock });
});
afterEach(() => {
  hits.clear();
  vi.useRealTimers();
});
afterAll(() => close(server, sockets));

const authorizeAs = async (path: string, redirectUri = REDIRECT) => {
  const { params } = await authorizeParams({ client_id: `${base}${path}`, redirect_uri: redirectUri });
  return authorize(issuer.fetch, issuer.metadata, params);
};

describe('a client_id that is a URL', () => {
  it('is fetched once, its redirect_uris held to, and the whole code flow works with it', async () => {
    const clientId = `${base}/cached`;
    const { params, verifier } = await authorizeParams({ client_id: clientId, redirect_uri: REDIRECT });
    const { callback } = await authorize(issuer.fetch, issuer.metadata, params);
    const code = callback!.searchParams.get('code')!;
    const tokens = await (
      await issuer.fetch(
        issuer.metadata.token_endpoint!,
        postForm(codeExchange(code, verifier, { client_id: clientId })),
      )
    ).json();
    expect(await verifyIssued(issuer, tokens.access_token)).toMatchObject({ client_id: clientId });
    const elsewhere = await authorizeAs('/cached', 'https://attacker.test/cb');
    expect(elsewhere.status).toBe(400);
    expect(elsewhere.callback).toBeUndefined();
    expect(hits.get('/cached')).toBe(1);
  });

  it('is fetched again when its document said no-store', async () => {
    expect((await authorizeAs('/no-store')).status).toBe(302);
    clock += 2000;
    expect((await authorizeAs('/no-store')).status).toBe(302);
    expect(hits.get('/no-store')).toBe(2);
  });

  it.each([
    ['names another client_id', '/other-id', /another client_id/],
    ['redirects', '/redirects', /answered 302/],
    ['asks for a client secret', '/secret', /never a secret/],
    ['is not JSON', '/not-json', /not JSON/],
    ['is 10 MB', '/ten-mb', /larger than the 5120-byte limit/],
    ['is not there', '/missing', /answered 404/],
  ])(
    'is refused when the document %s: 400 invalid_client at /authorize, nothing kept',
    async (_name, path, why) => {
      const first = await authorizeAs(path);
      expect(first.status).toBe(400);
      expect(first.callback).toBeUndefined();
      expect(first.body).toEqual({ error: 'invalid_client', error_description: expect.stringMatching(why) });
      await authorizeAs(path);
      expect(hits.get(path)).toBe(2);
      expect(hits.get('/cached') ?? 0).toBe(0);
    },
  );

  it('is refused at the token endpoint too: 401 invalid_client', async () => {
    const answer = await issuer.fetch(
      issuer.metadata.token_endpoint!,
      postForm({ grant_type: 'client_credentials', client_id: `${base}/other-id` }),
    );
    expect(answer.status).toBe(401);
    expect((await answer.json()).error).toBe('invalid_client');
  });

  it('gives up on a server that never answers after 5 seconds (fake timers)', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const arrived = new Promise<void>((resolve) => (arrivedAtHang = resolve));
    const pending = authorizeAs('/hang');
    await arrived;
    vi.advanceTimersByTime(CLIENT_DOCUMENT_LIMITS.timeoutMs);
    const answer = await pending;
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({
      error: 'invalid_client',
      error_description: /did not answer within 5000 ms/,
    });
  });
});

describe('the document cache', () => {
  it('keeps at most maxEntries documents, the oldest going first', async () => {
    const cache = new ClientDocumentCache(() => clock, { ...CLIENT_DOCUMENT_LIMITS, maxEntries: 1 });
    expect(typeof (await cache.resolve(`${base}/cached`))).toBe('object');
    expect(typeof (await cache.resolve(`${base}/no-store`))).toBe('object');
    expect(cache.size).toBe(1);
    expect(cache.get(`${base}/cached`)).toBeUndefined();
    expect(await cache.resolve(`${base}/other-id`)).toMatch(/another client_id/);
    expect(cache.size).toBe(1);
  });

  it.each([
    ['https://client.example/oauth/metadata.json', true],
    ['http://127.0.0.1:3000/client.json', true],
    ['http://client.example/client.json', false],
    ['https://client.example/', false],
    ['https://client.example/a#frag', false],
    ['https://user:pw@client.example/a', false],
    ['https://client.example/a/../b', false],
    ['my-client', false],
  ])('tells %s is a client identifier URL: %s', (value, expected) => {
    expect(isClientIdUrl(value)).toBe(expected);
  });

  it('is announced by the default profile only', async () => {
    expect(issuer.metadata.client_id_metadata_document_supported).toBe(true);
    const auth0 = await createTestIssuer({ profile: 'auth0' });
    expect(auth0.metadata.client_id_metadata_document_supported).toBeUndefined();
  });
});

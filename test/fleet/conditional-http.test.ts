// Refresh ahead over real HTTP on 127.0.0.1: a hand-made JWKS server with ETag,
// Last-Modified and Cache-Control checks the validators the background revalidation sends.
import { type IncomingHttpHeaders, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { EventLog } from './helpers.js';

const LAST_MODIFIED = 'Tue, 01 Dec 2026 05:00:00 GMT';
let issuer: TestIssuer;
let jwksUri: string;
const seen: IncomingHttpHeaders[] = [];
let version = 'v1';
const server = createServer((request, response) => {
  seen.push(request.headers);
  const etag = `"${version}"`;
  const headers = { etag, 'last-modified': LAST_MODIFIED, 'cache-control': 'public, max-age=60' };
  if (request.headers['if-none-match'] === etag) {
    response.writeHead(304, headers).end();
    return;
  }
  response
    .writeHead(200, { ...headers, 'content-type': 'application/json' })
    .end(JSON.stringify(issuer.jwks()));
});

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: 'https://conditional.test', audience: 'https://api.test' });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterEach(() => {
  vi.useRealTimers();
  seen.length = 0;
  version = 'v1';
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('conditional revalidation over HTTP', () => {
  it('sends If-None-Match and If-Modified-Since, keeps the keys on 304, and takes new ones on 200', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const log = new EventLog();
    const verifier = new JwtVerifier({
      issuer: issuer.issuer,
      audience: 'https://api.test',
      jwksUri,
      onEvent: log.listener,
    });
    await verifier.warmup();
    expect(seen).toHaveLength(1);
    expect(seen[0]!['if-none-match']).toBeUndefined();

    const revalidated = log.next('jwks_revalidated');
    await vi.advanceTimersByTimeAsync(54_000);
    expect((await revalidated).freshForMs).toBe(60_000);
    expect(seen).toHaveLength(2);
    expect(seen[1]!['if-none-match']).toBe('"v1"');
    expect(seen[1]!['if-modified-since']).toBe(LAST_MODIFIED);
    await expect(verifier.verify(await issuer.sign({ sub: 'u' }))).resolves.toBeDefined();

    const [fresh] = await issuer.rotateKeys();
    version = 'v2';
    const rotated = log.next('key_rotated');
    await vi.advanceTimersByTimeAsync(54_000);
    expect((await rotated).added).toEqual([fresh!.kid]);
    // key_rotated is emitted while the refresh is still settling; a verification with the
    // new kid joins it rather than fetching again, and after it the cache holds v2.
    const { header } = await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(header.kid).toBe(fresh!.kid);
    expect(seen).toHaveLength(3);
    expect(verifier.exportCache().jwks?.etag).toBe('"v2"');
    verifier.close();
  });
});

import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { createProxy } from 'proxy';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../src/node/index.js';
import { close, listen, nodeFetches, trackSockets } from '../support/network.js';

// Each server stalls at one stage, and is released only by close() in afterAll. undici checks
// headers and body timeouts on a coarse (about 1 s) tick, so each case takes about a second:
// they run concurrently.

/** Accepts TCP connections and never answers, so a TLS handshake never completes. */
const silentTcp = createNetServer(() => undefined);
/** Reads the request and never sends response headers. */
const noHeaders = createHttpServer(() => undefined);
/** Sends headers and the start of a body, then nothing more. */
const stalledBody = createHttpServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.write('{"keys":[');
});
const proxy = createProxy(createHttpServer());
const servers = [silentTcp, noHeaders, stalledBody, proxy as Server];
const sockets = servers.map(trackSockets);
const urls = { connect: '', headers: '', body: '' };
let proxyUrl: string;

const { make, closeAll } = nodeFetches();
const short = { connectTimeoutMs: 200, headersTimeoutMs: 200, bodyTimeoutMs: 200 };

beforeAll(async () => {
  urls.connect = `https://127.0.0.1:${await listen(silentTcp)}/jwks`;
  urls.headers = `http://127.0.0.1:${await listen(noHeaders)}/jwks`;
  urls.body = `http://127.0.0.1:${await listen(stalledBody)}/jwks`;
  proxyUrl = `http://127.0.0.1:${await listen(proxy)}`;
});
afterAll(async () => {
  await closeAll();
  await Promise.all(servers.map((server, i) => close(server, sockets[i])));
});

describe.concurrent.each([
  ['directly', false],
  ['through a proxy', true],
])('timeouts, %s', (_name, viaProxy) => {
  const options = () => ({ ...short, ...(viaProxy ? { proxy: proxyUrl } : {}) });

  it.each([
    [
      'the connection (TLS handshake included) is not made within connectTimeoutMs',
      'connect',
      'UND_ERR_CONNECT_TIMEOUT',
      'fetch failed: not connected (TCP and TLS) within connectTimeoutMs (200 ms)',
    ],
    [
      'no response headers arrive within headersTimeoutMs',
      'headers',
      'UND_ERR_HEADERS_TIMEOUT',
      'fetch failed: no response headers within headersTimeoutMs (200 ms)',
    ],
  ] as const)('rejects when %s', async (_stage, url, code, message) => {
    const error = await make(options())(urls[url]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).cause).toMatchObject({ code });
    expect((error as Error).message).toBe(message);
  });

  it('errors the body when it stalls for bodyTimeoutMs', async () => {
    const response = await make(options())(urls.body);
    expect(response.status).toBe(200);
    const error = await response.text().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).cause).toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
    expect((error as Error).message).toBe('response body stalled: no data for bodyTimeoutMs (200 ms)');
  });
});

it('keeps undici’s own errors for a dispatcher passed in', async () => {
  const agent = new Agent({ headersTimeout: 200 });
  try {
    const error = await createNodeFetch({ dispatcher: agent })(urls.headers).catch((e: unknown) => e);
    expect((error as Error).cause).toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });
    expect((error as Error).message).toBe('fetch failed');
  } finally {
    await agent.close();
  }
});

describe('the caller’s AbortSignal', () => {
  it('aborts while waiting for headers', async () => {
    const error = await make()(urls.headers, { signal: AbortSignal.timeout(100) }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'TimeoutError' });
  });

  it('aborts while reading the body', async () => {
    const controller = new AbortController();
    const response = await make()(urls.body, { signal: controller.signal });
    const reading = response.text();
    controller.abort();
    await expect(reading).rejects.toMatchObject({ name: 'AbortError' });
  });
});

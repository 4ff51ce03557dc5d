import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeFetch } from '../../src/node/index.js';
import { close, listen, nodeFetches } from '../support/network.js';

const routes: Record<string, (req: IncomingMessage, res: ServerResponse, body: string) => void> = {
  '/json': (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', 'x-issuer': 'test' });
    res.end('{"keys":[]}');
  },
  '/echo': (req, res, body) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, header: req.headers['x-test'] ?? null, body }));
  },
  '/redirect': (_req, res) => {
    res.writeHead(302, { location: '/json' });
    res.end();
  },
  '/no-content': (_req, res) => {
    res.writeHead(204);
    res.end();
  },
  // 64 bytes each, with and without a Content-Length.
  '/declared': (_req, res) => {
    res.writeHead(200, { 'content-length': '64' });
    res.end('x'.repeat(64));
  },
  '/chunked': (_req, res) => {
    res.writeHead(200);
    for (let i = 0; i < 4; i++) res.write('x'.repeat(16));
    res.end();
  },
  // 90 bytes on the wire, 64 KiB once decompressed.
  '/gzip': (_req, res) => {
    const zipped = gzipSync(Buffer.alloc(64 * 1024));
    res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(zipped.byteLength) });
    res.end(zipped);
  },
};

const server = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk: string) => (body += chunk));
  req.on('end', () => {
    const route = routes[req.url ?? ''];
    if (route) route(req, res, body);
    else res.writeHead(404).end();
  });
});
let origin: string;
const { make, closeAll } = nodeFetches();

beforeAll(async () => {
  origin = `http://127.0.0.1:${await listen(server)}`;
});
afterAll(async () => {
  await closeAll();
  await close(server);
});

describe('createNodeFetch', () => {
  it('fetches like fetch, the way the library calls it', async () => {
    const fetch = make();
    const response = await fetch(`${origin}/json`, {
      method: 'GET',
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('x-issuer')).toBe('test');
    expect(response.url).toBe(`${origin}/json`);
    expect(await response.json()).toEqual({ keys: [] });
  });

  it('sends a body and headers, from init or from a global Request', async () => {
    const fetch = make();
    const fromInit = await fetch(`${origin}/echo`, {
      method: 'POST',
      headers: { 'x-test': 'a' },
      body: 'grant',
    });
    expect(await fromInit.json()).toEqual({ method: 'POST', header: 'a', body: 'grant' });

    const request = new Request(`${origin}/echo`, {
      method: 'POST',
      headers: { 'x-test': 'b' },
      body: 'code',
    });
    expect(await (await fetch(request)).json()).toEqual({ method: 'POST', header: 'b', body: 'code' });
  });

  it('returns redirects as they are with redirect: manual', async () => {
    const response = await make()(`${origin}/redirect`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(response.headers.get('location')).toBe('/json');
  });

  it('answers a 204 with a null body', async () => {
    const response = await make()(`${origin}/no-content`);
    expect(response.status).toBe(204);
    expect(response.body).toBeNull();
  });

  it('uses a dispatcher passed in, and leaves it open on close()', async () => {
    const agent = new Agent();
    try {
      const fetch = createNodeFetch({ dispatcher: agent });
      expect(fetch.dispatcher).toBe(agent);
      await fetch.close();
      expect(agent.closed).toBe(false);
      expect((await fetch(`${origin}/json`)).status).toBe(200);
    } finally {
      await agent.close();
    }
  });

  it('closes its own dispatcher on close() and [Symbol.asyncDispose]()', async () => {
    const fetch = createNodeFetch();
    await fetch[Symbol.asyncDispose]();
    expect((fetch.dispatcher as Agent).closed).toBe(true);
    await expect(fetch.close()).resolves.toBeUndefined();
  });
});

describe('maxResponseSize', () => {
  it('rejects a response whose Content-Length is over the limit', async () => {
    const error = await make({ maxResponseSize: 63 })(`${origin}/declared`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).cause).toMatchObject({ code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' });
    expect((error as Error).message).toBe(
      'response body exceeds maxResponseSize (63 bytes): the server declares 64 bytes',
    );
  });

  it('errors the body stream once a body without Content-Length grows past the limit', async () => {
    const response = await make({ maxResponseSize: 63 })(`${origin}/chunked`);
    const error = await response.text().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).cause).toMatchObject({ code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' });
    expect((error as Error).message).toMatch(/exceeds maxResponseSize \(63 bytes\)/);
  });

  it('counts bytes after decompression', async () => {
    const response = await make({ maxResponseSize: 1024 })(`${origin}/gzip`);
    const error = await response.arrayBuffer().catch((e: unknown) => e);
    expect((error as Error).cause).toMatchObject({ code: 'UND_ERR_RES_EXCEEDED_MAX_SIZE' });
  });

  it('accepts a body of exactly the limit, with or without Content-Length', async () => {
    const fetch = make({ maxResponseSize: 64 });
    expect(await (await fetch(`${origin}/declared`)).text()).toHaveLength(64);
    expect(await (await fetch(`${origin}/chunked`)).text()).toHaveLength(64);
  });

  it('applies to a dispatcher passed in as well', async () => {
    const agent = new Agent();
    try {
      const response = await createNodeFetch({ dispatcher: agent, maxResponseSize: 10 })(`${origin}/chunked`);
      await expect(response.text()).rejects.toThrow(/exceeds maxResponseSize \(10 bytes\)/);
    } finally {
      await agent.close();
    }
  });
});

describe('option checks', () => {
  it.each([
    [{ connectTimeoutMs: -1 }, /connectTimeoutMs must be a whole number/],
    [{ headersTimeoutMs: 1.5 }, /headersTimeoutMs must be a whole number/],
    [{ bodyTimeoutMs: '5000' }, /bodyTimeoutMs must be a whole number/],
    [{ maxResponseSize: Number.NaN }, /maxResponseSize must be a whole number of bytes/],
    [{ proxy: 'socks://proxy.corp:1080' }, /proxy must be 'env' or an http: or https: URL/],
    [{ proxy: 'not a url' }, /proxy must be 'env'/],
    [{ ca: [] }, /ca must be a PEM string or Buffer/],
    [{ ca: 42 }, /ca must be a PEM string or Buffer/],
    [{ dispatcher: {} }, /dispatcher must be an undici Dispatcher/],
    [
      { dispatcher: { dispatch: () => true }, proxy: 'env', ca: 'x' },
      /dispatcher cannot be combined with proxy, ca/,
    ],
  ])('throws a TypeError at once for %o', (options, message) => {
    let thrown: unknown;
    try {
      createNodeFetch(options as never);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    expect((thrown as Error).message).toMatch(message);
  });

  it('does not echo a proxy URL, which may hold credentials', () => {
    expect(() => createNodeFetch({ proxy: 'ftp://user:secret@proxy.corp' })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });

  it('accepts Infinity as "no size limit"', async () => {
    const fetch = make({ maxResponseSize: Number.POSITIVE_INFINITY });
    expect(await (await fetch(`${origin}/gzip`)).arrayBuffer()).toHaveProperty('byteLength', 64 * 1024);
  });
});

// Which URL a proof's htu is compared with, over real HTTP (node:http and Express on
// 127.0.0.1, requests sent with node:http so that Host can be anything): the request's own
// by default, `publicUrl` or trusted forwarded headers behind a proxy. An untrusted Host or
// X-Forwarded-* never decides it: the cross-route replay of express-oauth2-jwt-bearer#244
// (a proof for /orders replayed at /admin with `Host: <host>/orders?`) is refused.
import { type IncomingHttpHeaders, type Server, createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthenticateOptions, JwtVerifier, authenticate } from '../../src/index.js';
import * as forExpress from '../../src/express/index.js';
import { type TestIssuer, createDpopProof, createTestIssuer } from '../../src/testing/index.js';
import { API, type DpopClient, dpopClient } from '../support/dpop.js';

interface Answer {
  status: number;
  body: { code?: string; error_description?: string; path?: string };
  headers: IncomingHttpHeaders;
}

/** One request over HTTP with exactly these headers (Host included). */
function send(port: number, path: string, headers: Record<string, string>): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, method: 'GET', headers, setHost: false },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : {}, headers: res.headers }),
        );
      },
    );
    req.on('error', reject);
    req.end();
  });
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** node:http with authenticate(): every path is protected and answers with its path. */
async function nodeApi(
  verifier: JwtVerifier,
  options: AuthenticateOptions = {},
): Promise<{ port: number; server: Server }> {
  const server = createServer(async (req, res) => {
    const result = await authenticate(verifier, req, options);
    if (!result.ok) return void res.writeHead(result.status, result.headers).end(JSON.stringify(result.body));
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  return { port: await listen(server), server };
}

/** Express with bearerAuth() before two routes: the framework of express-oauth2-jwt-bearer#244. */
async function expressApi(verifier: JwtVerifier): Promise<{ port: number; server: Server }> {
  const app = express();
  app.use(forExpress.bearerAuth(verifier));
  app.get('/orders', (req, res) => void res.json({ path: req.path }));
  app.get('/admin', (req, res) => void res.json({ path: req.path }));
  const server = createServer(app);
  return { port: await listen(server), server };
}

let issuer: TestIssuer;
let client: DpopClient;
const servers: Server[] = [];

beforeAll(async () => {
  [issuer, client] = await Promise.all([createTestIssuer({ listen: true, audience: API }), dpopClient()]);
});
afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    server.close();
  }
  await issuer?.close();
});

async function start(kind: 'node' | 'express', options?: AuthenticateOptions): Promise<number> {
  const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API, dpop: {} });
  const { port, server } = kind === 'node' ? await nodeApi(verifier, options) : await expressApi(verifier);
  servers.push(server);
  return port;
}

async function credentials(htu: string): Promise<{ authorization: string; dpop: string }> {
  const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
  const dpop = await createDpopProof({ key: client.key, method: 'GET', url: htu, accessToken: token });
  return { authorization: `DPoP ${token}`, dpop };
}

describe.each(['node', 'express'] as const)('behind no proxy (%s): the request’s own URL', (kind) => {
  let port: number;
  beforeAll(async () => {
    port = await start(kind);
  });

  it('accepts a proof for http://<Host>/orders at /orders', async () => {
    const answer = await send(port, '/orders?page=2', {
      host: `127.0.0.1:${port}`,
      ...(await credentials(`http://127.0.0.1:${port}/orders`)),
    });
    expect(answer.body.code).toBeUndefined();
    expect(answer.status).toBe(200);
  });

  it.each(['/orders?', '/orders#', '/orders?x=', '@evil.test/orders?'])(
    'refuses the /orders proof replayed at /admin with Host: <host>%s, and it still works at /orders',
    async (suffix) => {
      const captured = await credentials(`http://127.0.0.1:${port}/orders`);
      const attack = await send(port, '/admin', { host: `127.0.0.1:${port}${suffix}`, ...captured });
      expect(attack.body.code).toBe('ERR_DPOP_PROOF_INVALID');
      expect(attack.status).toBe(401);
      expect(attack.body.error_description).toMatch(/is not host\[:port\]/);
      // The refusal is the URL check's, not the replay store's: the proof was not spent.
      const legit = await send(port, '/orders', { host: `127.0.0.1:${port}`, ...captured });
      expect(legit.status).toBe(200);
    },
  );

  it('ignores X-Forwarded-Host and X-Forwarded-Proto it was not told to trust', async () => {
    const captured = await credentials(`https://api.example.com/orders`);
    const forged = await send(port, '/orders', {
      host: `127.0.0.1:${port}`,
      'x-forwarded-host': 'api.example.com',
      'x-forwarded-proto': 'https',
      forwarded: 'proto=https;host=api.example.com',
      ...captured,
    });
    expect(forged.body.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(forged.body.error_description).toMatch(/the request went to http:\/\/127\.0\.0\.1:\d+\/orders$/);
    const replayed = await credentials(`http://127.0.0.1:${port}/orders`);
    const admin = await send(port, '/admin', {
      host: `127.0.0.1:${port}`,
      'x-forwarded-host': `127.0.0.1:${port}/orders?`,
      ...replayed,
    });
    expect(admin.body.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(admin.body.error_description).toMatch(/the request went to http:\/\/127\.0\.0\.1:\d+\/admin$/);
  });
});

describe('behind a proxy', () => {
  it('publicUrl decides the origin (and a prefix the proxy strips); Host and X-Forwarded-* do not', async () => {
    const port = await start('node', { publicUrl: 'https://example.com/api/' });
    const proof = await credentials('https://example.com/api/orders');
    const ok = await send(port, '/orders', { host: 'anything.internal', ...proof });
    expect(ok.status).toBe(200);
    const other = await credentials('https://example.com/api/orders');
    const attack = await send(port, '/admin', {
      host: 'example.com/api/orders?',
      'x-forwarded-host': 'example.com/api/orders?',
      ...other,
    });
    expect(attack.body.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(attack.body.error_description).toMatch(/the request went to https:\/\/example\.com\/api\/admin$/);
  });

  it('trusted forwarded headers decide it, the last value (the nearest proxy’s) counting', async () => {
    const port = await start('node', {
      trustedForwardedHeaders: ['x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-prefix'],
    });
    const proof = await credentials('https://api.example.com/v1/orders');
    const ok = await send(port, '/orders', {
      host: `127.0.0.1:${port}`,
      'x-forwarded-proto': 'https',
      // A client's own value first, then the one the proxy appended.
      'x-forwarded-host': 'evil.example, api.example.com',
      'x-forwarded-prefix': '/v1',
      ...proof,
    });
    expect(ok.status).toBe(200);
    const other = await credentials('https://api.example.com/v1/orders');
    const attack = await send(port, '/admin', {
      host: `127.0.0.1:${port}`,
      'x-forwarded-proto': 'https',
      'x-forwarded-host': 'api.example.com/v1/orders?',
      ...other,
    });
    expect(attack.body.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(attack.body.error_description).toMatch(/is not host\[:port\]/);
  });

  it('reads RFC 7239 Forwarded when trusted', async () => {
    const port = await start('node', { trustedForwardedHeaders: ['forwarded'] });
    const proof = await credentials('https://api.example.com:8443/orders');
    const ok = await send(port, '/orders', {
      host: `127.0.0.1:${port}`,
      forwarded: 'for=192.0.2.60;proto=https;host="api.example.com:8443"',
      ...proof,
    });
    expect(ok.status).toBe(200);
  });
});

import { request as httpRequest } from 'node:http';
import { networkInterfaces } from 'node:os';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type IssuerServer, startIssuerServer } from '../../../src/testing/index.js';
import { isLoopback } from '../../../src/testing/server/http.js';

let server: IssuerServer;
let admin: (issuerId: string, action: string, init?: RequestInit) => Promise<Response>;

beforeAll(async () => {
  server = await startIssuerServer({
    port: 0,
    config: { admin: true, issuers: { a: { algorithms: ['ES256', 'RS256'] }, b: {} } },
  });
  admin = (issuerId, action, init) => fetch(`${server.url}/${issuerId}/_admin/${action}`, init);
});
afterAll(() => server.close());

const post = (body: unknown): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

describe('the control API (admin: true), from loopback', () => {
  it('mints a token with chosen claims and sign() options, for that issuer only', async () => {
    const response = await admin(
      'a',
      'tokens',
      post({ claims: { sub: 'alice', scope: 'read' }, options: { alg: 'RS256', expiresIn: 60 } }),
    );
    expect(response.status).toBe(200);
    const { access_token } = await response.json();
    expect(decodeJwt(access_token)).toMatchObject({ sub: 'alice', scope: 'read', iss: `${server.url}/a` });
    expect(decodeProtectedHeader(access_token).alg).toBe('RS256');
    const fromB = await (await admin('b', 'tokens', post({ claims: {} }))).json();
    expect(decodeJwt(fromB.access_token).iss).toBe(`${server.url}/b`);
  });

  it('rotates keys: the JWKS then holds the new ones, the old kept unless keepPrevious is false', async () => {
    const before = server.issuers.b!.keys.map((key) => key.kid);
    const rotated = await (await admin('b', 'rotate', { method: 'POST' })).json();
    expect(rotated.keys.map((key: { kid: string }) => key.kid).slice(0, 1)).toEqual(before);
    expect(rotated.keys.filter((key: { active: boolean }) => key.active)).toHaveLength(1);
    const jwks = await (await fetch(`${server.url}/b/jwks`)).json();
    expect(jwks.keys).toHaveLength(2);
    await admin('b', 'rotate', post({ keepPrevious: false }));
    expect((await (await fetch(`${server.url}/b/jwks`)).json()).keys).toHaveLength(1);
  });

  it('injects failures, counts requests and resets both', async () => {
    expect((await admin('a', 'fail-next', post({ endpoint: 'jwks', status: 503, times: 2 }))).status).toBe(
      204,
    );
    expect((await fetch(`${server.url}/a/jwks`)).status).toBe(503);
    expect((await fetch(`${server.url}/a/jwks`)).status).toBe(503);
    expect((await fetch(`${server.url}/a/jwks`)).status).toBe(200);
    const counts = await (await admin('a', 'requests')).json();
    expect(counts.jwks).toBe(3);
    await admin('a', 'fail-next', post({ endpoint: 'token', times: 'Infinity' }));
    expect((await admin('a', 'reset', { method: 'POST' })).status).toBe(204);
    expect((await (await admin('a', 'requests')).json()).jwks).toBe(0);
    const token = await fetch(server.issuers.a!.metadata.token_endpoint!, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'svc' }),
    });
    expect(token.status).toBe(200);
  });

  it('answers bad JSON, wrong fields, wrong methods and unknown actions with a clear message', async () => {
    const badJson = await admin('a', 'tokens', post('{"claims": '));
    expect(badJson.status).toBe(400);
    expect((await badJson.json()).error_description).toMatch(/^the body is not JSON: /);
    const notObject = await admin('a', 'tokens', post('[1]'));
    expect((await notObject.json()).error_description).toBe('the body must be a JSON object');
    const badEndpoint = await admin('a', 'fail-next', post({ endpoint: 'nowhere' }));
    expect(badEndpoint.status).toBe(400);
    expect((await badEndpoint.json()).error_description).toContain('endpoint must be one of metadata, jwks');
    const keyOption = await admin('a', 'tokens', post({ claims: {}, options: { key: {} } }));
    expect((await keyOption.json()).error_description).toContain('options.key is not one of alg, kid');
    const unknownKid = await admin('a', 'tokens', post({ claims: {}, options: { kid: 'nope' } }));
    expect((await unknownKid.json()).error_description).toContain('publishes no key with kid "nope"');
    const wrongMethod = await admin('a', 'rotate');
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('POST');
    const unknownAction = await admin('a', 'explode', { method: 'POST' });
    expect(unknownAction.status).toBe(404);
    expect((await unknownAction.json()).error_description).toContain('actions: rotate, fail-next');
  });

  it('is not served without admin: true', async () => {
    const plain = await startIssuerServer({ port: 0 });
    try {
      const response = await fetch(`${plain.url}/_admin/tokens`, post({ claims: {} }));
      expect(response.status).toBe(404);
      expect((await response.json()).error_description).toContain('the control API is off');
    } finally {
      await plain.close();
    }
  });
});

/** This machine's first IPv4 address that is not loopback (a CI container has one on eth0). */
function externalAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((candidate) => candidate?.family === 'IPv4' && !candidate.internal)?.address;
  if (!address) throw new Error('this test needs a non-loopback IPv4 interface (eth0 in a container)');
  return address;
}

describe('the control API from a caller that is not on loopback', () => {
  it('answers 403, while the issuer itself still answers that caller', async () => {
    const host = externalAddress();
    const exposed = await startIssuerServer({ port: 0, host, config: { admin: true } });
    const get = (path: string, method = 'GET') =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpRequest({ host, port: exposed.port, path, method, localAddress: host }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject).end();
      });
    try {
      const refused = await get('/_admin/tokens', 'POST');
      expect(refused.status).toBe(403);
      expect(JSON.parse(refused.body).error_description).toBe(
        'the control API answers loopback callers only',
      );
      expect((await get('/jwks')).status).toBe(200);
    } finally {
      await exposed.close();
    }
  });

  it('tells loopback addresses from others', () => {
    for (const address of ['127.0.0.1', '127.0.0.2', '127.255.0.9', '::1', '::ffff:127.0.0.1']) {
      expect(isLoopback(address)).toBe(true);
    }
    for (const address of [
      '192.0.2.2',
      '10.0.0.1',
      '::ffff:10.0.0.1',
      'fd00::2',
      '1127.0.0.1',
      '',
      undefined,
    ]) {
      expect(isLoopback(address)).toBe(false);
    }
  });
});

// RFC 9728 over real HTTP: every adapter (Express, Fastify, Hono, node:http, a Fetch
// handler) serves the protected resource metadata at its well-known path and names it in
// every 401 and 403 challenge (`resource_metadata`, RFC 9728 §5.1), the 403 with the
// `scope` the request needs (RFC 6750 §3.1); a token issued for another resource is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ProtectedResource,
  type ProtectedResourceMetadata,
  authenticate,
  protectedResource,
  protectedResourceMetadata,
} from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { ROUTE_SCOPE, type Target, startAll } from '../support/servers.js';

const RESOURCE = 'https://api.test/orders';
const METADATA_URL = 'https://api.test/.well-known/oauth-protected-resource/orders';
const METADATA_PATH = '/.well-known/oauth-protected-resource/orders';

let issuer: TestIssuer;
let api: ProtectedResource;
let targets: Target[];

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, audience: RESOURCE });
  api = protectedResource({
    resource: RESOURCE,
    issuer: issuer.issuer,
    metadata: { scopesSupported: [ROUTE_SCOPE, 'write:orders'], resourceName: 'Orders API' },
  });
  targets = await startAll(api, { realm: 'orders', resourceMetadata: api.metadata }, api.metadata);
});

afterAll(async () => {
  await Promise.all(targets.map((target) => target.close()));
  api.verifier.close();
  await issuer.close();
});

async function askEveryone(authorization?: string, path?: string) {
  return Promise.all(
    targets.map(async (target) => ({ name: target.name, ...(await target.get(authorization, path)) })),
  );
}

describe('the metadata document at its RFC 9728 well-known path', () => {
  it('is served by every adapter, the same JSON, CORS-readable, without a token', async () => {
    for (const answer of await askEveryone(undefined, METADATA_PATH)) {
      expect({ name: answer.name, status: answer.status }).toEqual({ name: answer.name, status: 200 });
      expect(answer.contentType).toMatch(/^application\/json/);
      expect(answer.cacheControl).toBe('public, max-age=300');
      expect(answer.body).toEqual({
        resource: RESOURCE,
        authorization_servers: [issuer.issuer],
        scopes_supported: [ROUTE_SCOPE, 'write:orders'],
        bearer_methods_supported: ['header'],
        resource_name: 'Orders API',
      });
    }
  });

  it('is not served at the root well-known path, which belongs to the origin (another resource)', async () => {
    for (const answer of await askEveryone(undefined, '/.well-known/oauth-protected-resource')) {
      expect({ name: answer.name, status: answer.status }).not.toEqual({ name: answer.name, status: 200 });
    }
  });
});

describe('methods at the well-known path', () => {
  it('HEAD: 200 without a body; OPTIONS: a CORS preflight; POST: 405', async () => {
    for (const target of targets) {
      const head = await target.send(METADATA_PATH, { method: 'HEAD' });
      expect({ name: target.name, status: head.status, body: await head.text() }).toEqual({
        name: target.name,
        status: 200,
        body: '',
      });
      const preflight = await target.send(METADATA_PATH, {
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example',
          'access-control-request-method': 'GET',
          'access-control-request-headers': 'mcp-protocol-version',
        },
      });
      expect({ name: target.name, status: preflight.status }).toEqual({ name: target.name, status: 204 });
      expect(preflight.headers.get('access-control-allow-origin')).toBe('*');
      expect(preflight.headers.get('access-control-allow-headers')).toBe('mcp-protocol-version');
      const post = await target.send(METADATA_PATH, { method: 'POST', body: '{}' });
      expect({ name: target.name, status: post.status, allow: post.headers.get('allow') }).toEqual({
        name: target.name,
        status: 405,
        allow: 'GET, HEAD, OPTIONS',
      });
    }
  });

  it('Fastify: stays public when bearerAuth guards every route of the root context', async () => {
    const Fastify = (await import('fastify')).default;
    const forFastify = await import('../../src/fastify/index.js');
    const app = Fastify();
    await app.register(forFastify.bearerAuth, { verifier: api, resourceMetadata: api.metadata });
    await app.register(forFastify.serveResourceMetadata, { metadata: api.metadata });
    app.get('/orders', async () => 'secret');
    const metadata = await app.inject({ method: 'GET', url: METADATA_PATH });
    const orders = await app.inject({ method: 'GET', url: '/orders' });
    await app.close();
    expect(metadata.statusCode).toBe(200);
    expect(metadata.json()).toMatchObject({ resource: RESOURCE });
    expect(orders.statusCode).toBe(401);
    expect(orders.headers['www-authenticate']).toBe(`Bearer resource_metadata="${METADATA_URL}"`);
  });
});

describe('challenges name the metadata', () => {
  /** The params of a one-challenge `Bearer` header (the pkce entry's parseWwwAuthenticate is tested apart). */
  const challenge = (header: string | null) =>
    Object.fromEntries(
      [...(header ?? '').matchAll(/(\w+)="([^"]*)"/g)].map(([, name, value]) => [name, value]),
    );

  it('401 without a token: realm and resource_metadata, no error (RFC 6750 §3.1)', async () => {
    for (const answer of await askEveryone()) {
      expect({ name: answer.name, status: answer.status }).toEqual({ name: answer.name, status: 401 });
      expect(answer.wwwAuthenticate).toBe(`Bearer realm="orders", resource_metadata="${METADATA_URL}"`);
    }
  });

  it('401 for a bad token: invalid_token and resource_metadata', async () => {
    for (const answer of await askEveryone('Bearer not-a-jwt')) {
      expect(answer.status).toBe(401);
      expect(challenge(answer.wwwAuthenticate)).toMatchObject({
        realm: 'orders',
        error: 'invalid_token',
        resource_metadata: METADATA_URL,
      });
    }
  });

  it('401 ERR_AUDIENCE_MISMATCH for a token issued for another resource of the same issuer', async () => {
    const other = await issuer.sign({ sub: 'alice', scope: ROUTE_SCOPE, aud: 'https://api.test/billing' });
    for (const answer of await askEveryone(`Bearer ${other}`)) {
      expect((answer.body as { code: string }).code).toBe('ERR_AUDIENCE_MISMATCH');
      expect(answer.status).toBe(401);
      expect(challenge(answer.wwwAuthenticate).resource_metadata).toBe(METADATA_URL);
    }
  });

  it('403 insufficient_scope: the scope the route needs, and resource_metadata for the step-up', async () => {
    const token = await issuer.sign({ sub: 'alice', scope: 'write:orders' });
    for (const answer of await askEveryone(`Bearer ${token}`)) {
      expect((answer.body as { code: string }).code).toBe('ERR_INSUFFICIENT_SCOPE');
      expect(answer.status).toBe(403);
      expect(challenge(answer.wwwAuthenticate)).toMatchObject({
        error: 'insufficient_scope',
        scope: ROUTE_SCOPE,
        resource_metadata: METADATA_URL,
      });
    }
  });

  it('200 for a token issued for this resource with the scope', async () => {
    const token = await issuer.sign({ sub: 'alice', scope: ROUTE_SCOPE });
    for (const answer of await askEveryone(`Bearer ${token}`)) {
      expect({ name: answer.name, status: answer.status, body: answer.body }).toEqual({
        name: answer.name,
        status: 200,
        body: { sub: 'alice', iss: issuer.issuer },
      });
    }
  });
});

describe('authenticate(…, { resourceMetadata })', () => {
  const request = () => new Request('https://api.test/orders');
  const metadata: ProtectedResourceMetadata = protectedResourceMetadata({
    resource: 'https://api.test/',
    authorizationServers: ['https://issuer.test'],
  });

  it('takes the URL itself as well as the document', async () => {
    const byUrl = await authenticate(api, request(), { resourceMetadata: 'https://meta.example/prm.json' });
    expect(!byUrl.ok && byUrl.headers['WWW-Authenticate']).toBe(
      'Bearer resource_metadata="https://meta.example/prm.json"',
    );
    const byDocument = await authenticate(api, request(), { resourceMetadata: metadata });
    expect(!byDocument.ok && byDocument.headers['WWW-Authenticate']).toBe(
      'Bearer resource_metadata="https://api.test/.well-known/oauth-protected-resource"',
    );
  });

  it('adds nothing without the option, and never to a 503', async () => {
    const plain = await authenticate(api, request());
    expect(!plain.ok && plain.headers['WWW-Authenticate']).toBe('Bearer');
    issuer.failNext('jwks', { status: 500 });
    const fresh = protectedResource({ resource: RESOURCE, issuer: issuer.issuer });
    const down = await authenticate(
      fresh,
      new Request(RESOURCE, { headers: { authorization: `Bearer ${await issuer.sign()}` } }),
      {
        resourceMetadata: metadata,
      },
    );
    expect(down.ok ? 200 : down.status).toBe(503);
    expect(!down.ok && down.headers['WWW-Authenticate']).toBe(undefined);
    fresh.verifier.close();
  });

  it('refuses a resourceMetadata that is neither a URL nor a document, at set-up', async () => {
    const { resolveAuthenticateOptions } = await import('../../src/server/authenticate.js');
    for (const bad of ['not a url', 'ftp://x.example/prm', { resource: 7 }, 42]) {
      expect(() => resolveAuthenticateOptions({ resourceMetadata: bad as never })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

describe('protectedResource()', () => {
  it('has no way to forget the audience: audience is refused, even null', () => {
    for (const audience of [null, 'https://other.test', undefined]) {
      expect(() =>
        protectedResource({ resource: RESOURCE, issuer: issuer.issuer, audience } as never),
      ).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/audience/) }),
      );
    }
  });

  it('verifies with the resource as audience and publishes the same resource and issuer', async () => {
    const { payload } = await api.verify(await issuer.sign({ sub: 'bob' }));
    expect(payload.aud).toBe(RESOURCE);
    expect(api.metadata).toMatchObject({ resource: RESOURCE, authorization_servers: [issuer.issuer] });
    expect(api.metadataUrl).toBe(METADATA_URL);
    await expect(
      api.verify(await issuer.sign({ aud: [RESOURCE, 'https://other.test'] })),
    ).resolves.toBeTruthy();
    await expect(api.verify(await issuer.sign({ aud: `${RESOURCE}/` }))).rejects.toMatchObject({
      code: 'ERR_AUDIENCE_MISMATCH',
    });
  });

  it('checks its options at once: the resource, the issuer, the metadata members', () => {
    const cases = [
      { resource: 'https://api.test/x#frag', issuer: issuer.issuer },
      { resource: RESOURCE, issuer: 'not a url' },
      { resource: RESOURCE, issuer: issuer.issuer, metadata: { scopesSupported: ['a b'] } },
      { resource: RESOURCE, issuer: issuer.issuer, metadata: 'scopes' },
    ];
    for (const options of cases) {
      expect(() => protectedResource(options as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../../src/index.js';
import { type IssuerServer, startIssuerServer } from '../../../src/testing/index.js';

let server: IssuerServer;
const AUDIENCE = 'https://api.test';

beforeAll(async () => {
  server = await startIssuerServer({
    port: 0,
    config: {
      audience: AUDIENCE,
      issuers: {
        'tenant-a': { algorithms: ['ES256'] },
        legacy: { profile: 'auth0' },
        archera: { profile: 'rfc8414', algorithms: ['EdDSA'] },
      },
    },
  });
});
afterAll(() => server.close());

describe('startIssuerServer with many issuers', () => {
  it('serves each issuer at /<id>, each a createTestIssuer issuer with its own keys', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(Object.keys(server.issuers)).toEqual(['tenant-a', 'legacy', 'archera']);
    expect(server.issuers['tenant-a']!.issuer).toBe(`${server.url}/tenant-a`);
    expect(server.issuers.legacy!.issuer).toBe(`${server.url}/legacy/`);
    const kids = Object.values(server.issuers).flatMap((issuer) => issuer.keys.map((key) => key.kid));
    expect(new Set(kids).size).toBe(3);
    expect(server.issuers['tenant-a']!.keys[0]!.alg).toBe('ES256');
  });

  it('is found by RFC 8414 path insertion and by OpenID Connect appending', async () => {
    const inserted = await fetch(`${server.url}/.well-known/oauth-authorization-server/tenant-a`);
    expect(inserted.status).toBe(200);
    expect((await inserted.json()).issuer).toBe(`${server.url}/tenant-a`);
    const appended = await fetch(`${server.url}/tenant-a/.well-known/openid-configuration`);
    expect((await appended.json()).jwks_uri).toBe(`${server.url}/tenant-a/jwks`);
    const auth0 = await fetch(`${server.url}/legacy/.well-known/openid-configuration`);
    expect((await auth0.json()).token_endpoint).toBe(`${server.url}/legacy/oauth/token`);
    const rfc8414 = await fetch(`${server.url}/.well-known/oauth-authorization-server/archera`);
    expect((await rfc8414.json()).jwks_uri).toBe(`${server.url}/archera/.well-known/jwks.json`);
  });

  it("verifies each issuer's tokens through discovery, and not another issuer's", async () => {
    for (const issuer of Object.values(server.issuers)) {
      const verifier = new JwtVerifier({
        issuer: issuer.issuer,
        audience: AUDIENCE,
        allowInsecureHttp: true,
      });
      const { payload } = await verifier.verify(await issuer.sign({ sub: 'alice' }));
      expect(payload.iss).toBe(issuer.issuer);
    }
    const verifier = new JwtVerifier({
      issuer: server.issuers['tenant-a']!.issuer,
      audience: AUDIENCE,
      allowInsecureHttp: true,
    });
    const foreign = await server.issuers.archera!.sign({ iss: server.issuers['tenant-a']!.issuer });
    await expect(verifier.verify(foreign)).rejects.toMatchObject({ code: 'ERR_KEY_NOT_FOUND' });
  });

  it('issues tokens at the token endpoint over real HTTP (client credentials)', async () => {
    const response = await fetch(server.issuers.legacy!.metadata.token_endpoint!, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'svc' }),
    });
    expect(response.status).toBe(200);
    expect((await response.json()).token_type).toBe('Bearer');
  });

  it('answers GET /health with 200, an unknown issuer id with 404 naming the issuers', async () => {
    const health = await fetch(`${server.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', issuers: 3 });
    const unknown = await fetch(`${server.url}/nobody/jwks`);
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error_description).toContain(`${server.url}/tenant-a`);
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const response = await fetch(server.issuers['tenant-a']!.metadata.token_endpoint!, {
      method: 'POST',
      body: 'x'.repeat(1024 * 1024 + 1),
    });
    expect(response.status).toBe(413);
    expect((await response.json()).error_description).toContain('larger than 1048576 bytes');
  });
});

describe('startIssuerServer with one issuer', () => {
  it('serves it at the root as `default`, a public URL as its iss and in its metadata', async () => {
    const one = await startIssuerServer({ port: 0, publicUrl: 'http://localhost:9999/' });
    try {
      expect(one.url).toBe('http://localhost:9999');
      expect(Object.keys(one.issuers)).toEqual(['default']);
      expect(one.issuers.default!.issuer).toBe('http://localhost:9999');
      // Reached at its own address, it describes itself with the public URL.
      const metadata = await (
        await fetch(`http://127.0.0.1:${one.port}/.well-known/openid-configuration`)
      ).json();
      expect(metadata.issuer).toBe('http://localhost:9999');
      expect(metadata.token_endpoint).toBe('http://localhost:9999/token');
      const token = await (
        await fetch(`http://127.0.0.1:${one.port}/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'svc' }),
        })
      ).json();
      const verifier = new JwtVerifier({
        issuer: 'http://localhost:9999',
        audience: AUDIENCE,
        fetch: (input, init) =>
          fetch(
            String(input instanceof Request ? input.url : input).replace(
              'localhost:9999',
              `127.0.0.1:${one.port}`,
            ),
            init,
          ),
        allowInsecureHttp: true,
      });
      expect((await verifier.verify(token.access_token)).payload.iss).toBe('http://localhost:9999');
    } finally {
      await one.close();
    }
  });

  it('refuses a publicUrl with a path, and a port out of range, naming them', async () => {
    await expect(
      startIssuerServer({ port: 0, publicUrl: 'http://localhost:9999/idp' }),
    ).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('publicUrl must be an origin'),
    });
    await expect(startIssuerServer({ port: 70000 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringContaining('port must be an integer from 0 to 65535'),
    });
  });
});

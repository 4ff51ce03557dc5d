import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, authenticate, isJwtVerifyError } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { nodeFetches, proxyEnv, startHttpsServer, startLoggingProxy, withEnv } from '../support/network.js';

// The verifier's own requests (discovery, then the JWKS) through createNodeFetch: a forward
// proxy that logs what it is asked to forward or tunnel, and issuers that count connections.

const AUDIENCE = 'https://api.test';

/** A stub issuer on plain http://127.0.0.1 (reached through the proxy in absolute form). */
let plainIssuer: TestIssuer;
/** The same endpoints on https://127.0.0.1 with a private CA (reached through a CONNECT tunnel). */
let tlsIssuer: TestIssuer;
let https: Awaited<ReturnType<typeof startHttpsServer>>;
let tlsConnections = 0;
let ca: string;

let proxy: Awaited<ReturnType<typeof startLoggingProxy>>;
let proxyUrl: string;
let proxyLog: string[];
const { make, closeAll } = nodeFetches();

beforeAll(async () => {
  https = await startHttpsServer((req, res) => {
    tlsIssuer
      .fetch(`${tlsIssuer.issuer}${req.url ?? '/'}`)
      .then(async (response) => {
        res.writeHead(response.status, Object.fromEntries(response.headers));
        res.end(Buffer.from(await response.arrayBuffer()));
      })
      .catch(() => res.writeHead(500).end());
  });
  https.server.on('secureConnection', () => tlsConnections++);
  ca = https.ca;
  [tlsIssuer, plainIssuer] = await Promise.all([
    // ES256: a rotation makes its new key in milliseconds, well within undici's 4 s keep-alive.
    createTestIssuer({ issuer: https.origin, audience: AUDIENCE, algorithms: ['ES256'] }),
    createTestIssuer({ listen: true, audience: AUDIENCE }),
  ]);
  proxy = await startLoggingProxy();
  ({ url: proxyUrl, log: proxyLog } = proxy);
});
beforeEach(() => {
  proxyLog.length = 0;
  tlsConnections = 0;
  plainIssuer.reset();
  tlsIssuer.reset();
});
afterAll(async () => {
  await closeAll();
  await Promise.all([https?.close(), proxy?.close(), plainIssuer?.close()]);
});

describe('a JwtVerifier behind a forward proxy', () => {
  it('fetches metadata and JWKS through an explicit proxy (http: issuer, absolute form)', async () => {
    const verifier = new JwtVerifier({
      issuer: plainIssuer.issuer,
      audience: AUDIENCE,
      discovery: 'oauth',
      fetch: make({ proxy: proxyUrl }),
    });
    const { payload } = await verifier.verify(await plainIssuer.sign({ sub: 'via-proxy' }));
    expect(payload.sub).toBe('via-proxy');
    expect(proxyLog).toEqual([
      `GET ${plainIssuer.issuer}/.well-known/oauth-authorization-server`,
      `GET ${plainIssuer.issuer}/jwks`,
    ]);
    expect(plainIssuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it("tunnels to an https: issuer with a private CA through HTTPS_PROXY (proxy: 'env'), keeping the tunnel alive", async () => {
    const verifier = await withEnv(proxyEnv({ HTTPS_PROXY: proxyUrl }), async () => {
      const v = new JwtVerifier({
        issuer: tlsIssuer.issuer,
        audience: AUDIENCE,
        fetch: make({ proxy: 'env', ca }),
      });
      await v.warmup();
      return v;
    });
    expect(tlsIssuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
    // Every TLS connection the issuer accepted was a tunnel the proxy opened.
    const tunnels = proxyLog.length;
    expect(tunnels).toBeGreaterThan(0);
    expect(new Set(proxyLog)).toEqual(new Set([`CONNECT ${new URL(tlsIssuer.issuer).host}`]));
    expect(tlsConnections).toBe(tunnels);

    // A key rotation: the JWKS refetch goes through the proxy too, over a tunnel kept alive.
    await tlsIssuer.rotateKeys();
    const { payload } = await verifier.verify(await tlsIssuer.sign({ sub: 'rotated' }));
    expect(payload.sub).toBe('rotated');
    expect(tlsIssuer.requests.jwks).toBe(2);
    expect(proxyLog).toHaveLength(tunnels);
    expect(tlsConnections).toBe(tunnels);
  });

  it('reuses its kept-alive connection for a later JWKS refetch, without a proxy', async () => {
    const verifier = new JwtVerifier({ issuer: tlsIssuer.issuer, audience: AUDIENCE, fetch: make({ ca }) });
    await verifier.warmup();
    const opened = tlsConnections;
    // undici may open a second socket when the JWKS request follows discovery within the same tick.
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThanOrEqual(2);
    await tlsIssuer.rotateKeys();
    await verifier.verify(await tlsIssuer.sign({ sub: 'direct' }));
    expect(tlsIssuer.requests).toMatchObject({ metadata: 1, jwks: 2 });
    expect(tlsConnections).toBe(opened);
    expect(proxyLog).toEqual([]);
  });

  it('reports a proxy that refuses the request as the issuer being unavailable (503), not as a bad token', async () => {
    proxy.proxy.authenticate = () => false;
    try {
      const verifier = new JwtVerifier({
        issuer: tlsIssuer.issuer,
        audience: AUDIENCE,
        fetch: make({ proxy: proxyUrl, ca }),
      });
      const token = await tlsIssuer.sign({ sub: 'blocked' });
      const error = await verifier.verify(token).catch((e: unknown) => e);
      expect(isJwtVerifyError(error) && error.code).toBe('ERR_ISSUER_UNAVAILABLE');

      const result = await authenticate(verifier, { headers: { authorization: `Bearer ${token}` } });
      expect(result.ok ? 'accepted' : result.body.code).toBe('ERR_ISSUER_UNAVAILABLE');
      expect(result.ok ? 0 : result.status).toBe(503);
      expect(tlsIssuer.requests).toMatchObject({ metadata: 0, jwks: 0 });
      expect(proxyLog.length).toBeGreaterThan(0);
    } finally {
      delete proxy.proxy.authenticate;
    }
  });
});

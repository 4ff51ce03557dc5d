import { createServer as createHttpServer } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { discover } from '../../src/index.js';
import {
  close,
  listen,
  nodeFetches,
  proxyEnv,
  startHttpsServer,
  startLoggingProxy,
  withEnv,
} from '../support/network.js';

/** An issuer-like server: RFC 8414 metadata and a JWKS, for whatever origin it is reached at. */
function issuerHandler(origin: () => string, log: string[] = []) {
  return (req: { url?: string }, res: import('node:http').ServerResponse) => {
    log.push(req.url ?? '');
    const json = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.url === '/.well-known/oauth-authorization-server') {
      json({ issuer: origin(), jwks_uri: `${origin()}/jwks` });
    } else if (req.url === '/jwks') json({ keys: [] });
    else res.writeHead(404).end();
  };
}

let https: Awaited<ReturnType<typeof startHttpsServer>>;
let httpsOrigin: string;
let ca: string;
/** What the HTTPS issuer served, and how many TCP connections it accepted. */
const issuerLog: string[] = [];
let issuerConnections = 0;

const plainA = createHttpServer(issuerHandler(() => plainAOrigin));
const plainB = createHttpServer(issuerHandler(() => plainBOrigin));
let plainAOrigin: string;
let plainBOrigin: string;

/** The forward proxy, logging what it is asked: `GET http://…` (absolute form) or `CONNECT host:port`. */
let proxy: Awaited<ReturnType<typeof startLoggingProxy>>;
let proxyUrl: string;
let proxyLog: string[];

/** What Node's OpenSSL says for a certificate from an unknown CA (the wording varies by build). */
const UNTRUSTED = expect.stringMatching(/^UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT_LOCALLY)$/);

const { make, closeAll } = nodeFetches();

beforeAll(async () => {
  https = await startHttpsServer(issuerHandler(() => httpsOrigin, issuerLog));
  https.server.on('connection', () => issuerConnections++);
  ({ ca, origin: httpsOrigin } = https);
  plainAOrigin = `http://127.0.0.1:${await listen(plainA)}`;
  plainBOrigin = `http://127.0.0.1:${await listen(plainB)}`;
  proxy = await startLoggingProxy();
  ({ url: proxyUrl, log: proxyLog } = proxy);
});
beforeEach(() => {
  proxyLog.length = 0;
  issuerLog.length = 0;
  issuerConnections = 0;
});
afterAll(async () => {
  await closeAll();
  await Promise.all([https?.close(), close(plainA), close(plainB), proxy?.close()]);
});

describe('a private CA', () => {
  it('fetches from an HTTPS issuer whose CA is given', async () => {
    const response = await make({ ca })(`${httpsOrigin}/jwks`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ keys: [] });
  });

  it('accepts the CA as a Buffer in a list', async () => {
    const response = await make({ ca: [Buffer.from(ca)] })(`${httpsOrigin}/jwks`);
    expect(response.status).toBe(200);
  });

  it('refuses the same issuer without it', async () => {
    const error = await make()(`${httpsOrigin}/jwks`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).cause).toMatchObject({ code: UNTRUSTED });
  });

  it('serves discovery through the library', async () => {
    const metadata = await discover(httpsOrigin, { fetch: make({ ca }), discovery: 'oauth' });
    expect(metadata.jwks_uri).toBe(`${httpsOrigin}/jwks`);
  });
});

describe('an explicit proxy', () => {
  it('sends http: requests to the proxy in absolute form', async () => {
    const response = await make({ proxy: proxyUrl })(`${plainAOrigin}/jwks`);
    expect(await response.json()).toEqual({ keys: [] });
    expect(proxyLog).toEqual([`GET ${plainAOrigin}/jwks`]);
  });

  it('tunnels https: requests with CONNECT, checking the issuer against the CA', async () => {
    const response = await make({ proxy: new URL(proxyUrl), ca })(`${httpsOrigin}/jwks`);
    expect(await response.json()).toEqual({ keys: [] });
    expect(proxyLog).toEqual([`CONNECT ${httpsOrigin.slice('https://'.length)}`]);
  });

  it('still refuses an issuer it cannot verify behind the tunnel', async () => {
    const error = await make({ proxy: proxyUrl })(`${httpsOrigin}/jwks`).catch((e: unknown) => e);
    expect((error as Error).cause).toMatchObject({ code: UNTRUSTED });
    expect(proxyLog).toHaveLength(1);
  });

  it('sends the credentials in the proxy URL, for CONNECT and absolute-form requests', async () => {
    const expected = `Basic ${Buffer.from('svc:p@ss').toString('base64')}`;
    const seen: Array<string | undefined> = [];
    proxy.proxy.authenticate = (req) => {
      seen.push(req.headers['proxy-authorization']);
      return req.headers['proxy-authorization'] === expected;
    };
    try {
      const withCredentials = new URL(proxyUrl);
      withCredentials.username = 'svc';
      withCredentials.password = encodeURIComponent('p@ss');
      const fetch = make({ proxy: withCredentials.href, ca });
      expect((await fetch(`${httpsOrigin}/jwks`)).status).toBe(200);
      expect((await fetch(`${plainAOrigin}/jwks`)).status).toBe(200);
      expect(seen).toEqual([expected, expected]);

      // Without them the proxy answers 407 and the fetch fails.
      await expect(make({ proxy: proxyUrl, ca })(`${httpsOrigin}/jwks`)).rejects.toThrow(TypeError);
      expect(seen).toEqual([expected, expected, undefined]);
    } finally {
      delete proxy.proxy.authenticate;
    }
  });
});

describe("proxy: 'env'", () => {
  it('uses HTTPS_PROXY for https: issuers (metadata and JWKS both pass through it)', async () => {
    await withEnv(proxyEnv({ HTTPS_PROXY: proxyUrl }), async () => {
      const fetch = make({ proxy: 'env', ca });
      const metadata = await discover(httpsOrigin, { fetch, discovery: 'oauth' });
      expect((await fetch(metadata.jwks_uri!)).status).toBe(200);
    });
    expect(issuerLog).toEqual(['/.well-known/oauth-authorization-server', '/jwks']);
    // Every connection the issuer accepted was a tunnel the proxy opened.
    expect(proxyLog.length).toBeGreaterThan(0);
    expect(new Set(proxyLog)).toEqual(new Set([`CONNECT ${httpsOrigin.slice('https://'.length)}`]));
    expect(issuerConnections).toBe(proxyLog.length);
  });

  it('uses HTTP_PROXY for http: targets and skips hosts listed in NO_PROXY', async () => {
    const directPort = new URL(plainBOrigin).port;
    await withEnv(
      proxyEnv({ HTTP_PROXY: proxyUrl, NO_PROXY: `localhost,127.0.0.1:${directPort}` }),
      async () => {
        const fetch = make({ proxy: 'env' });
        expect((await fetch(`${plainAOrigin}/jwks`)).status).toBe(200);
        expect((await fetch(`${plainBOrigin}/jwks`)).status).toBe(200);
      },
    );
    expect(proxyLog).toEqual([`GET ${plainAOrigin}/jwks`]);
  });

  it('goes direct when no proxy variable is set', async () => {
    await withEnv(proxyEnv({}), async () => {
      expect((await make({ proxy: 'env' })(`${plainAOrigin}/jwks`)).status).toBe(200);
    });
    expect(proxyLog).toEqual([]);
  });

  it('ignores the variables unless asked to', async () => {
    await withEnv(proxyEnv({ HTTP_PROXY: proxyUrl }), async () => {
      expect((await make()(`${plainAOrigin}/jwks`)).status).toBe(200);
    });
    expect(proxyLog).toEqual([]);
  });
});

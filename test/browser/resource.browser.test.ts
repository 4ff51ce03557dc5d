// A browser MCP-style client in real headless Chromium, built from dist/pkce (as `npm run
// build` wrote it): the page calls a protected resource on another 127.0.0.1 origin, gets a
// 401, reads resource_metadata with parseWwwAuthenticate, fetches the RFC 9728 document
// with discoverResource, discovers the stub issuer, registers itself (RFC 7591), logs in with
// PKCE and `resource`, exchanges the code, and calls the resource again with the token.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ProtectedResource,
  answerResourceMetadata,
  authenticate,
  protectedResource,
} from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { type AppServer, BUNDLE, launchChromium, serveApp } from './harness.js';

/** The page: one script for the first visit and the /callback route. */
function appPage(resourceUrl: string): string {
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>MCP-style client</title></head>
<body><pre id="result"></pre>
<script type="module">
import {
  parseWwwAuthenticate, discoverResource, discover, registerClient,
  buildAuthorizationUrl, parseAuthorizationResponse, exchangeAuthorizationCode,
} from '${BUNDLE}';
const resourceUrl = ${JSON.stringify(resourceUrl)};
const redirectUri = location.origin + '/callback';
const show = (value) => { document.getElementById('result').textContent = JSON.stringify(value); };
try {
  if (location.pathname === '/callback') {
    const pending = JSON.parse(sessionStorage.getItem('mcp:pending'));
    sessionStorage.removeItem('mcp:pending');
    const metadata = await discover(pending.issuer);
    const { code } = parseAuthorizationResponse(location.href, { expectedState: pending.state, metadata });
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: pending.clientId, code, codeVerifier: pending.codeVerifier, redirectUri, resource: pending.resource,
    });
    const answer = await fetch(resourceUrl, { headers: { authorization: 'Bearer ' + tokens.access_token } });
    show({ status: answer.status, body: await answer.json(), challenge: pending.challenge, resource: pending.resource });
  } else {
    const refused = await fetch(resourceUrl);
    const challenge = parseWwwAuthenticate(refused.headers.get('www-authenticate'));
    const bearer = challenge.find((c) => c.scheme === 'bearer');
    const resource = await discoverResource(resourceUrl, { resourceMetadataUrl: bearer.params.resource_metadata });
    const issuer = resource.authorization_servers[0];
    const metadata = await discover(issuer);
    const client = await registerClient(metadata, { client_name: 'browser MCP client', redirect_uris: [redirectUri] });
    const request = await buildAuthorizationUrl(metadata, {
      clientId: client.client_id, redirectUri, scope: resource.scopes_supported.join(' '), resource: resource.resource,
    });
    sessionStorage.setItem('mcp:pending', JSON.stringify({
      issuer, clientId: client.client_id, state: request.state, codeVerifier: request.codeVerifier,
      resource: resource.resource, challenge: { status: refused.status, bearer },
    }));
    location.assign(request.url);
  }
} catch (error) {
  show({ error: { name: error.name, message: error.message, code: error.code, error: error.error } });
}
</script></body></html>`;
}

/** Lets the page's origin call the resource and read its challenge (CORS). */
const CORS = {
  'access-control-allow-origin': '*',
  'access-control-expose-headers': 'www-authenticate',
  'access-control-allow-headers': 'authorization',
};

let issuer: TestIssuer;
let api: ProtectedResource;
let resourceServer: Server;
let app: AppServer;
let appOrigin: string;
let browser: Browser;

function listen(server: Server): Promise<string> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
    ),
  );
}

function close(server: Server | undefined): Promise<unknown> {
  server?.closeAllConnections();
  return new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
}

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true });
  resourceServer = createServer(async (req, res) => {
    const metadata = answerResourceMetadata(api.metadata, req);
    if (metadata)
      return void res.writeHead(metadata.status, metadata.headers).end(metadata.body ?? undefined);
    if (req.method === 'OPTIONS') return void res.writeHead(204, CORS).end();
    const result = await authenticate(api, req, {
      resourceMetadata: api.metadata,
      requiredScopes: 'tools:call',
    });
    if (!result.ok)
      return void res
        .writeHead(result.status, { ...result.headers, ...CORS })
        .end(JSON.stringify(result.body));
    const { sub, aud, client_id: clientId } = result.token.payload;
    res
      .writeHead(200, { 'content-type': 'application/json', ...CORS })
      .end(JSON.stringify({ sub, aud, clientId }));
  });
  const resourceUrl = `${await listen(resourceServer)}/mcp`;
  api = protectedResource({
    resource: resourceUrl,
    issuer: issuer.issuer,
    metadata: { scopesSupported: ['tools:call'] },
  });
  const html = appPage(resourceUrl);
  app = await serveApp({ '/': () => html, '/callback': () => html });
  appOrigin = app.origin;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([app?.close(), close(resourceServer)]);
  api?.verifier.close();
  await issuer?.close();
});

describe('the RFC 9728 and RFC 7591 helpers of oauth-jwt-verify/pkce in Chromium', () => {
  it('get a browser client from a bare 401 to an answer, across three origins', async () => {
    const page: Page = await browser.newPage();
    const requests: Request[] = [];
    const errors: string[] = [];
    page.on('request', (request) => requests.push(request));
    page.on('pageerror', (error) => errors.push(error.message));
    try {
      await page.goto(`${appOrigin}/`);
      await page.locator('#result:not(:empty)').waitFor({ timeout: 20_000 });
      const result = JSON.parse((await page.locator('#result').textContent())!);
      expect(result.error).toBeUndefined();
      expect(errors).toEqual([]);
      expect(result.challenge).toEqual({
        status: 401,
        bearer: { scheme: 'bearer', params: { resource_metadata: api.metadataUrl } },
      });
      expect(result.resource).toBe(api.resource);
      expect(result.status).toBe(200);
      expect(result.body).toMatchObject({
        sub: 'test-user',
        aud: api.resource,
        clientId: expect.stringMatching(/^client-/),
      });

      // What the page asked for, in order (the metadata named by the challenge, not guessed).
      const asked = requests
        .filter((request) => !request.url().startsWith(appOrigin))
        .map((request) => `${request.method()} ${new URL(request.url()).pathname}`);
      expect(asked.filter((line) => !line.startsWith('OPTIONS'))).toEqual([
        'GET /mcp',
        'GET /.well-known/oauth-protected-resource/mcp',
        'GET /.well-known/oauth-authorization-server',
        'POST /register',
        'GET /authorize',
        'GET /.well-known/oauth-authorization-server',
        'POST /token',
        'GET /mcp',
      ]);
      const authorize = requests.find((request) =>
        request.url().startsWith(issuer.metadata.authorization_endpoint!),
      );
      expect(new URL(authorize!.url()).searchParams.get('resource')).toBe(api.resource);
      expect(issuer.requests).toMatchObject({ register: 1, authorize: 1, token: 1 });
    } finally {
      await page.context().close();
    }
  });
});

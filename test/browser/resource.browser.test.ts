// A browser MCP-style client in real headless Chromium, built from dist/pkce (as `npm run
// build` wrote it): the page calls a protected resource on another 127.0.0.1 origin, gets a
// 401, reads resource_metadata with parseWwwAuthenticate, fetches the RFC 9728 document
// with discoverResource, discovers the stub issuer, registers itself (RFC 7591), logs in with
// PKCE and `resource`, exchanges the code, and calls the resource again with the token.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestIssuer } from '../support/fixture.js';
import { type McpResource, startMcpResource } from '../support/mcp-resource.js';
import { type AppServer, readResult, serveApp, spaPage, useChromium } from './harness.js';

/** The page: one script for the first visit and the /callback route. */
function appPage(resourceUrl: string): string {
  return spaPage({
    title: 'MCP-style client',
    config: { resourceUrl },
    imports: `parseWwwAuthenticate, discoverResource, discover, registerClient,
  buildAuthorizationUrl, parseAuthorizationResponse, exchangeAuthorizationCode,`,
    script: `  const resourceUrl = config.resourceUrl;
  const redirectUri = location.origin + '/callback';
  if (location.pathname === '/callback') {
    const pending = JSON.parse(sessionStorage.getItem('mcp:pending'));
    sessionStorage.removeItem('mcp:pending');
    const metadata = await discover(pending.issuer);
    const { code } = parseAuthorizationResponse(location.href, { expectedState: pending.state, metadata });
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: pending.clientId, code, codeVerifier: pending.codeVerifier, redirectUri, resource: pending.resource,
    });
    const answer = await fetch(resourceUrl, { headers: { authorization: 'Bearer ' + tokens.access_token } });
    show('result', { status: answer.status, body: await answer.json(), challenge: pending.challenge, resource: pending.resource });
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
  }`,
  });
}

const issuer = useTestIssuer({ listen: true });
let resource: McpResource;
let app: AppServer;
let appOrigin: string;

beforeAll(async () => {
  resource = await startMcpResource({
    issuer: issuer.issuer,
    scopesSupported: ['tools:call'],
    requiredScopes: () => 'tools:call',
    granted: ({ payload: { sub, aud, client_id: clientId } }) => ({ sub, aud, clientId }),
    // Lets the page's origin call the resource and read its challenge (CORS).
    headers: {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': 'www-authenticate',
      'access-control-allow-headers': 'authorization',
    },
  });
  const html = appPage(resource.url);
  app = await serveApp({ '/': () => html, '/callback': () => html });
  appOrigin = app.origin;
});

afterAll(async () => {
  await Promise.all([app?.close(), resource?.close()]);
});

const tab = useChromium();

describe('the RFC 9728 and RFC 7591 helpers of oauth-jwt-verify/pkce in Chromium', () => {
  it('get a browser client from a bare 401 to an answer, across three origins', async () => {
    await tab.page.goto(`${appOrigin}/`);
    const result = await readResult<Record<string, any>>(tab.page, 20_000);
    expect(result.error).toBeUndefined();
    expect(tab.pageErrors).toEqual([]);
    expect(result.challenge).toEqual({
      status: 401,
      bearer: { scheme: 'bearer', params: { resource_metadata: resource.api.metadataUrl } },
    });
    expect(result.resource).toBe(resource.api.resource);
    expect(result.status).toBe(200);
    expect(result.body).toMatchObject({
      sub: 'test-user',
      aud: resource.api.resource,
      clientId: expect.stringMatching(/^client-/),
    });

    // What the page asked for, in order (the metadata named by the challenge, not guessed).
    const asked = tab.requests
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
    const authorize = tab.requests.find((request) =>
      request.url().startsWith(issuer.metadata.authorization_endpoint!),
    );
    expect(new URL(authorize!.url()).searchParams.get('resource')).toBe(resource.api.resource);
    expect(issuer.requests).toMatchObject({ register: 1, authorize: 1, token: 1 });
  });
});

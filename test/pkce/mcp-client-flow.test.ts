// An MCP-style client built from ./pkce alone, on real HTTP: it calls a protected resource
// (node:http with authenticate() and answerResourceMetadata(), on 127.0.0.1), reads the
// 401's resource_metadata, discovers the resource and its authorization server (the stub
// issuer), registers, logs in with PKCE and `resource`, calls again; then steps up on a 403.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ProtectedResource,
  answerResourceMetadata,
  authenticate,
  protectedResource,
} from '../../src/index.js';
import {
  buildAuthorizationUrl,
  discover,
  discoverResource,
  exchangeAuthorizationCode,
  parseAuthorizationResponse,
  parseWwwAuthenticate,
  registerClient,
} from '../../src/pkce/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';

const REDIRECT = 'http://127.0.0.1:8765/callback';
let issuer: TestIssuer;
let api: ProtectedResource;
let server: Server;
let resourceUrl: string;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true });
  server = createServer(async (req, res) => {
    const metadata = answerResourceMetadata(api.metadata, req);
    if (metadata)
      return void res.writeHead(metadata.status, metadata.headers).end(metadata.body ?? undefined);
    // Listing is for tools:read; calling needs tools:call as well.
    const requiredScopes = req.method === 'POST' ? 'tools:read tools:call' : 'tools:read';
    const result = await authenticate(api, req, { resourceMetadata: api.metadata, requiredScopes });
    if (!result.ok) return void res.writeHead(result.status, result.headers).end(JSON.stringify(result.body));
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ sub: result.token.payload.sub }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  resourceUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  api = protectedResource({
    resource: resourceUrl,
    issuer: issuer.issuer,
    metadata: { scopesSupported: ['tools:read', 'tools:call'] },
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  api.verifier.close();
  await issuer.close();
});

/** Log in for `scope`: what a desktop MCP client does after a 401 or 403, with ./pkce only. */
async function logIn(challenge: Response, scope?: string): Promise<string> {
  const bearer = parseWwwAuthenticate(challenge.headers.get('www-authenticate')).find(
    (c) => c.scheme === 'bearer',
  );
  const resource = await discoverResource(resourceUrl, {
    resourceMetadataUrl: bearer?.params.resource_metadata,
  });
  const metadata = await discover(resource.authorization_servers![0]!);
  const client = await registerClient(metadata, { redirect_uris: [REDIRECT], application_type: 'native' });
  const request = await buildAuthorizationUrl(metadata, {
    clientId: client.client_id,
    redirectUri: REDIRECT,
    scope: scope ?? bearer?.params.scope ?? resource.scopes_supported?.join(' '),
    resource: resource.resource,
  });
  const callback = (await fetch(request.url, { redirect: 'manual' })).headers.get('location')!;
  const { code } = parseAuthorizationResponse(callback, { expectedState: request.state, metadata });
  const tokens = await exchangeAuthorizationCode(metadata, {
    clientId: client.client_id,
    code,
    codeVerifier: request.codeVerifier,
    redirectUri: REDIRECT,
    resource: resource.resource,
  });
  return tokens.access_token;
}

describe('an MCP-style client made of oauth-jwt-verify/pkce', () => {
  it('gets from a bare 401 to a 200: resource_metadata, RFC 9728, RFC 8414, RFC 7591, PKCE, resource', async () => {
    const first = await fetch(resourceUrl);
    expect(first.status).toBe(401);
    const token = await logIn(first, 'tools:read');
    const second = await fetch(resourceUrl, { headers: { authorization: `Bearer ${token}` } });
    expect(second.status).toBe(200);
    expect(await second.json()).toEqual({ sub: 'test-user' });
  });

  it('steps up on a 403: the challenge scope names what the call needs, and the new token has it', async () => {
    const readOnly = await logIn(await fetch(resourceUrl), 'tools:read');
    const refused = await fetch(resourceUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${readOnly}` },
    });
    expect(refused.status).toBe(403);
    const [bearer] = parseWwwAuthenticate(refused.headers.get('www-authenticate'));
    expect(bearer!.params).toMatchObject({ error: 'insufficient_scope', scope: 'tools:read tools:call' });
    const stepped = await logIn(refused);
    const done = await fetch(resourceUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${stepped}` },
    });
    expect(done.status).toBe(200);
  });

  it('a token the same issuer minted for another resource is refused here', async () => {
    const elsewhere = await issuer.sign({ aud: 'http://127.0.0.1:1/mcp', scope: 'tools:read' });
    const response = await fetch(resourceUrl, { headers: { authorization: `Bearer ${elsewhere}` } });
    expect(response.status).toBe(401);
    expect((await response.json()).code).toBe('ERR_AUDIENCE_MISMATCH');
  });
});

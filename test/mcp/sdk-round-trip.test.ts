// The MCP authorization dance with the real @modelcontextprotocol/sdk on real HTTP: the SDK's
// client (StreamableHTTPClientTransport with an OAuthClientProvider) calls a tool on an MCP
// server behind the SDK's requireBearerAuth with mcpTokenVerifier, and gets there through
// RFC 9728 (resource_metadata in the 401, then the metadata document), RFC 8414 discovery of
// the stub issuer, RFC 7591 registration, PKCE S256 with the RFC 8707 resource, the token.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { FetchingOAuthProvider, type McpTestServer, startMcpServer } from './servers.js';

let issuer: TestIssuer;
let mcp: McpTestServer;
/** Every request the stub issuer and the MCP server saw, in order: `METHOD path`. */
const seen: string[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true });
  mcp = await startMcpServer({ issuer: issuer.issuer, requiredScopes: ['tools:call'] });
});

afterAll(async () => {
  await mcp?.close();
  await issuer?.close();
});

/** A fetch that records each request's method and path, for the order of the dance. */
const recordingFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const { pathname, origin } = new URL(request.url);
  seen.push(`${request.method} ${origin === new URL(mcp.url).origin ? 'mcp' : 'issuer'}${pathname}`);
  return fetch(request);
};

async function connect(
  provider: FetchingOAuthProvider,
): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'oauth-jwt-verify-test-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(mcp.url), {
    authProvider: provider,
    fetch: recordingFetch,
  });
  await client.connect(transport);
  return { client, transport };
}

describe('the MCP SDK client against an MCP server protected by oauth-jwt-verify', () => {
  it('does the whole dance: 401 → RFC 9728 → RFC 8414 → registration → PKCE → token → tool call', async () => {
    issuer.reset();
    seen.length = 0;
    const provider = new FetchingOAuthProvider(recordingFetch);
    const first = await connect(provider).catch((error: unknown) => error);
    expect(first).toBeInstanceOf(UnauthorizedError);
    expect(provider.opened).toHaveLength(1);
    const authorization = provider.opened[0]!;
    expect(Object.fromEntries(authorization.searchParams)).toMatchObject({
      response_type: 'code',
      code_challenge_method: 'S256',
      resource: mcp.url,
      scope: 'tools:call',
      client_id: provider.client!.client_id,
    });
    expect(provider.client!.client_id).toMatch(/^client-/);

    const pending = new StreamableHTTPClientTransport(new URL(mcp.url), {
      authProvider: provider,
      fetch: recordingFetch,
    });
    await pending.finishAuth(provider.code!);
    expect(provider.saved?.access_token).toBeTruthy();

    const { client } = await connect(provider);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    const whoami = JSON.parse((result.content as { type: 'text'; text: string }[])[0]!.text);
    expect(whoami).toEqual({
      clientId: provider.client!.client_id,
      scopes: ['tools:call'],
      resource: mcp.url,
      sub: 'test-user',
      expiresAt: expect.any(Number),
    });

    // The order of the dance, as the wire saw it (finishAuth discovers again before the token).
    expect(seen.slice(0, 9)).toEqual([
      'POST mcp/mcp',
      'GET mcp/.well-known/oauth-protected-resource/mcp',
      'GET issuer/.well-known/oauth-authorization-server',
      'POST issuer/register',
      'GET issuer/authorize',
      'GET mcp/.well-known/oauth-protected-resource/mcp',
      'GET issuer/.well-known/oauth-authorization-server',
      'POST issuer/token',
      'POST mcp/mcp',
    ]);
    // Two metadata requests from the SDK client, one from the verifier; its JWKS is fetched
    // once for every request of the session (initialize, initialized, tools/call).
    expect(issuer.requests).toEqual({
      register: 1,
      authorize: 1,
      token: 1,
      metadata: 3,
      jwks: 1,
      revoke: 0,
      introspect: 0,
      logout: 0,
      userinfo: 0,
    });
    expect(seen.filter((request) => request === 'POST mcp/mcp').length).toBeGreaterThanOrEqual(4);
  });

  it('the access token is issued for this MCP server: aud is the resource (RFC 8707)', async () => {
    const provider = new FetchingOAuthProvider();
    await connect(provider).catch(() => undefined);
    const pending = new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
    await pending.finishAuth(provider.code!);
    const payload = JSON.parse(
      Buffer.from(provider.saved!.access_token.split('.')[1]!, 'base64url').toString(),
    );
    expect(payload).toMatchObject({
      aud: mcp.url,
      iss: issuer.issuer,
      client_id: provider.client!.client_id,
    });
  });
});

describe("requireBearerAuth's answers with mcpTokenVerifier", () => {
  const post = (authorization?: string) =>
    fetch(mcp.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });

  it('401 with resource_metadata for a token issued for another MCP server of the same issuer', async () => {
    const other = await issuer.sign({
      aud: 'https://other-mcp.example/mcp',
      scope: 'tools:call',
      client_id: 'c',
    });
    const response = await post(`Bearer ${other}`);
    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({
      error: 'invalid_token',
      error_description: /expected audience/,
    });
    expect(response.headers.get('www-authenticate')).toContain(
      `resource_metadata="${mcp.resource.metadataUrl}"`,
    );
  });

  it('403 insufficient_scope when the token lacks the scope requireBearerAuth needs', async () => {
    const token = await issuer.sign({ aud: mcp.url, scope: 'tools:read', client_id: 'c' });
    const response = await post(`Bearer ${token}`);
    expect(response.status).toBe(403);
    expect((await response.json()).error).toBe('insufficient_scope');
    expect(response.headers.get('www-authenticate')).toContain('scope="tools:call"');
  });

  it('500 server_error without the issuer URL when the issuer is down', async () => {
    const down = await createTestIssuer({ listen: true });
    const server = await startMcpServer({ issuer: down.issuer });
    down.failNext('metadata', { status: 503, times: Infinity });
    try {
      const token = await down.sign({ aud: server.url, scope: 'tools:call', client_id: 'c' });
      const response = await fetch(server.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(response.status).toBe(500);
      const body = await response.json();
      expect(body.error).toBe('server_error');
      expect(JSON.stringify(body)).not.toContain(down.issuer);
    } finally {
      await server.close();
      await down.close();
    }
  });

  it('serves the metadata the client started from at the path-aware well-known URL', async () => {
    const response = await fetch(mcp.resource.metadataUrl);
    expect(mcp.resource.metadataUrl).toBe(
      `${new URL(mcp.url).origin}/.well-known/oauth-protected-resource/mcp`,
    );
    expect(await response.json()).toEqual({
      resource: mcp.url,
      authorization_servers: [issuer.issuer],
      scopes_supported: ['tools:call'],
      bearer_methods_supported: ['header'],
      resource_name: 'Test MCP server',
    });
  });
});

describe('mcpBearerAuth in place of requireBearerAuth', () => {
  let guarded: McpTestServer;
  beforeAll(async () => {
    guarded = await startMcpServer({
      issuer: issuer.issuer,
      requiredScopes: ['tools:call'],
      guard: 'mcpBearerAuth',
    });
  });
  afterAll(() => guarded.close());

  it('lets the SDK client through the same dance, and gives the tool the same AuthInfo', async () => {
    const provider = new FetchingOAuthProvider();
    const open = async () => {
      const client = new Client({ name: 'guarded', version: '1.0.0' });
      await client.connect(
        new StreamableHTTPClientTransport(new URL(guarded.url), { authProvider: provider }),
      );
      return client;
    };
    await expect(open()).rejects.toBeInstanceOf(UnauthorizedError);
    await new StreamableHTTPClientTransport(new URL(guarded.url), { authProvider: provider }).finishAuth(
      provider.code!,
    );
    const client = await open();
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    expect(JSON.parse((result.content as { text: string }[])[0]!.text)).toEqual({
      clientId: provider.client!.client_id,
      scopes: ['tools:call'],
      resource: guarded.url,
      sub: 'test-user',
      expiresAt: expect.any(Number),
    });
  });

  it('answers 403 with scope and resource_metadata, and 503 with Retry-After when the issuer is down', async () => {
    const token = await issuer.sign({ aud: guarded.url, scope: 'tools:read' });
    const refused = await fetch(guarded.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toBe(
      `Bearer error="insufficient_scope", error_description="the token lacks the scope tools:call (granted: tools:read)", scope="tools:call", resource_metadata="${guarded.resource.metadataUrl}"`,
    );
    const down = await createTestIssuer({ listen: true });
    const server = await startMcpServer({ issuer: down.issuer, guard: 'mcpBearerAuth' });
    down.failNext('jwks', { status: 503, headers: { 'retry-after': '7' }, times: Infinity });
    try {
      const answer = await fetch(server.url, {
        method: 'POST',
        headers: { authorization: `Bearer ${await down.sign({ aud: server.url })}` },
      });
      expect(answer.status).toBe(503);
      expect(answer.headers.get('retry-after')).toBe('7');
      expect((await answer.json()).code).toBe('ERR_ISSUER_UNAVAILABLE');
    } finally {
      await server.close();
      await down.close();
    }
  });

  it('refuses a bad option at start-up', async () => {
    const { mcpBearerAuth } = await import('../../src/mcp/index.js');
    expect(() => mcpBearerAuth(guarded.resource, { realm: 7 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

// mcpAuthenticate() in front of the SDK's Web-standard transport, as a Fetch handler runs it
// on Workers, Deno, Bun or Hono: the decision and the AuthInfo the tools get.
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answerResourceMetadata } from '../../src/index.js';
import { mcpAuthenticate } from '../../src/mcp/index.js';
import { type TestIssuer, type TestProtectedResource, createTestIssuer } from '../../src/testing/index.js';

const MCP_URL = 'https://mcp.test/mcp';
let issuer: TestIssuer;
let mcp: TestProtectedResource;

beforeAll(async () => {
  issuer = await createTestIssuer();
  mcp = issuer.protectedResource({
    resource: MCP_URL,
    fetch: issuer.fetch,
    metadata: { scopesSupported: ['tools:call'] },
  });
});
afterAll(() => mcp.verifier.close());

/** The Worker: metadata, then the token, then the MCP request with its AuthInfo. */
async function handle(request: Request): Promise<Response> {
  const found = answerResourceMetadata(mcp.metadata, request);
  if (found) return new Response(found.body, found);
  const result = await mcpAuthenticate(mcp, request, {
    resourceMetadata: mcp.metadata,
    requiredScopes: 'tools:call',
  });
  if (!result.ok) return new Response(JSON.stringify(result.body), result);
  const server = new McpServer({ name: 'worker', version: '1.0.0' });
  server.registerTool('whoami', { description: 'who' }, async ({ authInfo }) => ({
    content: [
      {
        type: 'text',
        text: JSON.stringify({ clientId: authInfo?.clientId, resource: authInfo?.resource?.href }),
      },
    ],
  }));
  const transport = new WebStandardStreamableHTTPServerTransport({
    sessionIdGenerator: undefined,
    enableJsonResponse: true,
  });
  await server.connect(transport);
  return transport.handleRequest(request, { authInfo: result.authInfo });
}

const call = (authorization?: string) =>
  handle(
    new Request(MCP_URL, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
        ...(authorization ? { authorization } : {}),
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'whoami', arguments: {} },
      }),
    }),
  );

describe('mcpAuthenticate with the SDK’s Web-standard transport', () => {
  it('hands the tool the AuthInfo of the token', async () => {
    const token = await mcp.sign({
      client_id: 'worker-client',
      scope: 'tools:call',
    });
    const response = await call(`Bearer ${token}`);
    expect(response.status).toBe(200);
    const body = await response.json();
    expect(JSON.parse(body.result.content[0].text)).toEqual({ clientId: 'worker-client', resource: MCP_URL });
  });

  it('401 with resource_metadata without a token, 403 with scope without the scope', async () => {
    const anonymous = await call();
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${mcp.metadataUrl}"`);
    const token = await mcp.sign({ scope: 'tools:read' });
    const narrow = await call(`Bearer ${token}`);
    expect(narrow.status).toBe(403);
    expect(narrow.headers.get('www-authenticate')).toContain(
      `scope="tools:call", resource_metadata="${mcp.metadataUrl}"`,
    );
  });

  it('takes a Node request as well: the token after the scheme, whatever its case', async () => {
    const token = await mcp.sign({ scope: 'tools:call' });
    const result = await mcpAuthenticate(mcp, { headers: { authorization: `bearer   ${token}` } });
    expect(result.ok && result.authInfo.token).toBe(token);
  });
});

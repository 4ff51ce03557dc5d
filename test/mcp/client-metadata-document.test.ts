// The real MCP SDK client logs in with a Client ID Metadata Document (the MCP authorization
// spec of 2025-11-25 prefers it to dynamic registration): its clientMetadataUrl, an HTTPS
// document served on 127.0.0.1, is its client_id; the stub issuer fetches and checks it.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { type NodeFetch, createNodeFetch } from '../../src/node/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { startHttpsServer } from '../support/network.js';
import { FetchingOAuthProvider, type McpTestServer, startMcpServer } from './servers.js';

/** The SDK's provider, identified by the URL of its metadata document instead of registering. */
class DocumentProvider extends FetchingOAuthProvider {
  constructor(readonly clientMetadataUrl: string) {
    super();
  }
}

let issuer: TestIssuer;
let mcp: McpTestServer;
let documents: Awaited<ReturnType<typeof startHttpsServer>>;
let nodeFetch: NodeFetch;
const documentRequests: string[] = [];

beforeAll(async () => {
  documents = await startHttpsServer((request, response) => {
    documentRequests.push(request.url!);
    const clientId = `${documents.origin}${request.url}`;
    response.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=300' });
    response.end(
      JSON.stringify({
        client_id: clientId,
        client_name: 'MCP client with a metadata document',
        redirect_uris: [new FetchingOAuthProvider().redirectUrl],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
      }),
    );
  });
  nodeFetch = createNodeFetch({ ca: documents.ca });
  issuer = await createTestIssuer({ listen: true });
  mcp = await startMcpServer({ issuer: issuer.issuer, requiredScopes: ['tools:call'] });
});

// Every fetch of a test (the SDK's, the issuer's, the MCP server's verifier) trusts the
// document server's throwaway CA (vitest unstubs globals after each test).
beforeEach(() => {
  vi.stubGlobal('fetch', nodeFetch);
});

afterAll(async () => {
  await mcp?.close();
  await issuer?.close();
  await documents?.close();
  await nodeFetch?.close();
});

describe('the MCP SDK client with a clientMetadataUrl', () => {
  it('uses the URL as its client_id: no registration, the document fetched once, the tool called', async () => {
    const clientMetadataUrl = `${documents.origin}/mcp-client.json`;
    const provider = new DocumentProvider(clientMetadataUrl);
    const transport = () => new StreamableHTTPClientTransport(new URL(mcp.url), { authProvider: provider });
    const first = await new Client({ name: 'cimd', version: '1.0.0' })
      .connect(transport())
      .catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UnauthorizedError);
    expect(provider.opened[0]!.searchParams.get('client_id')).toBe(clientMetadataUrl);
    await transport().finishAuth(provider.code!);

    const client = new Client({ name: 'cimd', version: '1.0.0' });
    await client.connect(transport());
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    await client.close();
    const whoami = JSON.parse((result.content as { type: 'text'; text: string }[])[0]!.text);
    expect(whoami).toMatchObject({ clientId: clientMetadataUrl, scopes: ['tools:call'], resource: mcp.url });
    expect(issuer.requests.register).toBe(0);
    expect(documentRequests).toEqual(['/mcp-client.json']);
  });
});

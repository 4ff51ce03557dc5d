// The MCP round trip from the packed tarball, as an MCP server author installs it: a
// consumer project (no access to src/) with oauth-jwt-verify, @modelcontextprotocol/sdk and
// express runs an MCP server behind the SDK's requireBearerAuth with mcpTokenVerifier and
// mcpResourceMetadataRouter, and the SDK's client does the OAuth dance against the stub
// issuer of oauth-jwt-verify/testing, on 127.0.0.1, then calls a tool.
import { describe, expect, it } from 'vitest';
import { runConsumer, usePackedPackage } from './packed-package.js';

const CONSUMER = String.raw`
import { createServer } from 'node:http';
import express from 'express';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { protectedResource } from 'oauth-jwt-verify';
import { mcpResourceMetadataRouter, mcpTokenVerifier } from 'oauth-jwt-verify/mcp';
import { createTestIssuer } from 'oauth-jwt-verify/testing';

const issuer = await createTestIssuer({ listen: true });
const app = express();
const http = createServer(app);
await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
const url = 'http://127.0.0.1:' + http.address().port + '/mcp';
const mcp = protectedResource({ resource: url, issuer: issuer.issuer, metadata: { scopesSupported: ['tools:call'] } });
app.use(mcpResourceMetadataRouter(mcp.metadata));
app.use('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(mcp), resourceMetadataUrl: mcp.metadataUrl, requiredScopes: ['tools:call'] }));
app.post('/mcp', express.json(), async (req, res) => {
  const server = new McpServer({ name: 'packed', version: '1.0.0' });
  server.registerTool('whoami', { description: 'who' }, async (extra) => ({
    content: [{ type: 'text', text: JSON.stringify({ sub: extra.authInfo.extra.payload.sub, clientId: extra.authInfo.clientId, resource: extra.authInfo.resource.href }) }],
  }));
  const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
  res.on('close', () => { transport.close(); server.close(); });
  await server.connect(transport);
  await transport.handleRequest(req, res, req.body);
});
app.all('/mcp', (req, res) => res.status(405).end());

let client, tokens, verifier, code;
const provider = {
  redirectUrl: 'http://127.0.0.1:9/callback',
  clientMetadata: { client_name: 'packed client', redirect_uris: ['http://127.0.0.1:9/callback'], token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
  clientInformation: () => client,
  saveClientInformation: (value) => { client = value; },
  tokens: () => tokens,
  saveTokens: (value) => { tokens = value; },
  saveCodeVerifier: (value) => { verifier = value; },
  codeVerifier: () => verifier,
  redirectToAuthorization: async (authorizationUrl) => {
    const answer = await fetch(authorizationUrl, { redirect: 'manual' });
    code = new URL(answer.headers.get('location')).searchParams.get('code');
  },
};
const report = {};
try {
  const first = new StreamableHTTPClientTransport(new URL(url), { authProvider: provider });
  try {
    await new Client({ name: 'c', version: '1' }).connect(first);
  } catch (error) {
    report.firstAttempt = error instanceof UnauthorizedError ? 'UnauthorizedError' : String(error);
  }
  await new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }).finishAuth(code);
  const connected = new Client({ name: 'c', version: '1' });
  await connected.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
  const result = await connected.callTool({ name: 'whoami', arguments: {} });
  await connected.close();
  report.tool = JSON.parse(result.content[0].text);
  report.clientId = client.client_id;
  report.url = url;
  report.requests = { ...issuer.requests };
} finally {
  http.closeAllConnections();
  await new Promise((resolve) => http.close(resolve));
  mcp.verifier.close();
  await issuer.close();
}
process.stdout.write(JSON.stringify(report));
`;

const packed = usePackedPackage('mcp', { 'mcp-round-trip.mjs': CONSUMER });

describe('oauth-jwt-verify/mcp from the packed package', () => {
  it('lets the MCP SDK client through the whole OAuth dance to a tool call', async () => {
    const report = JSON.parse(await runConsumer(packed, 'mcp-round-trip.mjs'));
    expect(report.firstAttempt).toBe('UnauthorizedError');
    expect(report.tool).toEqual({ sub: 'test-user', clientId: report.clientId, resource: report.url });
    expect(report.requests).toMatchObject({ register: 1, authorize: 1, token: 1, jwks: 1 });
  }, 60_000);
});

import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import express from 'express';
import { protectedResource } from 'oauth-jwt-verify';
import { mcpResourceMetadataRouter, mcpTokenVerifier } from 'oauth-jwt-verify/mcp';

/** An MCP server at `resource`, its public URL, that accepts the tokens `issuer` issues for it. */
export function createMcpApp({ resource, issuer }) {
  const mcp = protectedResource({
    resource,
    issuer,
    metadata: { scopesSupported: ['tools:call'], resourceName: 'Example MCP server' },
  });
  const app = express();
  // GET /.well-known/oauth-protected-resource/mcp: where MCP clients start.
  app.use(mcpResourceMetadataRouter(mcp.metadata));
  app.use(
    '/mcp',
    requireBearerAuth({
      verifier: mcpTokenVerifier(mcp),
      resourceMetadataUrl: mcp.metadataUrl,
      requiredScopes: ['tools:call'],
    }),
  );
  app.post('/mcp', express.json(), async (req, res) => {
    const server = new McpServer({ name: 'example', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Who is calling' }, async ({ authInfo }) => ({
      content: [{ type: 'text', text: `${authInfo.extra.payload.sub} with ${authInfo.clientId}` }],
    }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      transport.close();
      server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, req.body);
  });
  return app;
}

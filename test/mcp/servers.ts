// An MCP server as the SDK's docs build one (McpServer + StreamableHTTPServerTransport,
// stateless, over Express on 127.0.0.1) behind the SDK's own requireBearerAuth, with this
// library's verifier and metadata router; and an in-memory OAuthClientProvider as the SDK's
// example client has, which "opens" the authorization URL by fetching it.
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type {
  OAuthClientInformationMixed,
  OAuthClientMetadata,
  OAuthTokens,
} from '@modelcontextprotocol/sdk/shared/auth.js';
import express from 'express';
import { type ProtectedResource, protectedResource } from '../../src/index.js';
import { mcpBearerAuth, mcpResourceMetadataRouter, mcpTokenVerifier } from '../../src/mcp/index.js';
import { requireBearerAuth } from '../support/mcp-sdk.js';

export interface McpTestServer {
  /** The MCP endpoint, and the resource identifier: `http://127.0.0.1:<port>/mcp`. */
  url: string;
  resource: ProtectedResource;
  close(): Promise<void>;
}

/** The `whoami` tool answers with what the SDK passed it as `authInfo`. */
function mcpServer(): McpServer {
  const server = new McpServer({ name: 'oauth-jwt-verify-test', version: '1.0.0' });
  server.registerTool('whoami', { description: 'Says who called' }, async (extra) => ({
    content: [
      {
        type: 'text',
        text: JSON.stringify({
          clientId: extra.authInfo?.clientId,
          scopes: extra.authInfo?.scopes,
          resource: extra.authInfo?.resource?.href,
          sub: (extra.authInfo?.extra?.payload as { sub?: string } | undefined)?.sub,
          expiresAt: extra.authInfo?.expiresAt,
        }),
      },
    ],
  }));
  return server;
}

export async function startMcpServer(options: {
  issuer: string;
  requiredScopes?: string[];
  scopesSupported?: string[];
  /** Which middleware guards /mcp: the SDK's with mcpTokenVerifier (default), or mcpBearerAuth. */
  guard?: 'requireBearerAuth' | 'mcpBearerAuth';
}): Promise<McpTestServer> {
  const app = express();
  const http = createServer(app);
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;
  const resource = protectedResource({
    resource: url,
    issuer: options.issuer,
    metadata: { scopesSupported: options.scopesSupported ?? ['tools:call'], resourceName: 'Test MCP server' },
  });
  app.use(mcpResourceMetadataRouter(resource.metadata));
  app.use(
    '/mcp',
    options.guard === 'mcpBearerAuth'
      ? mcpBearerAuth(resource, {
          resourceMetadata: resource.metadata,
          requiredScopes: options.requiredScopes,
        })
      : requireBearerAuth({
          verifier: mcpTokenVerifier(resource),
          resourceMetadataUrl: resource.metadataUrl,
          requiredScopes: options.requiredScopes ?? [],
        }),
  );
  app.post('/mcp', express.json(), async (req, res) => {
    const server = mcpServer();
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    // `req.auth` is the SDK's AuthInfo at run time; typed here as /express declares it (see above).
    await transport.handleRequest(req as unknown as IncomingMessage, res, req.body);
  });
  app.all('/mcp', (_req, res) => {
    res.status(405).set('allow', 'POST').end();
  });
  return { url, resource, close: () => closeServer(http).finally(() => resource.verifier.close()) };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve, reject) => {
    server.closeAllConnections();
    server.close((error) => (error ? reject(error) : resolve()));
  });
}

/**
 * The SDK example's in-memory provider, with a `state` it checks, that "opens" the
 * authorization URL itself: the stub issuer's /authorize redirects straight back with a code.
 */
export class FetchingOAuthProvider implements OAuthClientProvider {
  readonly redirectUrl = 'http://127.0.0.1:9/callback';
  readonly clientMetadata: OAuthClientMetadata = {
    client_name: 'oauth-jwt-verify MCP test client',
    redirect_uris: [this.redirectUrl],
    grant_types: ['authorization_code', 'refresh_token'],
    response_types: ['code'],
    token_endpoint_auth_method: 'none',
  };
  client: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier: string | undefined;
  /** The authorization URLs the SDK asked to open. */
  readonly opened: URL[] = [];
  /** The code the last one redirected back with. */
  code: string | undefined;
  readonly #state = crypto.randomUUID();
  readonly #fetch: typeof fetch;

  /** `fetchImpl` "opens" the authorization URL (the browser's part). */
  constructor(fetchImpl: typeof fetch = fetch) {
    this.#fetch = fetchImpl;
  }

  state(): string {
    return this.#state;
  }
  clientInformation() {
    return this.client;
  }
  saveClientInformation(client: OAuthClientInformationMixed): void {
    this.client = client;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens): void {
    this.saved = tokens;
  }
  saveCodeVerifier(verifier: string): void {
    this.verifier = verifier;
  }
  codeVerifier(): string {
    if (!this.verifier) throw new Error('no code verifier saved');
    return this.verifier;
  }
  async redirectToAuthorization(url: URL): Promise<void> {
    this.opened.push(url);
    const response = await this.#fetch(url, { redirect: 'manual' });
    const location = new URL(response.headers.get('location') ?? '');
    if (location.searchParams.get('state') !== this.#state) throw new Error('state mismatch');
    if (location.searchParams.get('error')) throw new Error(`authorization refused: ${location.search}`);
    this.code = location.searchParams.get('code') ?? undefined;
  }
}

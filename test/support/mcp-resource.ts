// An MCP-style protected resource on 127.0.0.1 (node:http): its RFC 9728 metadata answered by
// answerResourceMetadata(), every other request decided by authenticate() with the scopes
// the request needs, an accepted one answered with JSON. For clients that start from a bare 401.
import { type IncomingMessage, createServer } from 'node:http';
import {
  type ProtectedResource,
  type RequestVerifyResult,
  answerResourceMetadata,
  authenticate,
  protectedResource,
} from '../../src/index.js';
import { close, listen } from './network.js';

export interface McpResource {
  /** The protected resource (its `resource` is `url`). */
  api: ProtectedResource;
  /** `http://127.0.0.1:<port>/mcp` */
  url: string;
  close(): Promise<void>;
}

export interface McpResourceOptions {
  issuer: string;
  scopesSupported: string[];
  /** The scopes a request needs. */
  requiredScopes: (req: IncomingMessage) => string;
  /** The body of an accepted request's answer. */
  granted: (token: RequestVerifyResult) => unknown;
  /** Added to every answer but the metadata's (CORS); an OPTIONS request gets them with a 204. */
  headers?: Record<string, string>;
}

export async function startMcpResource(options: McpResourceOptions): Promise<McpResource> {
  const extra = options.headers ?? {};
  let api: ProtectedResource | undefined;
  const server = createServer(async (req, res) => {
    const resource = api!;
    const metadata = answerResourceMetadata(resource.metadata, req);
    if (metadata)
      return void res.writeHead(metadata.status, metadata.headers).end(metadata.body ?? undefined);
    if (options.headers && req.method === 'OPTIONS') return void res.writeHead(204, extra).end();
    const result = await authenticate(resource, req, {
      resourceMetadata: resource.metadata,
      requiredScopes: options.requiredScopes(req),
    });
    if (!result.ok)
      return void res
        .writeHead(result.status, { ...result.headers, ...extra })
        .end(JSON.stringify(result.body));
    res
      .writeHead(200, { 'content-type': 'application/json', ...extra })
      .end(JSON.stringify(options.granted(result.token)));
  });
  const url = `http://127.0.0.1:${await listen(server)}/mcp`;
  api = protectedResource({
    resource: url,
    issuer: options.issuer,
    metadata: { scopesSupported: options.scopesSupported },
  });
  return {
    api,
    url,
    close: async () => {
      await close(server);
      api?.verifier.close();
    },
  };
}

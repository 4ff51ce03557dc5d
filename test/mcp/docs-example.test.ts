// docs/mcp.md's MCP server, exactly as shown (test/mcp/docs-example.mjs, importing the
// built package by its name), with the SDK's client doing the OAuth dance against it.
import { readFile } from 'node:fs/promises';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestListener } from 'node:http';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
// @ts-expect-error -- a plain .mjs file: the docs' JavaScript
import { createMcpApp } from './docs-example.mjs';
import { FetchingOAuthProvider } from './servers.js';

let issuer: TestIssuer;
let server: Server;
let url: string;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true });
  let app: RequestListener = (_req, res) => void res.writeHead(503).end();
  server = createServer((req, res) => app(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  app = createMcpApp({ resource: url, issuer: issuer.issuer });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await issuer.close();
});

it('docs/mcp.md shows exactly test/mcp/docs-example.mjs', async () => {
  const doc = await readFile(new URL('../../docs/mcp.md', import.meta.url), 'utf8');
  const example = await readFile(new URL('./docs-example.mjs', import.meta.url), 'utf8');
  expect(doc).toContain(`\`\`\`js\n${example}\`\`\``);
});

it('lets the SDK client log in and call its tool', async () => {
  const provider = new FetchingOAuthProvider();
  const connect = async () => {
    const client = new Client({ name: 'docs', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }));
    return client;
  };
  await connect().catch(() => undefined); // 401, then discovery and registration: a redirect
  await new StreamableHTTPClientTransport(new URL(url), { authProvider: provider }).finishAuth(
    provider.code!,
  );
  const client = await connect();
  const result = await client.callTool({ name: 'whoami', arguments: {} });
  await client.close();
  expect(result.content).toEqual([{ type: 'text', text: `test-user with ${provider.client!.client_id}` }]);
});

// The MCP SDK's requireBearerAuth hands mcpTokenVerifier the token alone: a sender-constrained
// token (cnf.jkt, cnf["x5t#S256"]) is refused there with 401 invalid_token, on real HTTP, since
// neither its DPoP proof nor its TLS client certificate can be checked (RFC 9449 §7.2, RFC 8705 §3).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateThumbprint } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { type McpTestServer, startMcpServer } from './servers.js';
import { parseChallenges } from '../support/challenges.js';

let issuer: TestIssuer;
let mcp: McpTestServer;
let thumbprint: string;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true });
  mcp = await startMcpServer({ issuer: issuer.issuer });
  thumbprint = await certificateThumbprint(Uint8Array.from([0x30, 0x03, 0x01, 0x02, 0x0a]));
});

afterAll(async () => {
  await mcp?.close();
  await issuer?.close();
});

/** An MCP `initialize` call with `token` as Bearer. */
function initialize(token: string): Promise<Response> {
  return fetch(mcp.url, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
    }),
  });
}

describe("the SDK's requireBearerAuth with mcpTokenVerifier", () => {
  it.each([
    ['certificate-bound', () => ({ cnf: { 'x5t#S256': thumbprint } }), /TLS client certificate/],
    ['DPoP-bound', () => ({ cnf: { jkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }), /DPoP-bound/],
  ])('answers 401 invalid_token for a %s token', async (_kind, claims, reason) => {
    const token = await issuer.sign({ aud: mcp.url, sub: 'alice', ...claims() });
    const response = await initialize(token);
    expect(response.status).toBe(401);
    const [challenge] = parseChallenges(response.headers.get('www-authenticate')!);
    expect(challenge).toMatchObject({ scheme: 'Bearer', params: { error: 'invalid_token' } });
    expect(challenge!.params.error_description).toMatch(reason);
    expect(await response.text()).not.toContain(token);
  });

  it('lets the same token through unbound', async () => {
    const response = await initialize(await issuer.sign({ aud: mcp.url, sub: 'alice' }));
    expect(response.status).toBe(200);
  });
});

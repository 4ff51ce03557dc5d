// The stub issuer as the authorization server of a test API: issuer.protectedResource()
// (metadata through msw and fetch, a verifier for the resource, tokens issued for it).
import { beforeAll, describe, expect, it } from 'vitest';
import { authenticate } from '../../src/index.js';
import { discoverResource } from '../../src/pkce/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { useMsw } from '../support/msw.js';

const RESOURCE = 'https://mcp.test/mcp';
const server = useMsw();
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
});

describe('issuer.protectedResource()', () => {
  it('serves the test API’s RFC 9728 metadata through msw, naming this issuer', async () => {
    const api = issuer.protectedResource({
      resource: RESOURCE,
      metadata: { scopesSupported: ['tools:call'] },
    });
    server.use(...api.handlers);
    expect(api.handlers).toHaveLength(1);
    expect(await discoverResource(RESOURCE)).toEqual({
      resource: RESOURCE,
      authorization_servers: ['https://issuer.test'],
      scopes_supported: ['tools:call'],
      bearer_methods_supported: ['header'],
    });
    expect(api.metadataUrl).toBe('https://mcp.test/.well-known/oauth-protected-resource/mcp');
  });

  it('serves it through fetch too, 404 elsewhere', async () => {
    const api = issuer.protectedResource({ resource: RESOURCE });
    expect((await discoverResource(RESOURCE, { fetch: api.fetch })).resource).toBe(RESOURCE);
    const elsewhere = await api.fetch('https://mcp.test/.well-known/oauth-protected-resource');
    expect(elsewhere.status).toBe(404);
  });

  it('verifies tokens sign() issues for it, and refuses the issuer’s tokens for another audience', async () => {
    const api = issuer.protectedResource({
      resource: RESOURCE,
      fetch: issuer.fetch,
      requiredScopes: 'tools:call',
    });
    const token = await api.sign({ sub: 'alice', scope: 'tools:call' });
    expect((await api.verify(token)).payload).toMatchObject({
      aud: RESOURCE,
      sub: 'alice',
      iss: issuer.issuer,
    });
    await expect(api.verify(await issuer.sign({ scope: 'tools:call' }))).rejects.toMatchObject({
      code: 'ERR_AUDIENCE_MISMATCH',
    });
    const request = new Request(RESOURCE, { headers: { authorization: `Bearer ${await api.sign()}` } });
    const result = await authenticate(api, request, { resourceMetadata: api.metadata });
    expect(result.ok ? 200 : [result.status, result.body.code]).toEqual([403, 'ERR_INSUFFICIENT_SCOPE']);
    api.verifier.close();
  });

  it('refuses an issuer of its own and bad options with a coded TypeError', () => {
    for (const options of [
      { resource: RESOURCE, issuer: 'https://other.test' },
      { resource: 'nope' },
      undefined,
    ]) {
      expect(() => issuer.protectedResource(options as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
      );
    }
  });
});

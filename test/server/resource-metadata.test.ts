import { describe, expect, it } from 'vitest';
import { answerResourceMetadata, protectedResourceMetadata, resourceMetadataUrl } from '../../src/index.js';
import { thrown } from '../support/rejections.js';

const base = { resource: 'https://mcp.example.com/mcp', authorizationServers: ['https://auth.example.com'] };
const invalidArgument = { name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' };

describe('resourceMetadataUrl (RFC 9728 §3.1)', () => {
  it.each([
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'],
    ['https://mcp.example.com/mcp/', 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'],
    ['https://api.example.com', 'https://api.example.com/.well-known/oauth-protected-resource'],
    ['https://api.example.com/', 'https://api.example.com/.well-known/oauth-protected-resource'],
    ['https://h.example:8443/a/b', 'https://h.example:8443/.well-known/oauth-protected-resource/a/b'],
    ['https://h.example/r?tenant=1', 'https://h.example/.well-known/oauth-protected-resource/r?tenant=1'],
  ])('%s → %s', (resource, url) => {
    expect(resourceMetadataUrl(resource)).toBe(url);
  });
});

describe('protectedResourceMetadata', () => {
  it('builds the document with the protocol member names, bearer_methods_supported defaulting to header', () => {
    const metadata = protectedResourceMetadata({
      ...base,
      scopesSupported: ['tools:read', 'tools:call'],
      resourceName: 'Example MCP',
      resourceDocumentation: 'https://docs.example.com/mcp',
      dpopSigningAlgValuesSupported: ['ES256', 'EdDSA'],
      dpopBoundAccessTokensRequired: false,
    });
    expect(metadata).toEqual({
      resource: 'https://mcp.example.com/mcp',
      authorization_servers: ['https://auth.example.com'],
      scopes_supported: ['tools:read', 'tools:call'],
      bearer_methods_supported: ['header'],
      resource_name: 'Example MCP',
      resource_documentation: 'https://docs.example.com/mcp',
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
      dpop_bound_access_tokens_required: false,
    });
    expect(JSON.parse(JSON.stringify(metadata))).toEqual(metadata);
  });

  it('writes every RFC 9728 §2 member it has an option for, and extra members besides', () => {
    const metadata = protectedResourceMetadata({
      ...base,
      jwksUri: 'https://mcp.example.com/jwks',
      bearerMethodsSupported: ['header', 'body'],
      resourceSigningAlgValuesSupported: ['RS256'],
      resourcePolicyUri: 'https://example.com/policy',
      resourceTosUri: 'https://example.com/tos',
      tlsClientCertificateBoundAccessTokens: true,
      authorizationDetailsTypesSupported: ['payment_initiation'],
      extraMembers: { 'resource_name#fr': 'Serveur MCP', custom_member: 1 },
    });
    expect(metadata).toMatchObject({
      jwks_uri: 'https://mcp.example.com/jwks',
      bearer_methods_supported: ['header', 'body'],
      resource_signing_alg_values_supported: ['RS256'],
      resource_policy_uri: 'https://example.com/policy',
      resource_tos_uri: 'https://example.com/tos',
      tls_client_certificate_bound_access_tokens: true,
      authorization_details_types_supported: ['payment_initiation'],
      'resource_name#fr': 'Serveur MCP',
      custom_member: 1,
    });
  });

  it('is frozen, arrays included, and copies what it was given', () => {
    const scopes = ['a'];
    const metadata = protectedResourceMetadata({ ...base, scopesSupported: scopes });
    scopes.push('b');
    expect(metadata.scopes_supported).toEqual(['a']);
    expect(Object.isFrozen(metadata)).toBe(true);
    expect(Object.isFrozen(metadata.scopes_supported)).toBe(true);
    expect(Object.isFrozen(metadata.authorization_servers)).toBe(true);
  });

  it.each([
    ['no options', undefined],
    ['a resource with a fragment', { ...base, resource: 'https://mcp.example.com/mcp#x' }],
    ['a resource with an empty fragment', { ...base, resource: 'https://mcp.example.com/mcp#' }],
    ['a plain-http resource', { ...base, resource: 'http://mcp.example.com/mcp' }],
    ['a resource that is not a URL', { ...base, resource: 'mcp' }],
    ['no authorization server', { ...base, authorizationServers: [] }],
    ['an authorization server with a query', { ...base, authorizationServers: ['https://a.example/?x=1'] }],
    ['a scope with a space', { ...base, scopesSupported: ['read write'] }],
    ['an empty scope', { ...base, scopesSupported: [''] }],
    ['an unknown bearer method', { ...base, bearerMethodsSupported: ['cookie'] }],
    ['alg none for DPoP', { ...base, dpopSigningAlgValuesSupported: ['none'] }],
    ['HS256 for DPoP', { ...base, dpopSigningAlgValuesSupported: ['HS256'] }],
    ['alg none for signed responses', { ...base, resourceSigningAlgValuesSupported: ['none'] }],
    ['a non-boolean flag', { ...base, dpopBoundAccessTokensRequired: 'yes' }],
    ['an empty resource name', { ...base, resourceName: '' }],
    ['a documentation page that is not a URL', { ...base, resourceDocumentation: 'docs' }],
    ['an extra member replacing one set', { ...base, extraMembers: { resource: 'https://evil.example' } }],
  ])('refuses %s with a coded TypeError', (_name, options) => {
    expect(thrown(() => protectedResourceMetadata(options as never))).toMatchObject(invalidArgument);
  });

  it('allows http: to a loopback resource, and to others only with allowInsecureHttp', () => {
    expect(protectedResourceMetadata({ ...base, resource: 'http://127.0.0.1:3000/mcp' }).resource).toBe(
      'http://127.0.0.1:3000/mcp',
    );
    const insecure = {
      ...base,
      resource: 'http://mcp.internal/mcp',
      authorizationServers: ['http://auth.internal'],
    };
    expect(thrown(() => protectedResourceMetadata(insecure))).toMatchObject(invalidArgument);
    expect(protectedResourceMetadata({ ...insecure, allowInsecureHttp: true }).resource).toBe(
      'http://mcp.internal/mcp',
    );
  });

  it('keeps the resource exactly as spelled (it is compared as a string, RFC 9728 §3.3)', () => {
    expect(protectedResourceMetadata({ ...base, resource: 'https://API.example.com' }).resource).toBe(
      'https://API.example.com',
    );
  });
});

describe('answerResourceMetadata', () => {
  const metadata = protectedResourceMetadata({ ...base, scopesSupported: ['tools:read'] });
  const at = (path: string, init?: RequestInit) => new Request(`https://mcp.example.com${path}`, init);

  it('serves the document at the path-aware well-known URL, CORS-readable and cacheable', async () => {
    const answer = answerResourceMetadata(metadata, at('/.well-known/oauth-protected-resource/mcp'));
    expect(answer?.status).toBe(200);
    expect(answer?.headers).toMatchObject({
      'content-type': 'application/json',
      'access-control-allow-origin': '*',
      'cache-control': 'public, max-age=300',
    });
    const response = new Response(answer!.body, answer);
    expect(await response.json()).toEqual(metadata);
  });

  it('passes on other paths: the root document, the resource itself, a trailing slash', () => {
    for (const path of [
      '/.well-known/oauth-protected-resource',
      '/mcp',
      '/.well-known/oauth-protected-resource/mcp/',
    ]) {
      expect(answerResourceMetadata(metadata, at(path)), path).toBeUndefined();
    }
  });

  it('reads a Node request target (path and query) as well as an absolute URL', () => {
    const answer = answerResourceMetadata(metadata, {
      method: 'GET',
      url: '/.well-known/oauth-protected-resource/mcp?x=1',
      headers: {},
    });
    expect(answer?.status).toBe(200);
  });

  it('answers a CORS preflight with the headers asked for, and other methods with 405', () => {
    const preflight = answerResourceMetadata(
      metadata,
      at('/.well-known/oauth-protected-resource/mcp', {
        method: 'OPTIONS',
        headers: { 'access-control-request-headers': 'mcp-protocol-version' },
      }),
    );
    expect(preflight).toMatchObject({ status: 204, body: null });
    expect(preflight?.headers['access-control-allow-headers']).toBe('mcp-protocol-version');
    expect(new Response(preflight!.body, preflight).status).toBe(204);
    const post = answerResourceMetadata(
      metadata,
      at('/.well-known/oauth-protected-resource/mcp', { method: 'POST' }),
    );
    expect(post).toMatchObject({ status: 405, body: null, headers: { allow: 'GET, HEAD, OPTIONS' } });
  });

  it('matches the query too when the resource identifier has one', () => {
    const withQuery = protectedResourceMetadata({ ...base, resource: 'https://h.example/r?tenant=1' });
    expect(
      answerResourceMetadata(withQuery, at('/.well-known/oauth-protected-resource/r?tenant=1'))?.status,
    ).toBe(200);
    expect(
      answerResourceMetadata(withQuery, at('/.well-known/oauth-protected-resource/r?tenant=2')),
    ).toBeUndefined();
  });

  it('refuses something that is not a metadata document with a coded TypeError', () => {
    expect(thrown(() => answerResourceMetadata({} as never, at('/')))).toMatchObject(invalidArgument);
    expect(thrown(() => answerResourceMetadata(null as never, at('/')))).toMatchObject(invalidArgument);
  });
});

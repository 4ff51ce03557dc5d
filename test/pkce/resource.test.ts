// The client side of RFC 9728 in ./pkce: discoverResource() (through msw, counting the URLs
// asked for) and parseWwwAuthenticate().
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { discoverResource, isJwtVerifyError, parseWwwAuthenticate } from '../../src/pkce/index.js';
import { gets, useRecordingMsw } from './fixtures.js';
import { caught } from '../support/rejections.js';

const RESOURCE = 'https://mcp.test/tenant/mcp';
const PATH_AWARE = 'https://mcp.test/.well-known/oauth-protected-resource/tenant/mcp';
const ROOT = 'https://mcp.test/.well-known/oauth-protected-resource';
const document = {
  resource: RESOURCE,
  authorization_servers: ['https://auth.test'],
  scopes_supported: ['tools:call'],
};

const { server, asked } = useRecordingMsw();

const serve = (url: string, body: unknown, status = 200) =>
  server.use(http.get(url, () => HttpResponse.json(body as Record<string, unknown>, { status })));

describe('discoverResource', () => {
  it('asks the path-aware well-known URL first and returns the document', async () => {
    serve(PATH_AWARE, document);
    expect(await discoverResource(RESOURCE)).toEqual(document);
    expect(asked()).toEqual(gets(PATH_AWARE));
  });

  it('falls back to the root well-known URL when the path-aware one is not there (the MCP order)', async () => {
    serve(PATH_AWARE, { error: 'not_found' }, 404);
    serve(ROOT, document);
    expect(await discoverResource(RESOURCE)).toEqual(document);
    expect(asked()).toEqual(gets(PATH_AWARE, ROOT));
  });

  it('asks only the root one for a resource without a path', async () => {
    serve(ROOT, { ...document, resource: 'https://mcp.test' });
    expect((await discoverResource('https://mcp.test')).resource).toBe('https://mcp.test');
    expect(asked()).toEqual(gets(ROOT));
  });

  it('asks only the resource_metadata URL of a challenge when given one', async () => {
    serve('https://meta.test/prm/mcp.json', document);
    await discoverResource(RESOURCE, { resourceMetadataUrl: 'https://meta.test/prm/mcp.json' });
    expect(asked()).toEqual(gets('https://meta.test/prm/mcp.json'));
  });

  it.each([
    ['another resource', { ...document, resource: 'https://evil.test/mcp' }],
    ['the origin only (RFC 9728 §3.3: identical)', { ...document, resource: 'https://mcp.test' }],
    ['a trailing slash added', { ...document, resource: `${RESOURCE}/` }],
    ['no resource', { authorization_servers: ['https://auth.test'] }],
  ])(
    'refuses a document for %s with ERR_METADATA_INVALID, and does not look further',
    async (_name, body) => {
      serve(PATH_AWARE, body);
      const error = await caught(() => discoverResource(RESOURCE));
      expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
      expect(error.message).toContain(RESOURCE);
      expect(asked()).toEqual(gets(PATH_AWARE));
    },
  );

  it.each([
    ['an http authorization server', { ...document, authorization_servers: ['http://auth.test'] }],
    ['authorization_servers that is not a list of URLs', { ...document, authorization_servers: [7] }],
    ['an http jwks_uri', { ...document, jwks_uri: 'http://mcp.test/jwks' }],
  ])('refuses %s with ERR_METADATA_INVALID', async (_name, body) => {
    serve(PATH_AWARE, body);
    const error = await caught(() => discoverResource(RESOURCE));
    expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
  });

  it('is ERR_ISSUER_UNAVAILABLE naming both URLs when neither document can be had', async () => {
    serve(PATH_AWARE, {}, 404);
    serve(ROOT, {}, 500);
    const error = await caught(() => discoverResource(RESOURCE));
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.message).toContain(PATH_AWARE);
    expect(error.message).toContain(ROOT);
  });

  it.each([
    ['an http resource', 'http://mcp.test/mcp', undefined],
    ['a resource that is not a URL', 'mcp', undefined],
    ['an http resource_metadata URL', RESOURCE, 'http://meta.test/prm'],
  ])(
    'rejects %s with a coded TypeError, before any request',
    async (_name, resource, resourceMetadataUrl) => {
      const error = await caught(() => discoverResource(resource, { resourceMetadataUrl }));
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
      expect(asked()).toEqual(gets());
    },
  );

  it('allows loopback http, as for issuers', async () => {
    serve('http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp', {
      resource: 'http://127.0.0.1:8080/mcp',
      authorization_servers: ['http://127.0.0.1:9090'],
    });
    expect((await discoverResource('http://127.0.0.1:8080/mcp')).authorization_servers).toEqual([
      'http://127.0.0.1:9090',
    ]);
  });
});

describe('parseWwwAuthenticate', () => {
  it('reads the challenge of an MCP server’s 401 (RFC 9728 §5.1)', () => {
    expect(
      parseWwwAuthenticate(
        'Bearer realm="mcp", resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"',
      ),
    ).toEqual([
      {
        scheme: 'bearer',
        params: {
          realm: 'mcp',
          resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
        },
      },
    ]);
  });

  it('reads a step-up 403: error, error_description with a comma, scope', () => {
    const [bearer] = parseWwwAuthenticate(
      'Bearer error="insufficient_scope", error_description="needs a, b", scope="files:read files:write"',
    );
    expect(bearer!.params).toEqual({
      error: 'insufficient_scope',
      error_description: 'needs a, b',
      scope: 'files:read files:write',
    });
  });

  it('reads a step-up challenge: acr_values and max_age as they arrive (RFC 9470 §3)', () => {
    const [bearer] = parseWwwAuthenticate(
      'Bearer realm="api", error="insufficient_user_authentication", error_description="log in again", acr_values="urn:example:mfa phr", max_age=300, resource_metadata="https://api.test/.well-known/oauth-protected-resource"',
    );
    expect(bearer!.params).toMatchObject({
      error: 'insufficient_user_authentication',
      acr_values: 'urn:example:mfa phr',
      max_age: '300',
    });
    expect(bearer!.params.acr_values!.split(' ')).toEqual(['urn:example:mfa', 'phr']);
    expect(
      parseWwwAuthenticate('Bearer error="insufficient_user_authentication", max_age="0"')[0]!.params,
    ).toEqual({
      error: 'insufficient_user_authentication',
      max_age: '0',
    });
  });

  it('splits several challenges, lower-cases schemes and names, unquotes escapes, takes tokens unquoted', () => {
    expect(
      parseWwwAuthenticate(
        'DPoP algs="ES256 PS256", error=use_dpop_nonce, Bearer Realm="a \\"b\\"", Basic realm=x',
      ),
    ).toEqual([
      { scheme: 'dpop', params: { algs: 'ES256 PS256', error: 'use_dpop_nonce' } },
      { scheme: 'bearer', params: { realm: 'a "b"' } },
      { scheme: 'basic', params: { realm: 'x' } },
    ]);
  });

  it('skips a token68 and keeps the first of a repeated param', () => {
    expect(parseWwwAuthenticate('Negotiate abc123, Bearer error="a", error="b"')).toEqual([
      { scheme: 'negotiate', params: {} },
      { scheme: 'bearer', params: { error: 'a' } },
    ]);
  });

  it('a bare scheme, and commas between challenges, with or without spaces', () => {
    expect(parseWwwAuthenticate('Bearer').map((c) => c.scheme)).toEqual(['bearer']);
    expect(parseWwwAuthenticate('Basic realm="a" ,Bearer').map((c) => c.scheme)).toEqual(['basic', 'bearer']);
  });

  it('never throws: null, empty, garbage or an unterminated quote give what could be read', () => {
    expect(parseWwwAuthenticate(null)).toEqual([]);
    expect(parseWwwAuthenticate(undefined)).toEqual([]);
    expect(parseWwwAuthenticate('')).toEqual([]);
    expect(parseWwwAuthenticate('=,,=')).toEqual([]);
    expect(parseWwwAuthenticate('Bearer realm="open').at(0)?.params.realm).toBe('open');
  });

  it('does not let a param named like an Object.prototype member go missing', () => {
    const [challenge] = parseWwwAuthenticate('Bearer constructor="x", __proto__="z"');
    expect(challenge!.params.constructor).toBe('x');
    expect(Object.getOwnPropertyDescriptor(challenge!.params, '__proto__')?.value).toBe('z');
    expect(Object.getPrototypeOf(challenge!.params)).toBeNull();
  });
});

// Types of RFC 9728 and the MCP entry: the audience cannot be given to protectedResource, the
// verifier fits the SDK's interface, the metadata keeps the protocol's member names.
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { describe, expectTypeOf, it } from 'vitest';
import {
  type ProtectedResource,
  type ProtectedResourceMetadata,
  type TokenVerifier,
  authenticate,
  protectedResource,
  protectedResourceMetadata,
} from '../../src/index.js';
import { type McpAuthenticateResult, mcpAuthenticate, mcpTokenVerifier } from '../../src/mcp/index.js';
import {
  ClientRegistrationError,
  OAuthEndpointError,
  type RegisteredClient,
  type WwwAuthenticateChallenge,
  discoverResource,
  parseWwwAuthenticate,
  registerClient,
} from '../../src/pkce/index.js';

declare const metadata: ProtectedResourceMetadata;

describe('protected resources', () => {
  it('has no audience option: it is the resource', () => {
    expectTypeOf(
      protectedResource({ resource: 'https://api/x', issuer: 'https://iss' }),
    ).toEqualTypeOf<ProtectedResource>();
    // @ts-expect-error: the audience is the resource
    void protectedResource({ resource: 'https://api/x', issuer: 'https://iss', audience: null });
    // @ts-expect-error: resource is required
    void protectedResource({ issuer: 'https://iss' });
    expectTypeOf<ProtectedResource>().toMatchTypeOf<TokenVerifier>();
  });

  it('builds a document with the RFC 9728 member names, and takes it in authenticate', () => {
    const built = protectedResourceMetadata({
      resource: 'https://api/x',
      authorizationServers: ['https://iss'],
    });
    expectTypeOf(built).toEqualTypeOf<ProtectedResourceMetadata>();
    expectTypeOf(built.authorization_servers).toEqualTypeOf<string[] | undefined>();
    // @ts-expect-error: authorizationServers is required
    void protectedResourceMetadata({ resource: 'https://api/x' });
    void authenticate({} as TokenVerifier, new Request('https://api/x'), { resourceMetadata: metadata });
    void authenticate({} as TokenVerifier, new Request('https://api/x'), {
      resourceMetadata: 'https://api/prm',
    });
  });
});

describe('oauth-jwt-verify/mcp', () => {
  it('gives the SDK its OAuthTokenVerifier and AuthInfo', () => {
    expectTypeOf(mcpTokenVerifier({} as ProtectedResource)).toEqualTypeOf<OAuthTokenVerifier>();
    expectTypeOf(
      mcpAuthenticate({} as TokenVerifier, new Request('https://mcp/x')),
    ).resolves.toEqualTypeOf<McpAuthenticateResult>();
    const result = {} as McpAuthenticateResult;
    if (result.ok) expectTypeOf(result.authInfo).toEqualTypeOf<AuthInfo>();
  });
});

describe('the client side', () => {
  it('discovers, parses challenges, registers', () => {
    expectTypeOf(discoverResource('https://mcp/x')).resolves.toEqualTypeOf<ProtectedResourceMetadata>();
    expectTypeOf(parseWwwAuthenticate(null)).toEqualTypeOf<WwwAuthenticateChallenge[]>();
    expectTypeOf(
      registerClient({ issuer: 'https://iss' }, { redirect_uris: ['https://app/cb'] }),
    ).resolves.toEqualTypeOf<RegisteredClient>();
    // @ts-expect-error: redirect_uris is required
    void registerClient({ issuer: 'https://iss' }, { client_name: 'x' });
    expectTypeOf<ClientRegistrationError>().toMatchTypeOf<OAuthEndpointError>();
    expectTypeOf<ClientRegistrationError['name']>().toEqualTypeOf<'ClientRegistrationError'>();
  });
});

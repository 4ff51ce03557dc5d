import { AssertionReplayStore } from './assertion-replay.js';
import { ClientDocumentCache } from './client-metadata-document.js';
import { ClientRegistry } from './clients.js';
import type { IssuerContext } from './context.js';
import { describeEndpoints } from './endpoints.js';
import { FaultQueue } from './faults.js';
import { GrantStore } from './grants.js';
import { HookRegistry } from './hooks.js';
import { OpaqueTokenStore } from './opaque-tokens.js';
import { createHandler } from './handler.js';
import { KeyRing } from './keys.js';
import { listen } from './listen.js';
import { LoginSessions } from './login/sessions.js';
import { createTestProtectedResource } from './protected-resource.js';
import { createMswHandlers, loadMsw } from './msw.js';
import { resolveOptions } from './options.js';
import { signToken, tokenClaims } from './sign.js';
import { createTokenEndpointDpop } from './token-dpop.js';
import type { RequestCounts, TestIssuer, TestIssuerOptions } from './types.js';
import { createAccessTokenVerifier } from './userinfo.js';

/** The issuer identifier without its scheme and authority: `''`, `'/'` or `'/tenant'`. */
function pathOf(issuer: string): string {
  return issuer.replace(/^[a-z][a-z\d+.-]*:\/\/[^/]*/i, '');
}

/**
 * Creates a stub OAuth 2.0 / OpenID Connect issuer for tests: signing keys, metadata
 * (RFC 8414 and OpenID Connect), a JWKS, and working `/authorize` (with a login page when
 * `interactiveLogin` is on), `/token`, `/revoke`, `/logout` and (default profile)
 * `/introspect` endpoints, reachable through msw `handlers`, a real HTTP server (`listen`)
 * or `fetch`.
 * Keys are generated once per issuer, so create it once per test file.
 *
 * @example
 * import { setupServer } from 'msw/node';
 * import { createTestIssuer } from 'oauth-jwt-verify/testing';
 *
 * const issuer = await createTestIssuer({ audience: 'https://api.test' });
 * const server = setupServer(...issuer.handlers);
 * server.listen({ onUnhandledRequest: 'error' });
 * const token = await issuer.sign({ sub: 'user-1', scope: 'read' });
 *
 * @example
 * const live = await createTestIssuer({ listen: true });
 * await fetch(live.metadata.jwks_uri!); // http://127.0.0.1:<port>/jwks
 * await live.close();
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414 (metadata), RFC 9068 (JWT access tokens), RFC 7636 (PKCE)
 */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const config = resolveOptions(options);
  const [keys, msw] = await Promise.all([KeyRing.create(config.algorithms, config.keys), loadMsw()]);

  let handle: (request: Request) => Promise<Response> = () =>
    Promise.reject(new Error('test issuer not ready'));
  const server = config.listen ? await listen(config.listen, (request) => handle(request)) : undefined;
  const issuer = server ? `${server.origin}${pathOf(config.issuer)}` : config.issuer;

  const endpoints = describeEndpoints(issuer, config.profile, config.discovery, config.algorithms);
  const counts: RequestCounts = {
    metadata: 0,
    jwks: 0,
    token: 0,
    authorize: 0,
    revoke: 0,
    register: 0,
    introspect: 0,
    logout: 0,
    userinfo: 0,
  };
  const faults = new FaultQueue();
  const signing = {
    issuer,
    audience: config.audience,
    tokenTtlSeconds: config.tokenTtlSeconds,
    now: config.now,
    keys,
    encrypt: config.encrypt,
  };
  const sign: TestIssuer['sign'] = (claims, signOptions) => signToken(signing, claims, signOptions);
  const metadata = (endpoints.oauth ?? endpoints.oidc)!;
  const clientDocuments = metadata.client_id_metadata_document_supported
    ? new ClientDocumentCache(config.now)
    : undefined;
  const protectedResources: string[] = [];
  const hooks = new HookRegistry();
  const ctx: IssuerContext = {
    ...signing,
    subject: config.subject,
    users: config.users,
    requestMappings: config.requestMappings,
    interactiveLogin: config.interactiveLogin,
    sessions: new LoginSessions(issuer, config.now),
    clients: new ClientRegistry(config.clients, clientDocuments),
    grants: new GrantStore(),
    opaqueTokens: new OpaqueTokenStore(),
    accessTokenFormat: config.accessTokenFormat,
    dpop: createTokenEndpointDpop(config.requireDpopNonce, config.now),
    sign,
    tokenEndpoint: metadata.token_endpoint!,
    hooks,
    accessTokens: createAccessTokenVerifier(signing, metadata.jwks_uri!),
    assertionReplay: new AssertionReplayStore(10_000, config.now),
    protectedResources,
    clientDocuments,
  };
  handle = createHandler({ ctx, endpoints, faults, counts });
  const handlers = createMswHandlers(msw, endpoints.routes.keys(), handle);

  return {
    issuer,
    audience: config.audience,
    metadata,
    get handlers() {
      return handlers();
    },
    requests: counts,
    get keys() {
      return keys.list();
    },
    jwks: () => keys.jwks(),
    sign,
    issueOpaqueToken: (claims, tokenOptions) =>
      ctx.opaqueTokens.issue(tokenClaims(signing, claims, tokenOptions)),
    rotateKeys: ({ keepPrevious = true } = {}) => keys.rotate(keepPrevious),
    failNext: (endpoint, failure) => faults.add(endpoint, failure),
    reset() {
      for (const endpoint of Object.keys(counts) as (keyof RequestCounts)[]) counts[endpoint] = 0;
      faults.clear();
    },
    fetch: (input, init) => handle(new Request(input, init)),
    close: () => server?.close() ?? Promise.resolve(),
    protectedResource: (resourceOptions) => {
      const resource = createTestProtectedResource({ issuer, sign }, msw, resourceOptions);
      if (!protectedResources.includes(resource.resource)) protectedResources.push(resource.resource);
      return resource;
    },
    onToken: (hook, hookOptions) => hooks.add('token', hook, hookOptions),
    onUserinfo: (hook, hookOptions) => hooks.add('userinfo', hook, hookOptions),
  };
}

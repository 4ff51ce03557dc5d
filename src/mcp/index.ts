/**
 * `oauth-jwt-verify/mcp`: this library's verifier and RFC 9728 metadata for MCP servers
 * built on the official TypeScript SDK (`@modelcontextprotocol/sdk`, an optional peer):
 * {@link mcpTokenVerifier} for the SDK's `requireBearerAuth` (or {@link mcpBearerAuth} in its
 * place), and {@link mcpResourceMetadataRouter} to serve the protected resource metadata MCP
 * clients start from.
 *
 * @example
 * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
 * import { protectedResource } from 'oauth-jwt-verify';
 * import { mcpResourceMetadataRouter, mcpTokenVerifier } from 'oauth-jwt-verify/mcp';
 *
 * const mcp = protectedResource({ resource: 'https://mcp.example.com/mcp', issuer: 'https://auth.example.com' });
 * app.use(mcpResourceMetadataRouter(mcp.metadata));
 * app.post('/mcp', requireBearerAuth({ verifier: mcpTokenVerifier(mcp), resourceMetadataUrl: mcp.metadataUrl }), handle);
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization
 * @module
 */
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { OAuthTokenVerifier } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import {
  InsufficientScopeError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { RequestHandler } from 'express';
import { isJwtVerifyError, quotableText } from '../errors.js';
import { refuseBoundToken } from '../verify/bound-token.js';
import type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';
import {
  type AuthenticateFailure,
  type AuthenticateOptions,
  type AuthenticateRequest,
  type AuthenticateSuccess,
  type TokenVerifier,
  authenticate,
  checkVerifier,
  resolveAuthenticateOptions,
} from '../server/authenticate.js';
import type { VerifyResult } from '../verify/options.js';
import { resourceMetadataMiddleware } from '../server/resource-metadata.js';
import { grantedScopes } from '../verify/claims.js';

export type { ProtectedResourceMetadata } from '../issuer/resource-metadata.js';
export type { AuthenticateOptions, TokenVerifier } from '../server/authenticate.js';

/** What `AuthInfo.extra` holds: the verified token's payload and header. */
export interface McpAuthExtra {
  [key: string]: unknown;
  payload: Record<string, unknown>;
  header: Record<string, unknown>;
}

/** The resource identifier a `protectedResource()` carries, if `verifier` is one. */
function resourceOf(verifier: TokenVerifier): string | undefined {
  const { resource } = verifier as { resource?: unknown };
  return typeof resource === 'string' ? resource : undefined;
}

function toUrl(value: unknown): URL | undefined {
  try {
    return typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Adapts a verifier (a `protectedResource()`, a `JwtVerifier` or a `MultiIssuerVerifier`)
 * to the MCP SDK's `OAuthTokenVerifier`, for its `requireBearerAuth` middleware.
 * `verifyAccessToken(token)` verifies the token fully (signature, `iss`, `aud`, `exp`, …) and
 * returns the SDK's `AuthInfo`:
 *
 * - `token`; `clientId` from `client_id` (RFC 9068), else `azp`, else `''`;
 * - `scopes` from `scope` (or `scp`); `expiresAt` from `exp`;
 * - `resource`: the resource of a `protectedResource()`, else the token's `aud` when it is
 *   one URL (give `requireBearerAuth` its `expectedResource` only in those cases);
 * - `extra`: `{ payload, header }` of the verified token.
 *
 * Rejections are the SDK's own errors, so `requireBearerAuth` answers as it should:
 * `InvalidTokenError` (401) for a bad token, `InsufficientScopeError` (403) for the
 * verifier's `requiredScopes`, `ServerError` (500) when the issuer cannot be reached or
 * anything else failed; the SDK has no 503, and the issuer's URL is never sent to the
 * client (the `cause` keeps the original error, for logs). Their messages are the
 * verifier's, cleaned as `wwwAuthenticate()` cleans them (the SDK writes them into
 * `error_description` as they are). The SDK hands over the token alone, so a
 * sender-constrained token (`cnf.jkt`, `cnf["x5t#S256"]`) is refused (401): its DPoP proof
 * or TLS client certificate cannot be checked here (RFC 9449 §7.2, RFC 8705 §3); use
 * {@link mcpBearerAuth} (or `authenticate()`) where they can be.
 *
 * @example
 * const mcp = protectedResource({ resource: 'https://mcp.example.com/mcp', issuer: 'https://auth.example.com' });
 * const auth = requireBearerAuth({
 *   verifier: mcpTokenVerifier(mcp),
 *   resourceMetadataUrl: mcp.metadataUrl,
 *   requiredScopes: ['tools:call'],
 * });
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-handling
 * @see https://www.rfc-editor.org/rfc/rfc9068#section-2.2
 */
export function mcpTokenVerifier(verifier: TokenVerifier): OAuthTokenVerifier {
  checkVerifier(verifier);
  const resource = toUrl(resourceOf(verifier));
  return {
    async verifyAccessToken(token: string): Promise<AuthInfo> {
      let verified: VerifyResult;
      try {
        verified = await verifier.verify(token);
        // The SDK hands over the token alone: no proof, no certificate. Checked here too, for
        // verifiers of your own that take no options.
        if (verified.payload.cnf !== undefined) refuseBoundToken(verified.payload);
      } catch (error) {
        throw sdkError(error);
      }
      return authInfoOf(token, verified, resource);
    },
  };
}

/** The SDK's `AuthInfo` of a verified token; see {@link mcpTokenVerifier}. */
function authInfoOf(token: string, { payload, header }: VerifyResult, resource: URL | undefined): AuthInfo {
  const clientId = [payload.client_id, payload.azp].find((id) => typeof id === 'string') as
    string | undefined;
  const info: AuthInfo = {
    token,
    clientId: clientId ?? '',
    scopes: grantedScopes(payload),
    expiresAt: payload.exp,
    extra: { payload, header } satisfies McpAuthExtra,
  };
  const audience =
    resource ?? toUrl(Array.isArray(payload.aud) && payload.aud.length === 1 ? payload.aud[0] : payload.aud);
  if (audience) info.resource = audience;
  return info;
}

function sdkError(error: unknown): Error {
  if (isJwtVerifyError(error) && error.status < 500) {
    const Sdk = error.status === 403 ? InsufficientScopeError : InvalidTokenError;
    // requireBearerAuth writes the message into error_description as it is.
    return Object.assign(new Sdk(quotableText(error.message)), { cause: error });
  }
  const message = isJwtVerifyError(error)
    ? 'the token issuer cannot be reached to check the access token; retry later'
    : 'the access token could not be checked because of an internal error';
  return Object.assign(new ServerError(message), { cause: error });
}

/**
 * Express middleware (the MCP SDK's servers run on Express) that serves the resource's RFC
 * 9728 metadata at its well-known path, `/.well-known/oauth-protected-resource/<path>`,
 * where MCP clients look first; the SDK's `mcpAuthMetadataRouter` does the same from
 * other inputs. Mount it at the application root. Unlike the SDK's router it does not
 * mirror the authorization server's metadata on the resource's origin: clients fetch that
 * from the authorization server.
 *
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` when `metadata` is not a document.
 * @example
 * const mcp = protectedResource({ resource: 'https://mcp.example.com/mcp', issuer: 'https://auth.example.com' });
 * app.use(mcpResourceMetadataRouter(mcp.metadata));
 * @see https://www.rfc-editor.org/rfc/rfc9728#section-3
 */
export function mcpResourceMetadataRouter(metadata: ProtectedResourceMetadata): RequestHandler {
  return resourceMetadataMiddleware(metadata);
}

/** What {@link mcpAuthenticate} resolves to: `authenticate()`'s answer, with the SDK's `AuthInfo` when accepted. */
export type McpAuthenticateResult = (AuthenticateSuccess & { authInfo: AuthInfo }) | AuthenticateFailure;

/**
 * `authenticate()` for MCP servers on Fetch runtimes (the SDK's
 * `WebStandardStreamableHTTPServerTransport` on Hono, Workers, Deno, Bun): the same
 * decision (401 with `resource_metadata`, 403 with `scope`, 503 with `Retry-After`), and on
 * success the SDK's `AuthInfo` (see {@link mcpTokenVerifier}) for `handleRequest(request, { authInfo })`.
 * It never rejects.
 *
 * @example
 * const result = await mcpAuthenticate(mcp, request, { resourceMetadata: mcp.metadata });
 * if (!result.ok) return new Response(JSON.stringify(result.body), result);
 * return transport.handleRequest(request, { authInfo: result.authInfo });
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#error-handling
 */
export async function mcpAuthenticate(
  verifier: TokenVerifier,
  request: AuthenticateRequest,
  options?: AuthenticateOptions,
): Promise<McpAuthenticateResult> {
  const result = await authenticate(verifier, request, options);
  if (!result.ok) return result;
  const headers = request.headers as { get?: (name: string) => string | null } & Record<string, unknown>;
  const authorization =
    typeof headers.get === 'function' ? headers.get('authorization') : headers.authorization;
  // Accepted, so its one Authorization header holds the token after the scheme.
  const token = /^\S+\s+(\S+)/.exec(String(authorization).trim())![1]!;
  return { ...result, authInfo: authInfoOf(token, result.token, toUrl(resourceOf(verifier))) };
}

/**
 * Express middleware for MCP servers on the SDK, in place of its `requireBearerAuth`: the
 * decision is {@link mcpAuthenticate}'s (401 with `resource_metadata`, 403 `insufficient_scope`
 * with `scope` and `resource_metadata`, 503 with `Retry-After` when the issuer is down, a
 * repeated `Authorization` header refused), and an accepted request gets `req.auth` as the
 * SDK's `AuthInfo`, which `StreamableHTTPServerTransport` hands to every tool as
 * `extra.authInfo`. Bad options throw a `TypeError` here, at start-up.
 *
 * @example
 * const mcp = protectedResource({ resource: 'https://mcp.example.com/mcp', issuer: 'https://auth.example.com' });
 * app.use(mcpResourceMetadataRouter(mcp.metadata));
 * app.post('/mcp', mcpBearerAuth(mcp, { resourceMetadata: mcp.metadata, requiredScopes: 'tools:call' }), handleMcp);
 * @see https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#error-handling
 */
export function mcpBearerAuth(verifier: TokenVerifier, options?: AuthenticateOptions): RequestHandler {
  checkVerifier(verifier);
  const resolved = resolveAuthenticateOptions(options);
  return (req, res, next) => {
    mcpAuthenticate(verifier, req, resolved).then((result) => {
      if (!result.ok)
        return void res.status(result.status).set(result.headers).send(JSON.stringify(result.body));
      (req as unknown as { auth?: AuthInfo }).auth = result.authInfo;
      next();
    }, next);
  };
}

/** `protectedResource()`: the verifier and the RFC 9728 metadata of one resource server, set up together. */
import { invalidArgument } from '../errors.js';
import { type ProtectedResourceMetadata, resourceMetadataUrl } from '../issuer/resource-metadata.js';
import type { JwtPayload } from '../token/parse.js';
import type { JwtVerifierOptions, VerifyOptions, VerifyResult } from '../verify/options.js';
import { JwtVerifier } from '../verify/verifier.js';
import type { TokenVerifier } from './authenticate.js';
import { type ProtectedResourceMetadataOptions, protectedResourceMetadata } from './resource-metadata.js';

/**
 * Options of {@link protectedResource}: the resource, every {@link JwtVerifierOptions} but
 * `audience` (it is the resource), and the other members of its metadata document.
 */
export interface ProtectedResourceOptions extends Omit<JwtVerifierOptions, 'audience'> {
  /**
   * The resource identifier, exactly as clients call it and as the authorization server
   * puts it in `aud` (RFC 8707): e.g. `https://mcp.example.com/mcp`.
   */
  resource: string;
  /**
   * The rest of the RFC 9728 document (`scopesSupported`, `resourceName`, …).
   * `authorization_servers` is `[issuer]`.
   */
  metadata?: Omit<
    ProtectedResourceMetadataOptions,
    'resource' | 'authorizationServers' | 'allowInsecureHttp'
  >;
}

/**
 * A resource server's verifier and metadata, built together so they cannot disagree: see
 * {@link protectedResource}. It is a `TokenVerifier`, so `authenticate()`, the adapters'
 * `bearerAuth()` and `mcpTokenVerifier()` take it as it is.
 */
export interface ProtectedResource extends TokenVerifier {
  /** The resource identifier: the only audience its tokens may have. */
  readonly resource: string;
  /** The RFC 9728 document, for `serveResourceMetadata()` and `authenticate(…, { resourceMetadata })`. */
  readonly metadata: ProtectedResourceMetadata;
  /** Where the document is served: `/.well-known/oauth-protected-resource/<path>` on the resource's origin. */
  readonly metadataUrl: string;
  /** The verifier underneath (for `warmup()`, `close()`, `exportCache()`). */
  readonly verifier: JwtVerifier;
  /**
   * Verifies a token: {@link JwtVerifier.verify}, `aud` checked against `resource`; a
   * sender-constrained token is refused unless `options.allowBoundTokens`.
   */
  verify<Payload extends JwtPayload = JwtPayload>(
    token: string,
    options?: VerifyOptions,
  ): Promise<VerifyResult<Payload>>;
  /** As the callback of `tokens.map(resource.verify)`: the index and the array are not options. */
  verify<Payload extends JwtPayload = JwtPayload>(
    token: string,
    index: number,
    tokens: readonly string[],
  ): Promise<VerifyResult<Payload>>;
}

/**
 * Builds a protected resource (an API, an MCP server) from one description: a
 * {@link JwtVerifier} whose audience is the resource identifier, and the RFC 9728
 * metadata that names the same resource and issuer. A token issued for another resource
 * (another MCP server of the same authorization server, say) is refused with
 * `ERR_AUDIENCE_MISMATCH`, and there is no option to turn that off: `audience` is refused
 * here (use `JwtVerifier` itself for an API whose tokens carry another audience).
 *
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` for a bad option, or for `audience`.
 * @example
 * import { protectedResource } from 'oauth-jwt-verify';
 * import { bearerAuth, serveResourceMetadata } from 'oauth-jwt-verify/express';
 *
 * const mcp = protectedResource({
 *   resource: 'https://mcp.example.com/mcp',
 *   issuer: 'https://auth.example.com',
 *   metadata: { scopesSupported: ['tools:read'], resourceName: 'Example MCP server' },
 * });
 * app.use(serveResourceMetadata(mcp.metadata));
 * app.use('/mcp', bearerAuth(mcp, { resourceMetadata: mcp.metadata }));
 * @see https://www.rfc-editor.org/rfc/rfc9728
 * @see https://www.rfc-editor.org/rfc/rfc8707#section-2
 */
export function protectedResource(options: ProtectedResourceOptions): ProtectedResource {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('protectedResource needs an options object with resource and issuer');
  }
  const { resource, metadata: members = {}, ...verifierOptions } = options;
  if ('audience' in verifierOptions) {
    throw invalidArgument(
      'protectedResource takes no audience: it is the resource, so tokens for another resource are refused',
    );
  }
  if (typeof members !== 'object' || members === null) throw invalidArgument('metadata must be an object');
  const metadata = protectedResourceMetadata({
    ...members,
    resource,
    authorizationServers: [verifierOptions.issuer],
    allowInsecureHttp: verifierOptions.allowInsecureHttp,
  });
  const verifier = new JwtVerifier({ ...verifierOptions, audience: resource });
  return Object.freeze({
    resource,
    metadata,
    metadataUrl: resourceMetadataUrl(resource),
    verifier,
    verify: (token: string, verifyOptions?: VerifyOptions | number) =>
      verifier.verify(token, typeof verifyOptions === 'object' ? verifyOptions : undefined),
  });
}

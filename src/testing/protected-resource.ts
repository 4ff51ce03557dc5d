// A test API that trusts a stub issuer: its RFC 9728 metadata and tokens for it.
import { invalidArgument } from '../errors.js';
import { type ProtectedResourceOptions, protectedResource } from '../server/protected-resource.js';
import { resourceMetadataResponder } from '../server/resource-metadata.js';
import { type Msw, createMswHandlers } from './msw.js';
import type { SignOptions, TestProtectedResource, TestProtectedResourceOptions } from './types.js';

/** What a test API needs from the issuer it trusts. */
export interface ResourceContext {
  readonly issuer: string;
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
}

/**
 * A test API whose authorization server is this issuer: `protectedResource()` of the main
 * entry with `issuer` filled in, its RFC 9728 metadata served through msw `handlers` and
 * `fetch`, and `sign()` making tokens issued for it.
 */
export function createTestProtectedResource(
  ctx: ResourceContext,
  msw: Msw | Error,
  options: TestProtectedResourceOptions,
): TestProtectedResource {
  if (typeof options !== 'object' || options === null) {
    throw invalidArgument('protectedResource: needs an options object with resource');
  }
  if ('issuer' in options) {
    throw invalidArgument(
      'protectedResource: the issuer is this test issuer; create it from another issuer instead',
    );
  }
  const resource = protectedResource({ ...(options as ProtectedResourceOptions), issuer: ctx.issuer });
  const answer = resourceMetadataResponder(resource.metadata);
  const serve = async (request: Request): Promise<Response> => {
    const found = answer(request);
    return found
      ? new Response(found.body, found)
      : Response.json(
          { error: 'not_found', error_description: `${request.url} is not this test API's metadata` },
          { status: 404 },
        );
  };
  const handlers = createMswHandlers(msw, [resource.metadataUrl.replace(/\?.*/, '')], serve);
  return Object.freeze({
    ...resource,
    get handlers() {
      return handlers();
    },
    fetch: (input: string | URL | Request, init?: RequestInit) => serve(new Request(input, init)),
    sign: (claims: Record<string, unknown> = {}, signOptions?: SignOptions) =>
      ctx.sign({ aud: resource.resource, ...claims }, signOptions),
  });
}

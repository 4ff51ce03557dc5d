/** The PKCE helpers' argument checks and the form parameters they send. */
import type { AuthorizationServerMetadata } from '../issuer/discovery.js';
import { JwtVerifyError, invalidArgument } from '../errors.js';
import { type ResolvedHttpOptions } from '../issuer/http.js';
import { isSecureUrl } from '../option-checks.js';
import type { DpopHandle } from './dpop/handle.js';

/** A required string argument; never echoes the value (it may be a secret). */
export function requireString(value: unknown, name: string): string {
  if (typeof value !== 'string' || !value) throw invalidArgument(`${name} must be a non-empty string`);
  return value;
}

/** A handle from createDpopHandle() (the `dpop` option); undefined passes unless `required`. */
export function requireDpopHandle(value: DpopHandle | undefined, required?: boolean): DpopHandle | undefined {
  if (value === undefined && !required) return;
  if (typeof value?.withProof !== 'function') throw invalidArgument('dpop must come from createDpopHandle()');
  return value;
}

/** The issuer of what must be the metadata that `discover()` returns. */
export function issuerOf(metadata: AuthorizationServerMetadata | undefined): string {
  const issuer = metadata?.issuer;
  if (typeof issuer !== 'string') throw invalidArgument('metadata must be what discover() returns');
  return issuer;
}

/** `ERR_METADATA_INVALID`: the metadata cannot serve this step. */
export function metadataError(message: string): JwtVerifyError {
  return new JwtVerifyError('ERR_METADATA_INVALID', message);
}

function endpointError(metadata: AuthorizationServerMetadata, member: EndpointMember): JwtVerifyError {
  return metadataError(
    `${member} of ${issuerOf(metadata)} must be an https URL, found ${String(metadata[member])}`,
  );
}

type EndpointMember =
  'authorization_endpoint' | 'token_endpoint' | 'revocation_endpoint' | 'registration_endpoint';

/** An endpoint URL the metadata must have for this step (the authorization endpoint: the browser goes there). */
export function endpointOf(metadata: AuthorizationServerMetadata, member: EndpointMember): URL {
  issuerOf(metadata);
  try {
    return new URL(metadata[member] as string);
  } catch {
    throw endpointError(metadata, member);
  }
}

/**
 * An endpoint that receives codes and secrets (token, revocation, registration): it must
 * also be https or loopback. discover() checked that already, but metadata written by hand
 * has not been. Apart from {@link endpointOf}, so the login start does not carry the rule.
 */
export function secureEndpointOf(
  metadata: AuthorizationServerMetadata,
  member: EndpointMember,
  http: ResolvedHttpOptions,
): URL {
  const url = endpointOf(metadata, member);
  if (!isSecureUrl(url, http.allowInsecureHttp)) throw endpointError(metadata, member);
  return url;
}

/**
 * Sets the given parameters (skipping undefined), then RFC 8707 `resource` indicators
 * (absolute URIs without a fragment, §2), then `extraParams`, which may add parameters but
 * never replace one already set: state, PKCE and client parameters cannot be overridden.
 */
export function setParams(
  params: URLSearchParams,
  values: Record<string, string | undefined>,
  resource: string | readonly string[] | undefined,
  extraParams: Record<string, string> = {},
): void {
  for (const [name, value] of Object.entries(values)) if (value !== undefined) params.set(name, value);
  for (const indicator of resource === undefined ? [] : [resource].flat()) {
    let ok: unknown;
    try {
      ok = new URL(indicator) && !indicator.includes('#');
    } catch {
      // not an absolute URI
    }
    if (!ok) throw invalidArgument('resource must be absolute URIs without # (RFC 8707)');
    params.append('resource', indicator);
  }
  for (const [name, value] of Object.entries(extraParams)) {
    const key = `extraParams.${name}`;
    if (params.has(name)) throw invalidArgument(`${key} would replace a parameter`);
    params.set(name, requireString(value, key));
  }
}

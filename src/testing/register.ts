// The stub issuer's dynamic client registration endpoint (RFC 7591).
import type { IssuerContext } from './context.js';
import { randomToken } from './random.js';
import { json, oauthError } from './responses.js';

const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post'];
const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'];

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/** Why a redirect URI cannot be registered (RFC 6749 §3.1.2: absolute, no fragment), if it cannot. */
function redirectUriProblem(uri: string): string | undefined {
  if (!URL.canParse(uri)) return `${JSON.stringify(uri)} is not an absolute URI`;
  if (uri.includes('#')) return `${JSON.stringify(uri)} has a fragment (RFC 6749 §3.1.2)`;
  return undefined;
}

/**
 * The dynamic client registration endpoint (RFC 7591 §3): a JSON POST of client metadata
 * registers a client (public with `token_endpoint_auth_method: 'none'`, confidential
 * otherwise, with a secret), answered 201 with its `client_id`. From then on `/authorize`
 * and `/token` hold that client to its registered redirect URIs and secret. Errors are
 * RFC 7591 §3.2.2's `invalid_redirect_uri` and `invalid_client_metadata`.
 */
export async function register(ctx: IssuerContext, request: Request): Promise<Response> {
  if (request.method !== 'POST') {
    return oauthError(405, 'invalid_request', `use POST, not ${request.method}`, { allow: 'POST, OPTIONS' });
  }
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/json\b/i.test(type)) {
    return oauthError(
      400,
      'invalid_client_metadata',
      `the body must be application/json, got ${type || 'no content-type'}`,
    );
  }
  let body: unknown;
  try {
    body = JSON.parse(await request.text());
  } catch {
    return oauthError(400, 'invalid_client_metadata', 'the body is not JSON');
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    return oauthError(400, 'invalid_client_metadata', 'the body must be a JSON object of client metadata');
  }
  const metadata = body as Record<string, unknown>;
  const uris = metadata.redirect_uris;
  if (!isStringList(uris) || uris.length === 0) {
    return oauthError(400, 'invalid_redirect_uri', 'redirect_uris must be a non-empty array of URIs');
  }
  const uriProblem = uris.map(redirectUriProblem).find(Boolean);
  if (uriProblem) return oauthError(400, 'invalid_redirect_uri', uriProblem);
  // RFC 7591 §2: the defaults when a member is omitted.
  const {
    token_endpoint_auth_method: authMethod = 'client_secret_basic',
    grant_types: grantTypes = ['authorization_code'],
    response_types: responseTypes = ['code'],
  } = metadata;
  if (typeof authMethod !== 'string' || !AUTH_METHODS.includes(authMethod)) {
    return oauthError(
      400,
      'invalid_client_metadata',
      `token_endpoint_auth_method must be one of ${AUTH_METHODS.join(', ')}`,
    );
  }
  if (!isStringList(grantTypes) || grantTypes.some((grant) => !GRANT_TYPES.includes(grant))) {
    return oauthError(400, 'invalid_client_metadata', `grant_types may hold ${GRANT_TYPES.join(', ')}`);
  }
  if (!isStringList(responseTypes) || responseTypes.some((response) => response !== 'code')) {
    return oauthError(400, 'invalid_client_metadata', "response_types may hold only 'code'");
  }
  const clientId = `client-${randomToken(12)}`;
  const clientSecret = authMethod === 'none' ? undefined : randomToken();
  ctx.clients.register({ clientId, clientSecret, redirectUris: [...uris] });
  const issuedAt = Math.floor(ctx.now() / 1000);
  return json(
    201,
    {
      ...metadata,
      client_id: clientId,
      client_id_issued_at: issuedAt,
      ...(clientSecret === undefined ? {} : { client_secret: clientSecret, client_secret_expires_at: 0 }),
      token_endpoint_auth_method: authMethod,
      grant_types: grantTypes,
      response_types: responseTypes,
    },
    { 'cache-control': 'no-store', pragma: 'no-cache' },
  );
}

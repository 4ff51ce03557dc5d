/** JWT assertions signed by a client's registered keys (RFC 7523): `private_key_jwt` client authentication and the JWT bearer grant. */
import { type JWTPayload, createLocalJWKSet, jwtVerify } from 'jose';
import { SUPPORTED_ALGORITHMS } from '../token/algorithms.js';
import type { ClientCheck } from './clients.js';
import type { IssuerContext } from './context.js';
import { routeKey } from './endpoints.js';
import { oauthError } from './responses.js';
import type { TestClient } from './types.js';

/** RFC 7523 §2.2: the `client_assertion_type` of `private_key_jwt`. */
export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** RFC 7523 §2.1: the JWT bearer authorization grant. */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Longer assertions are refused before they are parsed. */
export const MAX_ASSERTION_LENGTH = 8192;
/** The furthest `exp` may be from now: an assertion is for one request, not a session. */
export const MAX_ASSERTION_LIFETIME_SECONDS = 600;
const CLOCK_TOLERANCE_SECONDS = 5;
/** The asymmetric algorithms an assertion may use (no `none`, no HMAC: `client_secret_jwt` is not offered). */
const ASSERTION_ALGORITHMS: string[] = [...SUPPORTED_ALGORITHMS];

/**
 * Verifies an assertion signed by one of `client`'s keys: size, signature, `iss` (the
 * client), `aud` (the issuer, the token endpoint or the endpoint called), `exp` (required,
 * at most {@link MAX_ASSERTION_LIFETIME_SECONDS} ahead), `nbf`, and a one-time `jti`.
 * Resolves the payload, or why it is refused (never quoting the assertion).
 */
export async function verifyAssertion(
  ctx: IssuerContext,
  client: TestClient,
  assertion: string,
  request: Request,
): Promise<JWTPayload | string> {
  if (assertion.length > MAX_ASSERTION_LENGTH) {
    return `the assertion is longer than ${MAX_ASSERTION_LENGTH} characters`;
  }
  if (!client.jwks?.keys.length) return `client ${client.clientId} has no registered keys (jwks)`;
  let payload: JWTPayload;
  try {
    ({ payload } = await jwtVerify(assertion, createLocalJWKSet({ keys: [...client.jwks.keys] }), {
      algorithms: ASSERTION_ALGORITHMS,
      issuer: client.clientId,
      audience: [ctx.issuer, ctx.tokenEndpoint, routeKey(request.url)],
      requiredClaims: ['exp', 'jti'],
      currentDate: new Date(ctx.now()),
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
    }));
  } catch (error) {
    return `the assertion does not verify: ${(error as Error).message}`;
  }
  const nowSeconds = Math.floor(ctx.now() / 1000);
  const exp = payload.exp!;
  if (exp > nowSeconds + MAX_ASSERTION_LIFETIME_SECONDS) {
    return `the assertion's exp is more than ${MAX_ASSERTION_LIFETIME_SECONDS} seconds ahead`;
  }
  if (typeof payload.jti !== 'string' || !payload.jti) return 'the assertion needs a jti';
  const remembered = ctx.assertionReplay.remember(
    JSON.stringify([client.clientId, payload.jti]),
    (exp + CLOCK_TOLERANCE_SECONDS) * 1000,
  );
  if (remembered === 'replayed') return 'the assertion was used before (jti)';
  if (remembered === 'full') return 'too many assertions are still valid: try again later';
  return payload;
}

/**
 * `private_key_jwt` client authentication (RFC 7523 §2.2, §3; OpenID Connect Core §9):
 * `client_assertion_type` and `client_assertion`, whose `iss` and `sub` are the client id,
 * signed by a key in the client's `jwks`. Any failure is 401 `invalid_client`.
 */
export async function authenticateClientAssertion(
  ctx: IssuerContext,
  request: Request,
  form: URLSearchParams,
): Promise<ClientCheck> {
  const invalid = (description: string): ClientCheck => ({
    error: oauthError(401, 'invalid_client', description),
  });
  const type = form.get('client_assertion_type');
  const assertion = form.get('client_assertion');
  if (type !== CLIENT_ASSERTION_TYPE) {
    return invalid(`client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`);
  }
  if (!assertion) return invalid('client_assertion is required with client_assertion_type');
  if (assertion.length > MAX_ASSERTION_LENGTH) {
    return invalid(`the client assertion is longer than ${MAX_ASSERTION_LENGTH} characters`);
  }
  if (request.headers.has('authorization') || form.has('client_secret')) {
    return invalid('use one client authentication method, not a secret and an assertion (RFC 6749 §2.3)');
  }
  const clientId = form.get('client_id') ?? peekSubject(assertion);
  if (!clientId) return invalid('the client assertion names no client (sub)');
  const { client } = ctx.clients.find(clientId);
  if (!client) return invalid(`unknown client_id ${JSON.stringify(clientId)}`);
  const payload = await verifyAssertion(ctx, client, assertion, request);
  if (typeof payload === 'string') return invalid(payload);
  if (payload.sub !== clientId) return invalid("the client assertion's sub must be the client id");
  return { clientId };
}

/** The `sub` of an assertion before it is verified: only to find whose keys verify it. */
function peekSubject(assertion: string): string | undefined {
  if (assertion.length > MAX_ASSERTION_LENGTH) return undefined;
  try {
    const payload: unknown = JSON.parse(atob(assertion.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')));
    const sub = (payload as { sub?: unknown } | null)?.sub;
    return typeof sub === 'string' ? sub : undefined;
  } catch {
    return undefined;
  }
}

/** The JWT bearer authorization grant (RFC 7523 §2.1): an assertion signed by the client's key, about a user. */
import type { IssuerContext } from './context.js';
import { type Grant, normalizeScope, requestedAudience } from './grants.js';
import { verifyAssertion } from './client-assertion.js';
import { oauthError } from './responses.js';

/**
 * The grant of a JWT bearer request: the `assertion` must be signed by a key in the
 * authenticated client's `jwks`, with `iss` the client id and `sub` the user the tokens are
 * for (RFC 7523 §3); else 400 `invalid_grant`. The scope is the one asked for, the
 * audience as for the other grants.
 */
export async function jwtBearerGrant(
  ctx: IssuerContext,
  request: Request,
  form: URLSearchParams,
  clientId: string,
): Promise<Grant | Response> {
  const assertion = form.get('assertion');
  if (!assertion) return oauthError(400, 'invalid_request', 'assertion is required (RFC 7523 §2.1)');
  const client = ctx.clients.find(clientId).client ?? { clientId };
  const payload = await verifyAssertion(ctx, client, assertion, request);
  if (typeof payload === 'string') return oauthError(400, 'invalid_grant', payload);
  if (typeof payload.sub !== 'string' || !payload.sub) {
    return oauthError(400, 'invalid_grant', 'the assertion needs a sub: the user the tokens are for');
  }
  return {
    clientId,
    subject: payload.sub,
    scope: normalizeScope(form.get('scope')),
    audience: requestedAudience(form, ctx.audience),
  };
}

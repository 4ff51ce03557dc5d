// The stub issuer's token revocation endpoint (RFC 7009).
import type { IssuerContext } from './context.js';
import { oauthError } from './responses.js';
import { readClientRequest } from './token.js';

/**
 * The revocation endpoint (RFC 7009): revokes a refresh token and the tokens issued with
 * it, or an opaque access token. Unknown tokens (and JWT access tokens, which stay valid
 * until `exp`) still get 200 (§2.2).
 */
export async function revoke(ctx: IssuerContext, request: Request): Promise<Response> {
  const checked = await readClientRequest(ctx, request);
  if (checked instanceof Response) return checked;
  const token = checked.form.get('token');
  if (!token) return oauthError(400, 'invalid_request', 'token is required');
  ctx.grants.revoke(token, checked.clientId);
  ctx.opaqueTokens.revoke(token, checked.clientId);
  return new Response(null, { status: 200, headers: { 'cache-control': 'no-store' } });
}

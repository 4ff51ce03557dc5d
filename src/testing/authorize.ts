// The stub issuer's authorization endpoint: checks the request, then the login page or an answer at once.
import { checkAuthorizationRequest, readAuthorizationParams } from './authorization-request.js';
import type { IssuerContext } from './context.js';
import { interactiveAuthorize } from './login/flow.js';
import { loginAs } from './login/users.js';

/**
 * The authorization endpoint (RFC 6749 §4.1.1; GET, or POST as OpenID Connect Core
 * §3.1.2.1 allows). PKCE with S256 is required. The code it redirects back with is bound to
 * the client, redirect URI, PKCE challenge, scope, audience and nonce, next to `state` and the
 * RFC 9207 `iss`. With `interactiveLogin`, a login page asks who logs in (see
 * {@link interactiveAuthorize}); without it, the user is the `login_hint` (a configured user's
 * claims and `acr` with it) or the issuer's `subject`, at once.
 */
export async function authorize(ctx: IssuerContext, request: Request): Promise<Response> {
  const params = await readAuthorizationParams(request);
  if (params instanceof Response) return params;
  const auth = checkAuthorizationRequest(ctx, params, request.method);
  if (auth instanceof Response) return auth;
  if (ctx.interactiveLogin) return interactiveAuthorize(ctx, request, auth);
  const login = loginAs(ctx.users, params.get('login_hint') || ctx.subject, params);
  return auth.issueCode(login, Math.floor(ctx.now() / 1000));
}

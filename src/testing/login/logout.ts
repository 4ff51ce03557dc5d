// The logout endpoint (OpenID Connect RP-Initiated Logout 1.0): ends the login page's
// session, then redirects to a registered post_logout_redirect_uri or shows that it is done.
import { type JWTPayload, compactVerify, createLocalJWKSet, decodeProtectedHeader } from 'jose';
import { readAuthorizationParams } from '../authorization-request.js';
import type { IssuerContext } from '../context.js';
import { messagePage } from './html.js';

/** An ID token longer than this is not one of ours. */
const MAX_HINT_LENGTH = 16 * 1024;

/** What a verified `id_token_hint` tells the logout. */
interface Hint {
  sub: string | undefined;
  audiences: string[];
  azp: string | undefined;
}

const refused = (message: string) => messagePage(400, 'Logout refused', message);

/**
 * The `id_token_hint`, verified with this issuer's published keys (an expired one is accepted,
 * §2: the user may come back long after the ID token lapsed), or why it is refused.
 */
async function verifyHint(ctx: IssuerContext, hint: string): Promise<Hint | string> {
  if (hint.length > MAX_HINT_LENGTH) return 'the id_token_hint is too long to be an ID token of this issuer';
  let payload: JWTPayload;
  try {
    if (decodeProtectedHeader(hint).typ === 'at+jwt')
      return 'the id_token_hint is an access token, not an ID token';
    const verified = await compactVerify(hint, createLocalJWKSet(ctx.keys.jwks()));
    payload = JSON.parse(new TextDecoder().decode(verified.payload)) as JWTPayload;
  } catch {
    return 'the id_token_hint was not signed by this issuer, or was altered';
  }
  if (typeof payload !== 'object' || payload === null || payload.iss !== ctx.issuer) {
    return 'the id_token_hint was issued by another issuer';
  }
  const audiences = (Array.isArray(payload.aud) ? payload.aud : [payload.aud]).filter(
    (aud): aud is string => typeof aud === 'string',
  );
  return {
    sub: typeof payload.sub === 'string' ? payload.sub : undefined,
    audiences,
    azp: typeof payload.azp === 'string' ? payload.azp : undefined,
  };
}

/**
 * The logout endpoint (GET or a POSTed form): `id_token_hint` verified, `client_id` (one of
 * the hint's audiences when both are sent), `post_logout_redirect_uri` followed only when it
 * is registered for that client (`postLogoutRedirectUris`), `state` passed back. It ends the
 * browser's login session and the sessions of the hint's user, so the next `prompt=none` is
 * answered `login_required`. A request it cannot trust gets a 400 page and no redirect (§4).
 */
export async function logout(ctx: IssuerContext, request: Request): Promise<Response> {
  const params = await readAuthorizationParams(request);
  if (params instanceof Response) return params;

  const hintToken = params.get('id_token_hint');
  const hint = hintToken ? await verifyHint(ctx, hintToken) : undefined;
  if (typeof hint === 'string') return refused(`${hint}.`);
  const clientId = params.get('client_id') || undefined;
  if (clientId !== undefined) {
    if (!ctx.clients.find(clientId).known) return refused(`There is no client ${JSON.stringify(clientId)}.`);
    if (hint && !hint.audiences.includes(clientId)) {
      return refused(`The id_token_hint was not issued to the client ${JSON.stringify(clientId)}.`);
    }
  }

  const redirectUri = params.get('post_logout_redirect_uri');
  let target: URL | undefined;
  if (redirectUri) {
    const client = clientId ?? hint?.azp ?? (hint?.audiences.length === 1 ? hint.audiences[0] : undefined);
    if (client === undefined) {
      return refused(
        'A post_logout_redirect_uri needs a client_id or an id_token_hint that names the client.',
      );
    }
    const registered = ctx.clients.find(client).client?.postLogoutRedirectUris ?? [];
    if (!registered.includes(redirectUri) || !URL.canParse(redirectUri)) {
      return refused(
        `The post_logout_redirect_uri ${JSON.stringify(redirectUri)} is not registered for the client ${JSON.stringify(client)}.`,
      );
    }
    target = new URL(redirectUri);
    const state = params.get('state');
    if (state !== null) target.searchParams.set('state', state);
  }

  const cookie = ctx.sessions.end(request, hint?.sub);
  if (target) {
    return new Response(null, {
      status: request.method === 'POST' ? 303 : 302,
      headers: { location: target.href, 'cache-control': 'no-store', 'set-cookie': cookie },
    });
  }
  return messagePage(200, 'Logged out', 'You are logged out of this development identity provider.', {
    'set-cookie': cookie,
  });
}

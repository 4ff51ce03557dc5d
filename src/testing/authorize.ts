import { loginAcr } from './acr.js';
import { redirectProblem } from './clients.js';
import type { IssuerContext } from './context.js';
import { normalizeScope, requestedAudience } from './grants.js';
import { oauthError } from './responses.js';

/** An S256 code challenge: the base64url SHA-256 of the verifier (RFC 7636 §4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The authorization endpoint (RFC 6749 §4.1.1): no login page, it redirects straight back
 * with a one-time code bound to the client, redirect URI, PKCE challenge, scope, audience
 * and nonce, plus `state` and the RFC 9207 `iss`. PKCE with S256 is required.
 */
export function authorize(ctx: IssuerContext, request: Request): Response {
  const params = new URL(request.url).searchParams;
  const clientId = params.get('client_id');
  const redirectUri = params.get('redirect_uri');
  const problem = redirectProblem(ctx.clients, clientId, redirectUri);
  if (problem || !clientId || !redirectUri) {
    return oauthError(400, 'invalid_request', problem ?? 'client_id and redirect_uri are required');
  }

  const redirect = (answer: Record<string, string>): Response => {
    const target = new URL(redirectUri);
    for (const [name, value] of Object.entries(answer)) target.searchParams.set(name, value);
    const state = params.get('state');
    if (state !== null) target.searchParams.set('state', state);
    target.searchParams.set('iss', ctx.issuer);
    return new Response(null, {
      status: 302,
      headers: { location: target.href, 'cache-control': 'no-store' },
    });
  };
  const refuse = (error: string, description: string) => redirect({ error, error_description: description });

  const responseType = params.get('response_type');
  if (!responseType) return refuse('invalid_request', 'response_type is required');
  if (responseType !== 'code') {
    return refuse('unsupported_response_type', `only response_type=code is supported, got ${responseType}`);
  }
  const challenge = params.get('code_challenge');
  const method = params.get('code_challenge_method');
  if (!challenge) return refuse('invalid_request', 'code_challenge is required (PKCE, RFC 7636)');
  if (method !== 'S256') {
    return refuse('invalid_request', `code_challenge_method must be S256, got ${method ?? 'none (plain)'}`);
  }
  if (!S256_CHALLENGE.test(challenge)) {
    return refuse('invalid_request', 'code_challenge is not a base64url-encoded SHA-256 hash');
  }

  const subject = params.get('login_hint') || ctx.subject;
  const acr = loginAcr(
    params,
    ctx.users.find((user) => user.sub === subject),
  );
  const code = ctx.grants.issueCode(
    {
      clientId,
      redirectUri,
      codeChallenge: challenge,
      subject,
      scope: normalizeScope(params.get('scope')),
      audience: requestedAudience(params, ctx.audience),
      nonce: params.get('nonce') ?? undefined,
      authTime: Math.floor(ctx.now() / 1000),
      ...(acr === undefined ? {} : { acr }),
      // RFC 9449 §10: the code can only be redeemed with a proof of this key.
      ...(params.get('dpop_jkt') ? { dpopJkt: params.get('dpop_jkt')! } : {}),
    },
    ctx.now(),
  );
  return redirect({ code });
}

// An authorization request (RFC 6749 §4.1.1 with PKCE, RFC 7636), read from the query or a
// POSTed form and checked, and the redirects that answer it.
import { redirectProblem } from './clients.js';
import type { IssuerContext } from './context.js';
import { normalizeScope, requestedAudience } from './grants.js';
import type { Login } from './login/users.js';
import { oauthError } from './responses.js';

/** An S256 code challenge: the base64url SHA-256 of the verifier (RFC 7636 §4.2). */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
/** The largest form body the authorization endpoint reads (the login page's claims included). */
const MAX_FORM_BYTES = 64 * 1024;

/** A checked authorization request: its client may be redirected to. */
export interface AuthorizationRequest {
  /** Every parameter, as sent (a POST's form fields included). */
  readonly params: URLSearchParams;
  readonly clientId: string;
  readonly redirectUri: string;
  /** Answers at the redirect URI with `answer`, `state` and the RFC 9207 `iss`. */
  redirect(answer: Record<string, string>, headers?: Record<string, string>): Response;
  /** An RFC 6749 §4.1.2.1 error at the redirect URI. */
  refuse(error: string, description: string): Response;
  /** A one-time code for `login` (authenticated at `authTime`, NumericDate) at the redirect URI. */
  issueCode(login: Login, authTime: number, headers?: Record<string, string>): Response;
}

/** The request's parameters: the query of a GET, the form of a POST (OpenID Connect Core §3.1.2.1). */
export async function readAuthorizationParams(request: Request): Promise<URLSearchParams | Response> {
  if (request.method === 'GET' || request.method === 'HEAD') return new URL(request.url).searchParams;
  if (request.method !== 'POST') {
    return oauthError(405, 'invalid_request', `use GET or POST, not ${request.method}`, {
      allow: 'GET, POST, OPTIONS',
    });
  }
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    return oauthError(400, 'invalid_request', 'a POST must send an application/x-www-form-urlencoded form');
  }
  const body = await request.text();
  if (body.length > MAX_FORM_BYTES) {
    return oauthError(413, 'invalid_request', `the form is larger than ${MAX_FORM_BYTES} bytes`);
  }
  return new URLSearchParams(body);
}

/**
 * Checks what every authorization request needs (client, redirect URI, response type, PKCE
 * S256): errors about the client or redirect URI are answered here (400), never sent to an
 * unchecked redirect URI; the others at the redirect URI.
 */
export function checkAuthorizationRequest(
  ctx: IssuerContext,
  params: URLSearchParams,
  method: string,
): AuthorizationRequest | Response {
  const clientId = params.get('client_id');
  const redirectUri = params.get('redirect_uri');
  const problem = redirectProblem(ctx.clients, clientId, redirectUri);
  if (problem || !clientId || !redirectUri) {
    return oauthError(400, 'invalid_request', problem ?? 'client_id and redirect_uri are required');
  }

  const redirect = (answer: Record<string, string>, headers: Record<string, string> = {}): Response => {
    const target = new URL(redirectUri);
    for (const [name, value] of Object.entries(answer)) target.searchParams.set(name, value);
    const state = params.get('state');
    if (state !== null) target.searchParams.set('state', state);
    target.searchParams.set('iss', ctx.issuer);
    // 303 after a POST: the browser follows with a GET (RFC 9110 §15.4.4).
    return new Response(null, {
      status: method === 'POST' ? 303 : 302,
      headers: { location: target.href, 'cache-control': 'no-store', ...headers },
    });
  };
  const refuse = (error: string, description: string) => redirect({ error, error_description: description });
  const request = (challenge: string): AuthorizationRequest => ({
    params,
    clientId,
    redirectUri,
    redirect,
    refuse,
    issueCode: (login, authTime, headers) => {
      const code = ctx.grants.issueCode(
        {
          clientId,
          redirectUri,
          codeChallenge: challenge,
          subject: login.sub,
          scope: normalizeScope(params.get('scope')),
          audience: requestedAudience(params, ctx.audience),
          nonce: params.get('nonce') ?? undefined,
          authTime,
          ...grantClaims(login),
          // RFC 9449 §10: the code can only be redeemed with a proof of this key.
          ...(params.get('dpop_jkt') ? { dpopJkt: params.get('dpop_jkt')! } : {}),
        },
        ctx.now(),
      );
      return redirect({ code }, headers);
    },
  });

  const responseType = params.get('response_type');
  if (!responseType) return refuse('invalid_request', 'response_type is required');
  if (responseType !== 'code') {
    return refuse('unsupported_response_type', `only response_type=code is supported, got ${responseType}`);
  }
  const challenge = params.get('code_challenge');
  const challengeMethod = params.get('code_challenge_method');
  if (!challenge) return refuse('invalid_request', 'code_challenge is required (PKCE, RFC 7636)');
  if (challengeMethod !== 'S256') {
    return refuse(
      'invalid_request',
      `code_challenge_method must be S256, got ${challengeMethod ?? 'none (plain)'}`,
    );
  }
  if (!S256_CHALLENGE.test(challenge)) {
    return refuse('invalid_request', 'code_challenge is not a base64url-encoded SHA-256 hash');
  }
  return request(challenge);
}

/** What a login adds to the tokens of its grant, when it adds anything. */
function grantClaims(login: Login): {
  userClaims?: Record<string, unknown>;
  claims?: Record<string, unknown>;
} {
  const claims = { ...login.claims, ...(login.acr ? { acr: login.acr } : {}) };
  return {
    ...(Object.keys(login.userClaims).length ? { userClaims: { ...login.userClaims } } : {}),
    ...(Object.keys(claims).length ? { claims } : {}),
  };
}

import { encodeBase64Url, sha2 } from '../token/base64url.js';
import { idTokenHash } from '../verify/id-token.js';
import { authenticateClient } from './clients.js';
import type { IssuerContext } from './context.js';
import { type Grant, normalizeScope, requestedAudience } from './grants.js';
import { oauthError } from './responses.js';
import { tokenClaims } from './sign.js';
import { tokenRequestJkt } from './token-dpop.js';

/** RFC 7636 §4.1: 43–128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;

const invalidRequest = (description: string) => oauthError(400, 'invalid_request', description);
const invalidGrant = (description: string) => oauthError(400, 'invalid_grant', description);

/** The form body of a token or revocation request (RFC 6749 §3.2), or the error to answer. */
async function readForm(request: Request): Promise<URLSearchParams | Response> {
  if (request.method !== 'POST') {
    return oauthError(405, 'invalid_request', `use POST, not ${request.method}`, {
      allow: 'POST, OPTIONS',
    });
  }
  const type = request.headers.get('content-type') ?? '';
  if (!/^application\/x-www-form-urlencoded\b/i.test(type)) {
    return invalidRequest(
      `the body must be application/x-www-form-urlencoded, got ${type || 'no content-type'}`,
    );
  }
  return new URLSearchParams(await request.text());
}

/**
 * The form of a token or revocation request and the client it authenticates as, or the
 * error to answer: what every client endpoint checks first.
 */
export async function readClientRequest(
  ctx: IssuerContext,
  request: Request,
): Promise<{ form: URLSearchParams; clientId: string } | Response> {
  const form = await readForm(request);
  if (form instanceof Response) return form;
  const client = authenticateClient(ctx.clients, request, form);
  if ('error' in client) return client.error;
  return { form, clientId: client.clientId };
}

async function s256(verifier: string): Promise<string> {
  return encodeBase64Url(await sha2('SHA-256', verifier));
}

/**
 * A successful token response (RFC 6749 §5.1): an RFC 9068 JWT access token (or an opaque
 * one, with `accessTokenFormat: 'opaque'`), a rotating refresh token when the grant has a
 * `family`, and an ID token (with `nonce`, `auth_time` and `at_hash`) when `openid` was granted.
 * With `grant.dpopJkt`, the access token is DPoP-bound (`cnf.jkt`, `token_type` DPoP) and
 * so is the refresh token (RFC 9449 §5).
 */
async function tokenResponse(
  ctx: IssuerContext,
  grant: Grant,
  refresh?: { family: string; nonce?: string },
): Promise<Response> {
  const { clientId, subject, scope, audience, dpopJkt } = grant;
  const claims = { sub: subject, aud: audience, client_id: clientId, scope: scope || undefined };
  const binding = dpopJkt ? { dpopJkt } : {};
  const accessToken =
    ctx.accessTokenFormat === 'opaque'
      ? ctx.opaqueTokens.issue(tokenClaims(ctx, claims, binding))
      : await ctx.sign(claims, { header: { typ: 'at+jwt' }, ...binding });
  const body: Record<string, unknown> = {
    access_token: accessToken,
    token_type: dpopJkt ? 'DPoP' : 'Bearer',
    expires_in: ctx.tokenTtlSeconds,
  };
  if (scope) body.scope = scope;
  if (refresh) {
    body.refresh_token = ctx.grants.issueRefreshToken(grant, refresh.family);
    if (scope.split(' ').includes('openid')) {
      body.id_token = await ctx.sign(
        {
          sub: subject,
          aud: clientId,
          nonce: refresh.nonce,
          auth_time: grant.authTime,
          at_hash: await idTokenHash(ctx.keys.signing().alg, accessToken),
        },
        { encrypt: false },
      );
    }
  }
  return new Response(JSON.stringify(body), {
    headers: {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
    },
  });
}

/**
 * The grant with the key the request proved, or the refusal: a grant already bound
 * (`dpop_jkt` at /authorize, a bound refresh token) needs a proof of that same key.
 */
function bindGrant<T extends Grant>(grant: T, jkt: string | undefined, what: string): T | Response {
  if (grant.dpopJkt !== undefined && jkt !== grant.dpopJkt) {
    return jkt === undefined
      ? oauthError(400, 'invalid_dpop_proof', `${what} is DPoP-bound: send a DPoP proof of its key`)
      : invalidGrant(`${what} is bound to another DPoP key than the proof's`);
  }
  return jkt === undefined ? grant : { ...grant, dpopJkt: jkt };
}

async function authorizationCode(
  ctx: IssuerContext,
  form: URLSearchParams,
  clientId: string,
  jkt: string | undefined,
): Promise<Response> {
  const code = form.get('code');
  const verifier = form.get('code_verifier');
  if (!code) return invalidRequest('code is required');
  if (!verifier) return invalidRequest('code_verifier is required (PKCE, RFC 7636 §4.5)');
  if (!CODE_VERIFIER.test(verifier)) {
    return invalidRequest('code_verifier must be 43–128 unreserved characters');
  }
  const redeemed = ctx.grants.redeemCode(code, ctx.now());
  if (!redeemed) return invalidGrant('the code is unknown, expired or already used');
  const { grant, family } = redeemed;
  if (grant.clientId !== clientId) return invalidGrant('the code was issued to another client');
  if (form.get('redirect_uri') !== grant.redirectUri) {
    return invalidGrant('redirect_uri differs from the one sent to the authorization endpoint');
  }
  if ((await s256(verifier)) !== grant.codeChallenge) {
    return invalidGrant('code_verifier does not match the code_challenge (RFC 7636 §4.6)');
  }
  const bound = bindGrant(grant, jkt, 'the code');
  if (bound instanceof Response) return bound;
  return tokenResponse(ctx, bound, { family, nonce: grant.nonce });
}

async function refreshToken(
  ctx: IssuerContext,
  form: URLSearchParams,
  clientId: string,
  jkt: string | undefined,
): Promise<Response> {
  const token = form.get('refresh_token');
  if (!token) return invalidRequest('refresh_token is required');
  const found = ctx.grants.findRefreshToken(token);
  if (!found) return invalidGrant('the refresh token is unknown, revoked or already used');
  if (found.grant.clientId !== clientId) {
    return invalidGrant('the refresh token was issued to another client');
  }
  const bound = bindGrant(found.grant, jkt, 'the refresh token');
  if (bound instanceof Response) return bound;
  let grant = bound;
  if (form.has('scope')) {
    // RFC 6749 §6: a refresh may narrow the scope, never widen it.
    const granted = grant.scope.split(' ');
    const asked = normalizeScope(form.get('scope'));
    const extra = asked.split(' ').filter((scope) => scope && !granted.includes(scope));
    if (extra.length) {
      return oauthError(400, 'invalid_scope', `not granted originally: ${extra.join(' ')}`);
    }
    grant = { ...grant, scope: asked };
  }
  ctx.grants.spendRefreshToken(token);
  return tokenResponse(ctx, grant, { family: found.family });
}

function clientCredentials(
  ctx: IssuerContext,
  form: URLSearchParams,
  clientId: string,
  jkt: string | undefined,
): Promise<Response> {
  // RFC 6749 §4.4.3: no refresh token; the client is its own subject.
  return tokenResponse(ctx, {
    clientId,
    subject: clientId,
    scope: normalizeScope(form.get('scope')),
    audience: requestedAudience(form, ctx.audience),
    ...(jkt ? { dpopJkt: jkt } : {}),
  });
}

/**
 * The token endpoint (RFC 6749 §3.2): authorization_code + PKCE, refresh_token,
 * client_credentials; a request with a DPoP proof gets DPoP-bound tokens (RFC 9449 §5).
 */
export async function token(ctx: IssuerContext, request: Request): Promise<Response> {
  const checked = await readClientRequest(ctx, request);
  if (checked instanceof Response) return checked;
  const { form, clientId } = checked;
  const jkt = await tokenRequestJkt(ctx.dpop, request);
  if (jkt instanceof Response) return jkt;
  const grantType = form.get('grant_type');
  switch (grantType) {
    case 'authorization_code':
      return authorizationCode(ctx, form, clientId, jkt);
    case 'refresh_token':
      return refreshToken(ctx, form, clientId, jkt);
    case 'client_credentials':
      return clientCredentials(ctx, form, clientId, jkt);
    case null:
    case '':
      return invalidRequest('grant_type is required');
    default:
      return oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
}

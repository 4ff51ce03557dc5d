// The stub issuer's token endpoint: every grant, and the token responses.
import { encodeBase64Url, sha2 } from '../token/base64url.js';
import { idTokenHash } from '../verify/id-token.js';
import { JWT_BEARER_GRANT, authenticateClientAssertion } from './client-assertion.js';
import { authenticateClient } from './clients.js';
import type { IssuerContext } from './context.js';
import { type Grant, normalizeScope, requestedAudience } from './grants.js';
import { oauthError } from './responses.js';
import { tokenClaims } from './sign.js';
import { tokenRequestJkt } from './token-dpop.js';
import { mappedClaims } from './hooks.js';
import { TOKEN_EXCHANGE_GRANT, tokenExchange } from './token-exchange.js';
import { jwtBearerGrant } from './jwt-bearer.js';
import { clientOf, userOf } from './userinfo.js';

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
  const client =
    form.has('client_assertion') || form.has('client_assertion_type')
      ? await authenticateClientAssertion(ctx, request, form)
      : authenticateClient(ctx.clients, request, form);
  if ('error' in client) return client.error;
  return { form, clientId: client.clientId };
}

async function s256(verifier: string): Promise<string> {
  return encodeBase64Url(await sha2('SHA-256', verifier));
}

/** The token request being answered, and what its grant adds to the response. */
interface TokenCall {
  request: Request;
  form: URLSearchParams;
  /** Claims on top of the grant's (token exchange's `act`). */
  claims?: Record<string, unknown>;
  /** RFC 8693 §2.2.1 `issued_token_type`. */
  issuedTokenType?: string;
}

/**
 * A successful token response (RFC 6749 §5.1): an RFC 9068 JWT access token (or an opaque
 * one, with `accessTokenFormat: 'opaque'`), a rotating refresh token when the grant has a
 * `family`, and an ID token (with `nonce`, `auth_time`, `acr` and `at_hash`) when `openid` was
 * granted. A user's login puts `auth_time` and `acr` (when known) in the access token too.
 * With `grant.dpopJkt`, the access token is DPoP-bound (`cnf.jkt`, `token_type` DPoP) and
 * so is the refresh token (RFC 9449 §5). `requestMappings` and `onToken` hooks add claims
 * to the access and ID tokens, or answer with their error.
 */
async function tokenResponse(
  ctx: IssuerContext,
  call: TokenCall,
  grant: Grant,
  refresh?: { family: string; nonce?: string },
): Promise<Response> {
  const { clientId, subject, scope, audience, dpopJkt, authTime } = grant;
  // The login's claims first (typed on the login page, its `acr`): the ones the issuer sets
  // win. A user's login (authorization code, and the refresh tokens it led to) shows in the
  // access token too, for step-up checks (RFC 9470 §6.1).
  const issued = {
    ...grant.claims,
    sub: subject,
    aud: audience,
    client_id: clientId,
    scope: scope || undefined,
    auth_time: authTime,
    ...call.claims,
  };
  // requestMappings, then hooks (RFC 6749 §5.2 errors from those), over the claims.
  const mapped = mappedClaims(ctx.requestMappings, call.form);
  const added = await ctx.hooks.run('token', {
    grantType: call.form.get('grant_type')!,
    client: clientOf(ctx, clientId),
    user: call.form.get('grant_type') === 'client_credentials' ? undefined : userOf(ctx, subject),
    claims: { ...issued, ...mapped },
    request: call.request,
  });
  if (added instanceof Response) return added;
  const extra = { ...mapped, ...added };
  const claims = { ...issued, ...extra };
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
  if (call.issuedTokenType) body.issued_token_type = call.issuedTokenType;
  if (scope) body.scope = scope;
  if (refresh) {
    body.refresh_token = ctx.grants.issueRefreshToken(grant, refresh.family);
    if (scope.split(' ').includes('openid')) {
      body.id_token = await ctx.sign(
        {
          ...grant.userClaims,
          ...grant.claims,
          sub: subject,
          aud: clientId,
          nonce: refresh.nonce,
          auth_time: authTime,
          at_hash: await idTokenHash(ctx.keys.signing().alg, accessToken),
          ...extra,
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
  call: TokenCall,
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
  return tokenResponse(ctx, call, bound, { family, nonce: grant.nonce });
}

async function refreshToken(
  ctx: IssuerContext,
  call: TokenCall,
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
  return tokenResponse(ctx, call, grant, { family: found.family });
}

function clientCredentials(
  ctx: IssuerContext,
  call: TokenCall,
  form: URLSearchParams,
  clientId: string,
  jkt: string | undefined,
): Promise<Response> {
  // RFC 6749 §4.4.3: no refresh token; the client is its own subject.
  return tokenResponse(ctx, call, {
    clientId,
    subject: clientId,
    scope: normalizeScope(form.get('scope')),
    audience: requestedAudience(form, ctx.audience),
    ...(jkt ? { dpopJkt: jkt } : {}),
  });
}

/**
 * The token endpoint (RFC 6749 §3.2): authorization_code + PKCE, refresh_token,
 * client_credentials, JWT bearer (RFC 7523) and token exchange (RFC 8693); a request with a DPoP proof gets DPoP-bound tokens (RFC 9449 §5).
 */
export async function token(ctx: IssuerContext, request: Request): Promise<Response> {
  const checked = await readClientRequest(ctx, request);
  if (checked instanceof Response) return checked;
  const { form, clientId } = checked;
  const jkt = await tokenRequestJkt(ctx.dpop, request);
  if (jkt instanceof Response) return jkt;
  const grantType = form.get('grant_type');
  const call: TokenCall = { request, form };
  const binding = jkt ? { dpopJkt: jkt } : {};
  switch (grantType) {
    case 'authorization_code':
      return authorizationCode(ctx, call, form, clientId, jkt);
    case 'refresh_token':
      return refreshToken(ctx, call, form, clientId, jkt);
    case 'client_credentials':
      return clientCredentials(ctx, call, form, clientId, jkt);
    case JWT_BEARER_GRANT: {
      const grant = await jwtBearerGrant(ctx, request, form, clientId);
      return grant instanceof Response ? grant : tokenResponse(ctx, call, { ...grant, ...binding });
    }
    case TOKEN_EXCHANGE_GRANT: {
      const exchange = await tokenExchange(ctx, form, clientId);
      if (exchange instanceof Response) return exchange;
      const { grant, claims, issuedTokenType } = exchange;
      return tokenResponse(ctx, { ...call, claims, issuedTokenType }, { ...grant, ...binding });
    }
    case null:
    case '':
      return invalidRequest('grant_type is required');
    default:
      return oauthError(400, 'unsupported_grant_type', `grant_type ${grantType} is not supported`);
  }
}

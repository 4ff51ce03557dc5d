/** The userinfo endpoint (OpenID Connect Core §5.3): the user's claims for a Bearer or DPoP access token. */
import { authenticate } from '../server/authenticate.js';
import { createMemoryDpopReplayStore } from '../dpop/replay-store.js';
import { JwtVerifier } from '../verify/verifier.js';
import type { IssuerContext } from './context.js';
import { json, oauthError } from './responses.js';
import type { SignContext } from './sign.js';
import type { TestClient, TestUser } from './types.js';

/** OpenID Connect Core §5.4: the claims each scope asks for. */
export const SCOPE_CLAIMS: Readonly<Record<string, readonly string[]>> = {
  profile: [
    'name',
    'family_name',
    'given_name',
    'middle_name',
    'nickname',
    'preferred_username',
    'profile',
    'picture',
    'website',
    'gender',
    'birthdate',
    'zoneinfo',
    'locale',
    'updated_at',
  ],
  email: ['email', 'email_verified'],
  address: ['address'],
  phone: ['phone_number', 'phone_number_verified'],
};

/** The claims of `user` that the granted scopes ask for (§5.4). */
export function scopedClaims(user: TestUser | undefined, scopes: readonly string[]): Record<string, unknown> {
  const claims: Record<string, unknown> = {};
  for (const scope of scopes) {
    for (const name of SCOPE_CLAIMS[scope] ?? []) {
      if (user?.claims?.[name] !== undefined) claims[name] = user.claims[name];
    }
  }
  return claims;
}

/**
 * A verifier of this issuer's own JWT access tokens (RFC 9068 `at+jwt`), Bearer or DPoP:
 * its JWKS comes straight from the key ring (no HTTP), refetched on every unknown `kid`.
 */
export function createAccessTokenVerifier(ctx: SignContext, jwksUri: string): JwtVerifier {
  const jwks = (): Promise<Response> => Promise.resolve(json(200, ctx.keys.jwks()));
  return new JwtVerifier({
    issuer: ctx.issuer,
    audience: null,
    typ: 'at+jwt',
    jwksUri,
    fetch: jwks,
    allowInsecureHttp: true,
    now: ctx.now,
    cache: { cooldownMs: 0, maxAgeMs: 0 },
    dpop: { replay: createMemoryDpopReplayStore({ max: 10_000, now: ctx.now }) },
  });
}

/** The user a token's `sub` names: a configured user, else `{ sub }` (`undefined` without `sub`). */
export function userOf(ctx: IssuerContext, sub: unknown): TestUser | undefined {
  if (typeof sub !== 'string') return undefined;
  return ctx.users.find((user) => user.sub === sub) ?? { sub };
}

/** The client a token names, as the issuer knows it, else `{ clientId }`. */
export function clientOf(ctx: IssuerContext, clientId: string): TestClient {
  return ctx.clients.find(clientId).client ?? { clientId };
}

/**
 * The request with an RFC 6750 §2.2 form-body `access_token` moved into an `Authorization`
 * header, or the 400 for a request that sends its token twice (§2: only one method).
 */
async function withFormToken(request: Request): Promise<Request | Response> {
  if (request.method !== 'POST') return request;
  if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers.get('content-type') ?? '')) {
    return request;
  }
  const token = new URLSearchParams(await request.clone().text()).get('access_token');
  if (token === null) return request;
  if (request.headers.has('authorization')) {
    return oauthError(
      400,
      'invalid_request',
      'the access token was sent both in the header and in the body',
      {
        'www-authenticate': 'Bearer error="invalid_request"',
      },
    );
  }
  const headers = new Headers(request.headers);
  headers.set('authorization', `Bearer ${token}`);
  return new Request(request.url, { method: 'GET', headers });
}

/** A Bearer opaque token this issuer issued and still vouches for: its claims. */
function opaqueClaims(ctx: IssuerContext, request: Request): Record<string, unknown> | undefined {
  const match = /^Bearer +([^\s]+)$/i.exec(request.headers.get('authorization') ?? '');
  const claims = match ? ctx.opaqueTokens.find(match[1]!) : undefined;
  if (!claims) return undefined;
  return typeof claims.exp === 'number' && claims.exp * 1000 <= ctx.now() ? undefined : claims;
}

/**
 * The userinfo endpoint (OpenID Connect Core §5.3), GET or POST: the access token in the
 * `Authorization` header (Bearer, or DPoP with its proof, RFC 9449 §7) or, for POST, the
 * form's `access_token` (RFC 6750 §2.2). The answer is `sub` and the configured user's
 * claims of the granted scopes (§5.4), then what `onUserinfo` hooks add. A missing or bad
 * token gets 401 with an RFC 6750 challenge; a token without `openid` gets 403
 * `insufficient_scope`.
 */
export async function userinfo(ctx: IssuerContext, request: Request): Promise<Response> {
  if (request.method !== 'GET' && request.method !== 'POST') {
    return oauthError(405, 'invalid_request', `use GET or POST, not ${request.method}`, {
      allow: 'GET, POST, OPTIONS',
    });
  }
  const checked = await withFormToken(request);
  if (checked instanceof Response) return checked;
  let payload = opaqueClaims(ctx, checked);
  let scheme = 'Bearer';
  if (
    payload &&
    !String(payload.scope ?? '')
      .split(' ')
      .includes('openid')
  ) {
    return json(
      403,
      { error: 'insufficient_scope', error_description: 'the access token was not granted the openid scope' },
      {
        'www-authenticate': 'Bearer error="insufficient_scope", scope="openid"',
        'cache-control': 'no-store',
      },
    );
  }
  if (!payload) {
    const result = await authenticate(ctx.accessTokens, checked, { requiredScopes: 'openid' });
    if (!result.ok) {
      const { error, error_description: description } = result.body;
      return json(
        result.status,
        { error, error_description: description },
        { ...result.headers, 'cache-control': 'no-store' },
      );
    }
    payload = result.token.payload;
    if (result.token.dpop) scheme = 'DPoP';
  }
  const sub = payload.sub;
  if (typeof sub !== 'string') {
    return json(
      401,
      { error: 'invalid_token', error_description: 'the access token has no subject' },
      { 'www-authenticate': `${scheme} error="invalid_token"`, 'cache-control': 'no-store' },
    );
  }
  const user = userOf(ctx, sub);
  const claims = { sub, ...scopedClaims(user, String(payload.scope ?? '').split(' ')) };
  const clientId = typeof payload.client_id === 'string' ? payload.client_id : '';
  const added = await ctx.hooks.run('userinfo', {
    grantType: 'userinfo',
    client: clientOf(ctx, clientId),
    user,
    claims,
    request,
  });
  if (added instanceof Response) return added;
  // §5.3.2: sub is the token's, whatever a hook returns.
  return json(200, { ...claims, ...added, sub }, { 'cache-control': 'no-store' });
}

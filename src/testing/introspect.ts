// The stub issuer's token introspection endpoint (RFC 7662).
import { createLocalJWKSet, jwtVerify } from 'jose';
import type { IssuerContext } from './context.js';
import { signCompact } from './jws.js';
import { json, oauthError } from './responses.js';
import { readClientRequest } from './token.js';

/** The claims of a token the issuer vouches for now: an opaque one it issued, or a JWT it signed. */
async function activeClaims(ctx: IssuerContext, token: string): Promise<Record<string, unknown> | undefined> {
  const opaque = ctx.opaqueTokens.find(token);
  if (opaque) {
    const { exp } = opaque;
    return typeof exp === 'number' && exp * 1000 <= ctx.now() ? undefined : opaque;
  }
  try {
    const options = { issuer: ctx.issuer, currentDate: new Date(ctx.now()) };
    return (await jwtVerify(token, createLocalJWKSet(ctx.keys.jwks()), options)).payload;
  } catch {
    return undefined;
  }
}

/**
 * The introspection endpoint (RFC 7662): the client authenticates as at the token
 * endpoint; the answer is `{ active: true, token_type: 'Bearer', ...claims }` for an opaque
 * token it issued (until its `exp`, unless revoked) or a valid JWT it signed, else
 * `{ active: false }`. Asked with `Accept: application/token-introspection+jwt`, the answer
 * comes signed (RFC 9701) with the issuer's key: `aud` is the client.
 */
export async function introspect(ctx: IssuerContext, request: Request): Promise<Response> {
  const checked = await readClientRequest(ctx, request);
  if (checked instanceof Response) return checked;
  const token = checked.form.get('token');
  if (!token) return oauthError(400, 'invalid_request', 'token is required');
  const claims = await activeClaims(ctx, token);
  const answer = claims ? { active: true, token_type: 'Bearer', ...claims } : { active: false };
  const headers = { 'cache-control': 'no-store' };
  if (!/application\/token-introspection\+jwt/i.test(request.headers.get('accept') ?? '')) {
    return json(200, answer, headers);
  }
  const key = ctx.keys.signing();
  const jwt = await signCompact(
    { alg: key.alg, kid: key.kid, typ: 'token-introspection+jwt' },
    {
      iss: ctx.issuer,
      aud: checked.clientId,
      iat: Math.floor(ctx.now() / 1000),
      token_introspection: answer,
    },
    key.privateKey,
  );
  return new Response(jwt, {
    headers: { 'content-type': 'application/token-introspection+jwt', ...headers },
  });
}

/** Token exchange (RFC 8693) at the token endpoint: a token this issuer issued, for another audience, narrower scope, an actor. */
import { type JWTPayload, createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { normalizeTyp } from '../verify/claims.js';
import type { IssuerContext } from './context.js';
import { type Grant, normalizeScope } from './grants.js';
import { oauthError } from './responses.js';

/** RFC 8693 §2.1: the grant type. */
export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';

const TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:';
/** RFC 8693 §3: the token types a subject or actor token may have here. */
const INPUT_TYPES = ['access_token', 'id_token', 'jwt'].map((type) => TOKEN_TYPE + type);
/** What can be asked for: a JWT access token either way. */
const OUTPUT_TYPES = ['access_token', 'jwt'].map((type) => TOKEN_TYPE + type);

/** What an exchange issues: the grant, the claims on top (`act`) and `issued_token_type`. */
export interface Exchange {
  grant: Grant;
  claims: Record<string, unknown>;
  issuedTokenType: string;
}

const invalidRequest = (description: string) => oauthError(400, 'invalid_request', description);

/** The audiences the issuer knows: its `audience` and its protected resources. */
function knownTargets(ctx: IssuerContext): readonly string[] {
  const audience = typeof ctx.audience === 'string' ? [ctx.audience] : ctx.audience;
  return [...audience, ...ctx.protectedResources];
}

/**
 * The claims of a token this issuer issued and still vouches for, of the declared type: an
 * opaque access token, a JWT access token (`at+jwt`), an ID token (not `at+jwt`), or for
 * `jwt` either. `undefined` when it is not one.
 */
async function issuedClaims(
  ctx: IssuerContext,
  token: string,
  type: string,
): Promise<JWTPayload | undefined> {
  const opaque = ctx.opaqueTokens.find(token);
  if (opaque) {
    const live = !(typeof opaque.exp === 'number' && opaque.exp * 1000 <= ctx.now());
    return live && type === `${TOKEN_TYPE}access_token` ? opaque : undefined;
  }
  try {
    const { payload } = await jwtVerify(token, createLocalJWKSet(ctx.keys.jwks()), {
      issuer: ctx.issuer,
      currentDate: new Date(ctx.now()),
    });
    const accessToken = normalizeTyp(String(decodeProtectedHeader(token).typ ?? '')) === 'at+jwt';
    if (type === `${TOKEN_TYPE}access_token` && !accessToken) return undefined;
    if (type === `${TOKEN_TYPE}id_token` && accessToken) return undefined;
    return payload;
  } catch {
    return undefined;
  }
}

/** A token parameter and its type, verified; the RFC 8693 §2.2.2 `invalid_request` otherwise. */
async function readToken(
  ctx: IssuerContext,
  form: URLSearchParams,
  name: 'subject' | 'actor',
): Promise<JWTPayload | Response | undefined> {
  const token = form.get(`${name}_token`);
  const type = form.get(`${name}_token_type`);
  if (token === null && type === null && name === 'actor') return undefined;
  if (!token) return invalidRequest(`${name}_token is required`);
  if (!type) return invalidRequest(`${name}_token_type is required with ${name}_token`);
  if (!INPUT_TYPES.includes(type)) {
    return invalidRequest(`${name}_token_type must be one of ${INPUT_TYPES.join(', ')}`);
  }
  const claims = await issuedClaims(ctx, token, type);
  if (!claims)
    return invalidRequest(`the ${name}_token is not a valid ${type.slice(TOKEN_TYPE.length)} of this issuer`);
  if (typeof claims.sub !== 'string') return invalidRequest(`the ${name}_token has no sub`);
  return claims;
}

/** The audience of the new token: what `audience` and `resource` ask for, each allowed, else the subject's. */
function targetOf(ctx: IssuerContext, form: URLSearchParams, clientId: string, subject: JWTPayload) {
  const asked = [...form.getAll('audience'), ...form.getAll('resource')];
  const allowed = ctx.clients.find(clientId).client?.tokenExchange?.audiences ?? knownTargets(ctx);
  const refused = asked.filter((target) => !allowed.includes(target));
  if (refused.length) {
    return oauthError(
      400,
      'invalid_target',
      `no tokens for ${refused.join(', ')} from this client's exchange`,
    );
  }
  if (asked.length) return asked.length === 1 ? asked[0]! : [...new Set(asked)];
  // Without a target, the subject token's own audience if it is an access token's.
  const own = [subject.aud ?? []].flat().filter((aud) => allowed.includes(aud));
  return own.length === 1 ? own[0]! : own.length ? own : ctx.audience;
}

/**
 * Token exchange (RFC 8693 §2): the `subject_token` (an access or ID token of this issuer,
 * verified) becomes a JWT access token with the same `sub` for the `audience`/`resource`
 * asked (one this client may exchange for, else `invalid_target`), a scope no wider than
 * the subject's (`invalid_scope`), and with an `actor_token`, `act: { sub }` over the
 * subject's own `act` (§4.1). A client with `tokenExchange: { audiences: [] }` gets
 * `unauthorized_client`.
 */
export async function tokenExchange(
  ctx: IssuerContext,
  form: URLSearchParams,
  clientId: string,
): Promise<Exchange | Response> {
  const allowed = ctx.clients.find(clientId).client?.tokenExchange?.audiences;
  if (allowed?.length === 0) {
    return oauthError(400, 'unauthorized_client', `client ${clientId} may not exchange tokens`);
  }
  const requested = form.get('requested_token_type') ?? `${TOKEN_TYPE}access_token`;
  if (!OUTPUT_TYPES.includes(requested)) {
    return invalidRequest(`requested_token_type must be one of ${OUTPUT_TYPES.join(', ')}`);
  }
  const subject = await readToken(ctx, form, 'subject');
  if (subject instanceof Response || subject === undefined) return subject!;
  const actor = await readToken(ctx, form, 'actor');
  if (actor instanceof Response) return actor;
  const mayAct = (subject.may_act as { sub?: unknown } | undefined)?.sub;
  if (actor && mayAct !== undefined && mayAct !== actor.sub) {
    return invalidRequest('the subject_token does not allow this actor (may_act)');
  }
  const audience = targetOf(ctx, form, clientId, subject);
  if (audience instanceof Response) return audience;

  const granted = normalizeScope(typeof subject.scope === 'string' ? subject.scope : null).split(' ');
  const asked = form.has('scope') ? normalizeScope(form.get('scope')) : granted.join(' ');
  const wider = asked.split(' ').filter((scope) => scope && !granted.includes(scope));
  if (wider.length)
    return oauthError(400, 'invalid_scope', `the subject_token was not granted ${wider.join(' ')}`);

  const act = actor ? { sub: actor.sub, ...(subject.act ? { act: subject.act } : {}) } : subject.act;
  return {
    grant: { clientId, subject: subject.sub!, scope: asked, audience },
    claims: act === undefined ? {} : { act },
    issuedTokenType: requested,
  };
}

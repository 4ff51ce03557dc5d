/** RFC 7662 token introspection and RFC 9701 signed answers: the request, the answer, its cache. */
import { type ClientSecretMethod, basicAuthorization } from '../issuer/client-auth.js';
import { type JsonResponse, type ResolvedHttpOptions, requestJson, unavailable } from '../issuer/http.js';
import type { JwtHeader, JwtPayload } from '../token/parse.js';

/** RFC 9701 §4: the media type a resource server asks for to get a signed answer. */
export const INTROSPECTION_JWT_MEDIA_TYPE = 'application/token-introspection+jwt';

/** How the resource server authenticates at the introspection endpoint (RFC 7662 §2.1). */
export interface IntrospectionClient {
  clientId: string;
  clientSecret: string;
  method: ClientSecretMethod;
}

/** What the issuer said about one token. */
export interface IntrospectionAnswer {
  readonly active: boolean;
  /** The answer's members (RFC 7662 §2.2); with RFC 9701, the `token_introspection` object. */
  readonly payload: JwtPayload;
  /** The verified header of an RFC 9701 answer; `{ alg: 'none' }` for a plain JSON one. */
  readonly header: JwtHeader;
  /** Why an inactive answer is inactive, when the server said more than `active: false`. */
  readonly reason?: string;
}

/** An answer as it came: JSON members, or the RFC 9701 JWT still to be verified. */
export type IntrospectionResponse =
  { kind: 'answer'; answer: IntrospectionAnswer } | { kind: 'jwt'; jwt: string };

/** The header of an answer that came as plain JSON: nothing was signed. */
const UNSIGNED: JwtHeader = { alg: 'none' };

/**
 * POSTs `token` (with `token_type_hint=access_token`) to the introspection endpoint,
 * authenticated as `client` (RFC 7662 §2.1). A 400 `unsupported_token_type` (what
 * oidc-provider answers for a JWT) is an inactive answer; any other failure, a 401 for bad
 * client credentials included, is `ERR_ISSUER_UNAVAILABLE`: never the caller's token's fault.
 */
export async function requestIntrospection(
  url: string,
  token: string,
  client: IntrospectionClient,
  http: ResolvedHttpOptions,
  jwtResponse: boolean,
): Promise<IntrospectionResponse> {
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: jwtResponse ? INTROSPECTION_JWT_MEDIA_TYPE : 'application/json',
  };
  const body = new URLSearchParams({ token, token_type_hint: 'access_token' });
  if (client.method === 'client_secret_basic') {
    headers.authorization = basicAuthorization(client.clientId, client.clientSecret);
  } else {
    body.set('client_id', client.clientId);
    body.set('client_secret', client.clientSecret);
  }
  const response = await requestJson(url, http, {
    method: 'POST',
    headers,
    body,
    acceptClientErrors: true,
    ignoreSuccessBody: jwtResponse,
  });
  if (response.status > 399) return { kind: 'answer', answer: refusal(url, response) };
  if (!jwtResponse) return { kind: 'answer', answer: readAnswer(response.body, url) };
  // The signature is what proves the answer; a JSON one means the server did not sign it.
  const type = response.headers.get('content-type') ?? '';
  if (/json/i.test(type)) {
    throw unavailable(
      url,
      `answered ${type.split(';')[0]}, not the signed ${INTROSPECTION_JWT_MEDIA_TYPE} asked for (RFC 9701): is the client registered for signed introspection responses?`,
      response.status,
    );
  }
  return { kind: 'jwt', jwt: response.text.trim() };
}

/** The members of an answer (a JSON object whose `active` is a boolean, RFC 7662 §2.2). */
export function readAnswer(value: unknown, url: string, header: JwtHeader = UNSIGNED): IntrospectionAnswer {
  const payload = value as JwtPayload | null | undefined;
  if (typeof payload !== 'object' || payload === null || typeof payload.active !== 'boolean') {
    throw unavailable(
      url,
      'answered with no JSON object with a boolean "active" member (RFC 7662 section 2.2)',
    );
  }
  return { active: payload.active, payload, header };
}

/** A 4xx answer: a 400 `unsupported_token_type` refuses the token; anything else is the server's problem. */
function refusal(url: string, { status, body }: JsonResponse): IntrospectionAnswer {
  const { error, error_description: description } = (body ?? {}) as Record<string, unknown>;
  const said = `${typeof error === 'string' ? ` ${error}` : ''}${typeof description === 'string' ? `: ${description}` : ''}`;
  if (status !== 400 || error !== 'unsupported_token_type') {
    throw unavailable(url, `answered ${status}${said}`, status);
  }
  return { active: false, payload: { active: false }, header: UNSIGNED, reason: said.trim() };
}

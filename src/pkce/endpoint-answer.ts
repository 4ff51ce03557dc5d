/**
 * How the token helpers and registerClient read a 4xx from an OAuth endpoint: a JSON body
 * with a string `error` is the endpoint's own error (RFC 6749 §5.2, RFC 7591 §3.2.2); any
 * other 4xx is a refusal whose body excerpt has every secret the request carried blanked out.
 */
import { type JsonResponse, retryAfterSeconds } from '../issuer/http.js';
import { type OAuthEndpointError, type OAuthErrorFields, TokenEndpointRefusedError } from './errors.js';

type OAuthErrorClass = new (
  status: number,
  error: string,
  message: string,
  fields: OAuthErrorFields & { retryAfterSeconds?: number | undefined },
) => OAuthEndpointError;

/** `value` when it is a string, else undefined. */
export const stringOrUndefined = (value: unknown) => (typeof value === 'string' ? value : undefined);

/** `value` as it appears in an application/x-www-form-urlencoded body. */
export const formEncoded = (value: string) => new URLSearchParams({ v: value }).toString().slice(2);

/**
 * Throws for a 4xx answer (`OAuthError` with the server's code, else
 * `TokenEndpointRefusedError`); returns for any other status. `secrets` are the values sent
 * that must not come back in a message (what came may echo the request: a debugging proxy, a
 * form shown again), blanked out as sent and form-encoded.
 */
export function refuseClientError(
  url: string,
  { status, headers, body, text }: JsonResponse,
  OAuthError: OAuthErrorClass,
  secrets: readonly (string | undefined)[],
): void {
  if (status < 400) return;
  const { error, error_description: description, error_uri } = (body ?? {}) as Record<string, unknown>;
  const retryAfter = retryAfterSeconds(headers.get('retry-after'));
  if (stringOrUndefined(error)) {
    throw new OAuthError(
      status,
      error as string,
      `${url} answered ${error}${description ? `: ${description}` : ''}`,
      {
        error_description: stringOrUndefined(description),
        error_uri: stringOrUndefined(error_uri),
        retryAfterSeconds: retryAfter,
      },
    );
  }
  let excerpt = text;
  for (const secret of secrets)
    if (secret)
      excerpt = excerpt.replaceAll(secret, '[redacted]').replaceAll(formEncoded(secret), '[redacted]');
  excerpt = excerpt.replace(/[\0- \x7f]+/g, ' ').trim();
  if (excerpt.length > 100) excerpt = `${excerpt.slice(0, 97)}...`;
  throw new TokenEndpointRefusedError(
    status,
    `${url} answered ${status} without an OAuth error${excerpt ? `: ${excerpt}` : ' (empty body)'}`,
    excerpt,
    retryAfter,
  );
}

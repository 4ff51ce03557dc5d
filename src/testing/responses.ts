/** Response helpers shared by the endpoints. */

/** A JSON response. */
export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

/**
 * An RFC 6749 §5.2 error response. Token responses, errors included, must not be cached
 * (§5.1).
 */
export function oauthError(
  status: number,
  error: string,
  description: string,
  headers: Record<string, string> = {},
): Response {
  return json(
    status,
    { error, error_description: description },
    { 'cache-control': 'no-store', pragma: 'no-cache', ...headers },
  );
}

/** An HTML error page, as a proxy or a misconfigured server sends instead of JSON. */
export function htmlPage(status: number, headers: Record<string, string> = {}): Response {
  const title = `${status} Error`;
  return new Response(
    `<!DOCTYPE html>\n<html><head><title>${title}</title></head><body><h1>${title}</h1><p>Something went wrong.</p></body></html>\n`,
    { status, headers: { 'content-type': 'text/html; charset=utf-8', ...headers } },
  );
}

/**
 * Allows any origin to read every answer, so an SPA served from another port can call the
 * token endpoint and fetch the metadata and JWKS. No credentials (cookies) are involved.
 */
export function withCors(response: Response, request: Request): Response {
  const headers = response.headers;
  headers.set('access-control-allow-origin', '*');
  headers.set('access-control-expose-headers', 'www-authenticate, retry-after, location, etag, dpop-nonce');
  if (request.method === 'OPTIONS') {
    headers.set('access-control-allow-methods', 'GET, HEAD, POST, OPTIONS');
    headers.set(
      'access-control-allow-headers',
      request.headers.get('access-control-request-headers') ?? 'authorization, content-type',
    );
    headers.set('access-control-max-age', '600');
  }
  return response;
}

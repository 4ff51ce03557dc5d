/** request/: a URL in the form DPoP compares `htu` in (RFC 9449 §4.3 check 9): RFC 3986 normalised, query and fragment dropped. */

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * An absolute `http(s)` URL in the form `htu` is compared in, or `undefined` when `value`
 * is not one. RFC 3986 §6.2.2 syntax-based normalisation: scheme and host in lower case,
 * the default port dropped, dot segments removed, an empty path as `/` (the WHATWG URL
 * parser does these), percent-encoded unreserved characters decoded and the hex digits
 * of the other triplets in upper case; then the query and fragment dropped (§4.3: they
 * are not compared). Userinfo stays, so a URL with it matches no request.
 */
export function normalizeHtu(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return undefined;
  url.search = '';
  url.hash = '';
  url.pathname = url.pathname.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
  return url.href;
}

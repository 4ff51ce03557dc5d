/** request/: a URL in the form DPoP compares `htu` in (RFC 9449 §4.3 check 9): RFC 3986 normalised, query and fragment dropped. */

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;
const MAX_KNOWN_URLS = 256;
const MAX_KNOWN_URL_LENGTH = 2048;

/**
 * A bounded memo of what URLs normalise to, keyed by their text up to the query or fragment,
 * which the result never holds: a client calls the same few URLs, and parsing one costs
 * more than the rest of a proof's claim checks. So a query (which may carry an
 * `access_token`, RFC 6750 §2.3) is never kept. The text before the first `?` or `#` parses
 * to the same scheme, host and path as the whole URL, unless it ends in a space or control
 * character, which the URL parser trims from the end of the text only: such a URL, and a
 * long one, is computed each time. Only results are kept; a refusal is computed again from
 * the whole text.
 */
export class UrlMemo {
  readonly #entries = new Map<string, string>();
  readonly #compute: (url: string) => string | undefined;
  #lastKey: string | undefined;
  #lastResult: string | undefined;

  constructor(compute: (url: string) => string | undefined) {
    this.#compute = compute;
  }

  /** `compute(url without query and fragment)`, remembered. */
  get(url: string): string | undefined {
    const query = url.indexOf('?');
    const fragment = url.indexOf('#');
    const end = query === -1 ? fragment : fragment === -1 ? query : Math.min(query, fragment);
    if (
      end === -1
        ? url.length > MAX_KNOWN_URL_LENGTH
        : end > MAX_KNOWN_URL_LENGTH || url.charCodeAt(end - 1) <= 0x20
    ) {
      return this.#compute(url);
    }
    const key = end === -1 ? url : url.slice(0, end);
    // Most requests go where the one before went: comparing costs less than hashing.
    if (key === this.#lastKey) return this.#lastResult;
    const known = this.#entries.get(key);
    if (known !== undefined) {
      this.#lastKey = key;
      this.#lastResult = known;
      return known;
    }
    let result: string | undefined;
    try {
      result = this.#compute(key);
    } catch {
      result = undefined;
    }
    // A refusal comes from the whole text, as without the memo (its message names it).
    if (result === undefined) return this.#compute(url);
    if (this.#entries.size >= MAX_KNOWN_URLS) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, result);
    return result;
  }
}

/** {@link normalizeHtu} without the memo: what the memo must agree with. */
export function normalizeHtuUncached(value: string): string | undefined {
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

const normalized = new UrlMemo(normalizeHtuUncached);

/**
 * An absolute `http(s)` URL in the form `htu` is compared in, or `undefined` when `value`
 * is not one. RFC 3986 §6.2.2 syntax-based normalisation: scheme and host in lower case,
 * the default port dropped, dot segments removed, an empty path as `/` (the WHATWG URL
 * parser does these), percent-encoded unreserved characters decoded and the hex digits
 * of the other triplets in upper case; then the query and fragment dropped (§4.3: they
 * are not compared). Userinfo stays, so a URL with it matches no request.
 */
export function normalizeHtu(value: string): string | undefined {
  return normalized.get(value);
}

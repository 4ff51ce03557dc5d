/** The verifier's extras to the HTTP core: same-origin redirects, the server's error text, Retry-After. */
import {
  type HttpExtras,
  type HttpOptions,
  type ResolvedHttpOptions,
  resolveBaseHttpOptions,
  retryAfterSeconds,
  unavailable,
} from './http.js';

// The verifier's transport: the shared core (./http.ts, also in the browser bundle of ./pkce)
// plus same-origin redirects, the server's own error text and Retry-After.
const MAX_REDIRECTS = 3;

const VERIFIER_EXTRAS: HttpExtras = {
  follow(current, response, hop) {
    const { status, headers } = response;
    void response.body?.cancel().catch(() => undefined);
    const location = headers.get('location');
    if (!location) throw unavailable(current, `answered ${status} without a Location`, status);
    const target = new URL(location, current);
    if (target.origin !== new URL(current).origin) {
      throw unavailable(
        current,
        `redirected to another origin (${target.origin}); cross-origin redirects are not followed`,
        status,
      );
    }
    if (hop + 1 >= MAX_REDIRECTS)
      throw unavailable(current, `redirected more than ${MAX_REDIRECTS} times`, status);
    return target.href;
  },
  explain(response, text) {
    const message = serverErrorMessage(text);
    return {
      message: `${response.statusText ? ` ${response.statusText}` : ''}${message ? `: ${message}` : ''}`,
      retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after')),
    };
  },
  notJson(response) {
    const type = response.headers.get('content-type');
    return ` (${type ? `content-type ${type.split(';')[0]}` : 'no content-type'})`;
  },
  cause(error) {
    const cause = (error as { cause?: unknown } | undefined)?.cause;
    return cause instanceof Error && cause.message ? ` (${cause.message})` : '';
  },
};

/** Checks and defaults the {@link HttpOptions} for the verifier (with redirects and Retry-After). */
export function resolveHttpOptions(options: HttpOptions = {}): ResolvedHttpOptions {
  return { ...resolveBaseHttpOptions(options), extras: VERIFIER_EXTRAS };
}

/**
 * The server's own explanation from an error body: `message` (the Archera seed's
 * `ApiErrorResponse`), OAuth's `error_description`/`error`, or a short plain-text body.
 */
export function serverErrorMessage(text: string): string | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  try {
    const body: unknown = JSON.parse(trimmed);
    if (body && typeof body === 'object') {
      const record = body as Record<string, unknown>;
      for (const key of ['message', 'error_description', 'error', 'detail', 'title']) {
        const value = record[key];
        if (typeof value === 'string' && value) return shorten(value);
      }
    }
    return undefined;
  } catch {
    if (/^<(!doctype|html)/i.test(trimmed)) return 'an HTML page';
    return shorten(trimmed);
  }
}

function shorten(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > 200 ? `${oneLine.slice(0, 197)}...` : oneLine;
}

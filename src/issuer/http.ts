/** The HTTP core: JSON over `fetch` within a timeout and a size cap, shared by the verifier and the browser bundle of ./pkce. */
import { JwtVerifyError, type JwtVerifyErrorDetails } from '../errors.js';
import { functionOption, nonNegativeNumberOption } from '../option-checks.js';

// The transport core shared by the verifier and the browser bundle of ./pkce, kept small
// on purpose (scripts/size.mjs measures it). Redirect following and the server's error
// text and Retry-After are verifier extras that http.ts plugs in through `extras`; the
// Retry-After parser itself lives here, for the token helpers of ./pkce too.

/** A `fetch`-compatible function: the global `fetch`, undici's, or a test double. */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** How the library talks HTTP: shared by discovery, the JWKS cache and the PKCE helpers. */
export interface HttpOptions {
  /** Default: the global `fetch`, looked up on every request (so msw's patch applies). */
  fetch?: FetchLike;
  /** Per request, headers and body included. Default 5000. */
  timeoutMs?: number;
  /** Extra request headers (e.g. a `User-Agent`). */
  headers?: Record<string, string>;
  /** Largest response body accepted, in bytes. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Allow `http:` URLs to non-loopback hosts. Default false. */
  allowInsecureHttp?: boolean;
}

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_RESPONSE_BYTES = 1024 * 1024;

export interface JsonResponse {
  status: number;
  headers: Headers;
  /**
   * `undefined` for a 304 answer to a conditional request, with `ignoreSuccessBody`, or for
   * a 4xx (with `acceptClientErrors`) whose body is not JSON.
   */
  body: unknown;
  /** The body as read (`''` for a 304). */
  text: string;
}

export interface ResolvedHttpOptions {
  fetch: FetchLike | undefined;
  timeoutMs: number;
  headers: Record<string, string>;
  maxResponseBytes: number;
  allowInsecureHttp: boolean;
  /** Redirects, the server's error text and Retry-After; http.ts sets them for the verifier. */
  extras?: HttpExtras;
}

/** What the verifier adds to {@link requestJson} and the browser bundle leaves out. */
export interface HttpExtras {
  /** The URL to follow a 3xx answer to, or throws. Without extras a 3xx is an error. */
  follow(current: string, response: Response, hop: number): string;
  /** Text to append to the message of an error answer (status text, the server's words), and its Retry-After in seconds. */
  explain(response: Response, text: string): { message: string; retryAfterSeconds: number | undefined };
  /** Text to append to the message about a body that is not JSON (its content-type). */
  notJson(response: Response): string;
  /** Text to append to the message about a failed fetch (the underlying cause's message). */
  cause(error: unknown): string;
}

/** Checks and defaults the {@link HttpOptions}, without the verifier's extras. */
export function resolveBaseHttpOptions(options: HttpOptions = {}): ResolvedHttpOptions {
  return {
    fetch: functionOption(options.fetch, 'fetch'),
    timeoutMs: nonNegativeNumberOption(options.timeoutMs, 'timeoutMs', DEFAULT_TIMEOUT_MS),
    headers: { ...options.headers },
    maxResponseBytes: nonNegativeNumberOption(
      options.maxResponseBytes,
      'maxResponseBytes',
      DEFAULT_MAX_RESPONSE_BYTES,
    ),
    allowInsecureHttp: options.allowInsecureHttp === true,
  };
}

const MAX_RETRY_AFTER_SECONDS = 300;

/** Retry-After as seconds (delta-seconds or HTTP-date), capped at five minutes. */
export function retryAfterSeconds(value: string | null, nowMs = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  let seconds: number;
  if (/^\d+$/.test(trimmed)) seconds = Number(trimmed);
  else {
    const date = Date.parse(trimmed);
    if (Number.isNaN(date)) return undefined;
    seconds = Math.ceil((date - nowMs) / 1000);
  }
  return Math.min(Math.max(seconds, 0), MAX_RETRY_AFTER_SECONDS);
}

/** `ERR_ISSUER_UNAVAILABLE` about `url`; the message starts with the URL. */
export function unavailable(
  url: string,
  text: string,
  status?: number,
  cause?: unknown,
  retryAfter?: number,
): JwtVerifyError {
  const details: JwtVerifyErrorDetails = { url };
  if (status !== undefined) details.issuerStatus = status;
  if (retryAfter !== undefined) details.retryAfterSeconds = retryAfter;
  return new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', `${url} ${text}`, { cause, details });
}

export interface RequestJsonInit {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  /**
   * Resolve a 4xx answer instead of raising `ERR_ISSUER_UNAVAILABLE`, with its `text` and
   * its `body` parsed (`undefined` when it is not JSON): the caller decides what the refusal
   * means. 5xx answers stay errors.
   */
  acceptClientErrors?: boolean;
  /**
   * Resolve a 2xx answer with `body: undefined` without parsing it (the body is still read
   * within the size cap). For endpoints whose success body means nothing, e.g. RFC 7009 §2.2
   * revocation, which may answer 200 with an empty body.
   */
  ignoreSuccessBody?: boolean;
}

/**
 * Fetches a URL and parses its JSON body, within the timeout and size cap.
 * Any failure becomes `ERR_ISSUER_UNAVAILABLE` naming the URL and the status (a 4xx
 * resolves instead with `acceptClientErrors`). With
 * `http.extras` (the verifier's, from http.ts) same-origin redirects are followed and the
 * server's own message and Retry-After are reported; without them a 3xx is an error.
 */
export async function requestJson(
  url: string,
  http: ResolvedHttpOptions,
  init: RequestInit & RequestJsonInit = {},
): Promise<JsonResponse> {
  const controller = new AbortController();
  const { extras, timeoutMs } = http;
  const { acceptClientErrors, ignoreSuccessBody, ...request } = init;
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  (timer as { unref?: () => void }).unref?.();
  let current = url;
  try {
    for (let hop = 0; ; hop++) {
      const fetchImpl = http.fetch ?? (globalThis.fetch as FetchLike | undefined);
      if (!fetchImpl) throw Error('no fetch on this runtime: pass the fetch option');
      const response = await fetchImpl(current, {
        ...request,
        headers: { accept: 'application/json', ...http.headers, ...init.headers },
        redirect: 'manual',
        signal: controller.signal,
      });
      const { status, headers, ok } = response;
      const refused = acceptClientErrors && status > 399 && status < 500;
      let text = '';
      const answer = (body?: unknown) => ({ status, headers, body, text });
      if (status === 304) return answer();
      // A browser hides manual redirects behind an opaque response.
      if (response.type === 'opaqueredirect')
        throw unavailable(current, 'answered with a redirect, not followed here');
      if (status > 299 && status < 400 && extras) {
        current = extras.follow(current, response, hop);
        continue;
      }
      text = await readCapped(current, response, http.maxResponseBytes);
      if (!ok && !refused) {
        const extra = extras?.explain(response, text);
        throw unavailable(
          current,
          `answered ${status}${extra?.message ?? ''}`,
          status,
          undefined,
          extra?.retryAfterSeconds,
        );
      }
      if (ok && ignoreSuccessBody) return answer();
      try {
        return answer(JSON.parse(text));
      } catch (cause) {
        if (refused) return answer();
        throw unavailable(
          current,
          `answered ${status} with a body that is not JSON${extras?.notJson(response) ?? ''}`,
          status,
          cause,
        );
      }
    }
  } catch (error) {
    if (error instanceof JwtVerifyError) throw error;
    throw unavailable(
      url,
      controller.signal.aborted
        ? `did not answer within ${timeoutMs} ms`
        : `could not be fetched: ${(error as Error)?.message ?? error}${extras?.cause(error) ?? ''}`,
      undefined,
      error,
    );
  } finally {
    clearTimeout(timer);
  }
}

/** The body as text, refusing more than `maxBytes` (declared or streamed). */
async function readCapped(url: string, response: Response, maxBytes: number): Promise<string> {
  const { body } = response;
  const reader = body?.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let total = Number(response.headers.get('content-length'));
  if (!(total > maxBytes)) total = 0;
  while (reader && total <= maxBytes) {
    const { done, value } = await reader.read();
    if (done) return text + decoder.decode();
    total += value.byteLength;
    text += decoder.decode(value, { stream: true });
  }
  void (reader ?? body)?.cancel().catch(() => undefined);
  if (total <= maxBytes) return text;
  throw unavailable(url, `sent a body larger than the ${maxBytes}-byte limit`, response.status);
}

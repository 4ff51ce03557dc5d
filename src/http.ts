import { JwtVerifyError, invalidArgument } from './errors.js';

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
const MAX_REDIRECTS = 3;
const MAX_RETRY_AFTER_SECONDS = 300;

export interface JsonResponse {
  status: number;
  headers: Headers;
  /** `undefined` for a 304 answer to a conditional request, or with `ignoreSuccessBody`. */
  body: unknown;
}

/** True for `localhost`, 127.0.0.0/8 and `[::1]` (RFC 8252 §8.3 loopback). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
  );
}

/** Whether a URL may carry keys or metadata: HTTPS, or HTTP to a loopback host, or opted in. */
export function isSecureUrl(url: URL, allowInsecureHttp = false): boolean {
  if (url.protocol === 'https:') return true;
  return url.protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname));
}

/** Parses a URL given in options; a bad one is the caller's mistake, so a TypeError now. */
export function parseOptionUrl(value: unknown, name: string, allowInsecureHttp = false): URL {
  if (typeof value !== 'string' && !(value instanceof URL)) {
    throw invalidArgument(`${name} must be a URL string`);
  }
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    throw invalidArgument(`${name} is not a valid URL: ${JSON.stringify(String(value))}`);
  }
  if (!isSecureUrl(url, allowInsecureHttp)) {
    throw invalidArgument(
      `${name} must use https: (http: is allowed only for loopback hosts or with allowInsecureHttp): ${url.href}`,
    );
  }
  return url;
}

/** Validates a `timeoutMs`-like option: a positive finite number, or the default. */
export function positiveNumberOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidArgument(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

export interface ResolvedHttpOptions {
  fetch: FetchLike | undefined;
  timeoutMs: number;
  headers: Record<string, string>;
  maxResponseBytes: number;
  allowInsecureHttp: boolean;
}

export function resolveHttpOptions(options: HttpOptions = {}): ResolvedHttpOptions {
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw invalidArgument('fetch must be a function');
  }
  return {
    fetch: options.fetch,
    timeoutMs: positiveNumberOption(options.timeoutMs, 'timeoutMs', DEFAULT_TIMEOUT_MS),
    headers: { ...options.headers },
    maxResponseBytes: positiveNumberOption(
      options.maxResponseBytes,
      'maxResponseBytes',
      DEFAULT_MAX_RESPONSE_BYTES,
    ),
    allowInsecureHttp: options.allowInsecureHttp === true,
  };
}

function unavailable(
  url: string,
  message: string,
  extra: { cause?: unknown; status?: number; retryAfterSeconds?: number } = {},
): JwtVerifyError {
  return new JwtVerifyError('ERR_ISSUER_UNAVAILABLE', message, {
    cause: extra.cause,
    details: {
      url,
      ...(extra.status === undefined ? {} : { issuerStatus: extra.status }),
      ...(extra.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: extra.retryAfterSeconds }),
    },
  });
}

export interface RequestJsonInit {
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string | URLSearchParams;
  /** HTTP statuses whose JSON body is returned instead of becoming an error. */
  acceptStatuses?: readonly number[];
  /**
   * Resolve a 2xx answer with `body: undefined` without parsing it (the body is still read
   * within the size cap). For endpoints whose success body means nothing, e.g. RFC 7009 §2.2
   * revocation, which may answer 200 with an empty body.
   */
  ignoreSuccessBody?: boolean;
}

/**
 * Fetches a URL and parses its JSON body, within the timeout and size cap.
 * Any failure becomes `ERR_ISSUER_UNAVAILABLE` naming the URL, the status and the server's
 * own message when it sent one. Redirects are followed only within the same origin.
 */
export async function requestJson(
  url: string,
  http: ResolvedHttpOptions,
  init: RequestInit & RequestJsonInit = {},
): Promise<JsonResponse> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), http.timeoutMs);
  (timer as { unref?: () => void }).unref?.();
  try {
    let current = url;
    for (let hop = 0; ; hop++) {
      const response = await send(current, http, init, controller.signal);
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        current = nextHop(current, response, hop);
        continue;
      }
      if (response.status === 304) return { status: 304, headers: response.headers, body: undefined };
      const text = await readCapped(current, response, http.maxResponseBytes);
      const ok = response.ok || init.acceptStatuses?.includes(response.status);
      if (!ok) throw httpError(current, response, text);
      if (response.ok && init.ignoreSuccessBody) {
        return { status: response.status, headers: response.headers, body: undefined };
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw unavailable(
          current,
          `${current} answered ${response.status} with a body that is not JSON (${describeContentType(response)})`,
          { cause, status: response.status },
        );
      }
      return { status: response.status, headers: response.headers, body };
    }
  } catch (error) {
    if (error instanceof JwtVerifyError) throw error;
    if (controller.signal.aborted) {
      throw unavailable(url, `${url} did not answer within ${http.timeoutMs} ms`, { cause: error });
    }
    throw unavailable(url, `${url} could not be fetched: ${errorText(error)}`, { cause: error });
  } finally {
    clearTimeout(timer);
  }
}

async function send(
  url: string,
  http: ResolvedHttpOptions,
  init: RequestInit & RequestJsonInit,
  signal: AbortSignal,
): Promise<Response> {
  const fetchImpl = http.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchImpl !== 'function') {
    throw unavailable(url, 'no fetch implementation: pass the fetch option on this runtime');
  }
  const response = await fetchImpl(url, {
    method: init.method ?? 'GET',
    headers: { accept: 'application/json', ...http.headers, ...init.headers },
    body: init.body,
    redirect: 'manual',
    signal,
  });
  if (response.type === 'opaqueredirect') {
    throw unavailable(url, `${url} answered with a redirect, which is not followed here`);
  }
  return response;
}

function nextHop(current: string, response: Response, hop: number): string {
  void response.body?.cancel().catch(() => undefined);
  const location = response.headers.get('location');
  if (!location) {
    throw unavailable(current, `${current} answered ${response.status} without a Location`, {
      status: response.status,
    });
  }
  const target = new URL(location, current);
  if (target.origin !== new URL(current).origin) {
    throw unavailable(
      current,
      `${current} redirected to another origin (${target.origin}); cross-origin redirects are not followed`,
      { status: response.status },
    );
  }
  if (hop + 1 >= MAX_REDIRECTS) {
    throw unavailable(current, `${current} redirected more than ${MAX_REDIRECTS} times`, {
      status: response.status,
    });
  }
  return target.href;
}

async function readCapped(url: string, response: Response, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    unavailable(url, `${url} sent a body larger than the ${maxBytes}-byte limit`, {
      status: response.status,
    });
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    void response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      void reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return new TextDecoder().decode(bytes);
}

function httpError(url: string, response: Response, text: string): JwtVerifyError {
  const serverMessage = serverErrorMessage(text);
  const statusText = response.statusText ? ` ${response.statusText}` : '';
  const suffix = serverMessage ? `: ${serverMessage}` : '';
  return unavailable(url, `${url} answered ${response.status}${statusText}${suffix}`, {
    status: response.status,
    retryAfterSeconds: retryAfterSeconds(response.headers.get('retry-after')),
  });
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

function describeContentType(response: Response): string {
  const type = response.headers.get('content-type');
  return type ? `content-type ${type.split(';')[0]}` : 'no content-type';
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    const cause = (error as { cause?: unknown }).cause;
    const causeText = cause instanceof Error && cause.message ? ` (${cause.message})` : '';
    return `${error.message}${causeText}`;
  }
  return String(error);
}

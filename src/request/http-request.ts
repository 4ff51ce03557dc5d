/** request/: the request as a resource server reads it (headers, method, URL, TLS socket), whatever its shape. */
import { JwtVerifyError, describeValue, invalidArgument } from '../errors.js';

/** A Fetch `Request` (Workers, Deno, Bun, Hono), or anything with `method`, `url` and Fetch `Headers`. */
export interface FetchRequestLike {
  readonly method?: string;
  /** Absolute. */
  readonly url?: string;
  readonly headers: {
    /** The header's value, or `null` when absent (Fetch `Headers.get`). */
    get(name: string): string | null;
  };
}

/**
 * A Node `IncomingMessage` (`node:http`, Express, Fastify's `request.raw`), or a plain
 * `{ method, url, headers }` with an absolute `url`.
 */
export interface NodeRequestLike {
  readonly method?: string;
  /** The request target: a path (`/orders?page=2`, as Node gives it) or an absolute URL. */
  readonly url?: string;
  /** Express keeps the path before a mounted router stripped its prefix here. */
  readonly originalUrl?: string;
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  readonly rawHeaders?: readonly string[];
  /** A TLS socket has `encrypted: true`. */
  readonly socket?: object | null;
}

/** The requests the verifier and `authenticate()` read. Only the shape is checked: nothing from Node is imported. */
export type HttpRequest = FetchRequestLike | NodeRequestLike;

function headersOf(request: HttpRequest): FetchRequestLike['headers'] | NodeRequestLike['headers'] {
  const headers = (request as { headers?: unknown } | null)?.headers;
  if (typeof headers !== 'object' || headers === null) {
    throw invalidArgument(
      'the request must be a Fetch Request, a Node IncomingMessage or { method, url, headers }',
    );
  }
  return headers as FetchRequestLike['headers'] | NodeRequestLike['headers'];
}

/**
 * A header value that is not text, as only a request built by hand can have: refused with
 * the code of what the header carries (the token, else the DPoP proof and its URL).
 */
function notText(name: string, value: unknown): JwtVerifyError {
  return new JwtVerifyError(
    name === 'authorization' ? 'ERR_TOKEN_MALFORMED' : 'ERR_DPOP_PROOF_INVALID',
    `the request's ${name} header is not text: found ${describeValue(value)}`,
  );
}

/**
 * A header's value: `undefined` when absent (or `null`), an array when it was sent more
 * than once and the request shows each (Node's `rawHeaders`). Fetch joins repeated headers
 * with `", "`. A value that is not text is a {@link JwtVerifyError}, never a `TypeError`.
 */
export function headerValue(request: HttpRequest, name: string): string | string[] | undefined {
  const headers = headersOf(request);
  let value: unknown;
  if (typeof (headers as FetchRequestLike['headers']).get === 'function') {
    value = (headers as FetchRequestLike['headers']).get(name);
  } else {
    // Node keeps only the first of some repeated headers in `headers`; the raw list shows them all.
    const raw: unknown = (request as NodeRequestLike).rawHeaders;
    if (Array.isArray(raw)) {
      const values = raw.filter(
        (_, i) => i % 2 === 1 && typeof raw[i - 1] === 'string' && raw[i - 1].toLowerCase() === name,
      );
      if (values.length > 1) value = values;
    }
    const record = headers as Record<string, unknown>;
    if (value === undefined) value = record[name];
    if (value === undefined) {
      const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
      value = key === undefined ? undefined : record[key];
    }
  }
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string')) throw notText(name, value);
  return value.length === 0 ? undefined : value.length === 1 ? value[0] : value;
}

/** The request's method, upper-case as HTTP sends it; `ERR_DPOP_PROOF_INVALID` when there is none. */
export function requestMethod(request: HttpRequest): string {
  const method = (request as { method?: unknown }).method;
  if (typeof method !== 'string' || method === '') {
    throw new JwtVerifyError(
      'ERR_DPOP_PROOF_INVALID',
      `the request has no method (found ${describeValue(method)}): DPoP needs the method and URL it was sent with`,
    );
  }
  return method;
}

/**
 * The request target as received: the absolute URL (Fetch), or for Node the path from
 * `originalUrl`/`url` with `origin` (`https://host:port`) from the socket and `Host`.
 */
export function ownTarget(request: HttpRequest): { url: string } | { path: string } {
  const node = request as NodeRequestLike;
  const target = typeof node.originalUrl === 'string' ? node.originalUrl : node.url;
  if (typeof target !== 'string' || target === '') {
    throw new JwtVerifyError(
      'ERR_DPOP_PROOF_INVALID',
      `the request has no URL (found ${describeValue(target)}): DPoP needs the method and URL it was sent with`,
    );
  }
  return target.startsWith('/') ? { path: target } : { url: target };
}

/** Whether a Node request arrived over TLS. */
export function isEncrypted(request: HttpRequest): boolean {
  const socket = (request as NodeRequestLike).socket as { encrypted?: unknown } | null | undefined;
  return socket?.encrypted === true;
}

/**
 * The DER bytes of the client certificate on a Node request's TLS socket
 * (`request.socket.getPeerCertificate().raw`), if there is one. Read by shape, so the main
 * entry imports nothing from Node; a Fetch `Request` has none.
 */
export function socketCertificate(request: unknown): Uint8Array | undefined {
  const socket = (request as { socket?: { getPeerCertificate?: () => { raw?: unknown } | null } } | null)
    ?.socket;
  const raw = typeof socket?.getPeerCertificate === 'function' ? socket.getPeerCertificate()?.raw : undefined;
  return raw instanceof Uint8Array && raw.length > 0 ? raw : undefined;
}

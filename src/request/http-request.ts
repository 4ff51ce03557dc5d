/** request/: the request as a resource server reads it (headers, method, URL, TLS socket), whatever its shape. */
import { invalidArgument } from '../errors.js';

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
 * A header's value: `undefined` when absent, an array when it was sent more than once and
 * the request shows each (Node's `rawHeaders`). Fetch joins repeated headers with `", "`.
 */
export function headerValue(request: HttpRequest, name: string): string | string[] | undefined {
  const headers = headersOf(request);
  if (typeof (headers as FetchRequestLike['headers']).get === 'function') {
    return (headers as FetchRequestLike['headers']).get(name) ?? undefined;
  }
  // Node keeps only the first of some repeated headers in `headers`; the raw list shows them all.
  const raw = (request as NodeRequestLike).rawHeaders;
  if (Array.isArray(raw)) {
    const values = raw.filter((_, i) => i % 2 === 1 && String(raw[i - 1]).toLowerCase() === name);
    if (values.length > 1) return values as string[];
  }
  const record = headers as NodeRequestLike['headers'];
  let value = record[name];
  if (value === undefined) {
    const key = Object.keys(record).find((candidate) => candidate.toLowerCase() === name);
    value = key === undefined ? undefined : record[key];
  }
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return value.length === 1 ? String(value[0]) : value.map(String);
}

/** The request's method, upper-case as HTTP sends it. Throws a coded `TypeError` when there is none. */
export function requestMethod(request: HttpRequest): string {
  const method = (request as { method?: unknown }).method;
  if (typeof method !== 'string' || method === '') {
    throw invalidArgument('the request has no method: DPoP needs the method and URL it was sent with');
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
    throw invalidArgument('the request has no URL: DPoP needs the method and URL it was sent with');
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

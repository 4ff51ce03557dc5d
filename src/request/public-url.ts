/**
 * request/: the URL a request was sent to, as the client saw it: what a proof's `htu` must
 * name. The request's own by default; `publicUrl` or trusted forwarded headers behind a proxy.
 */
import { JwtVerifyError, describeValue, invalidArgument } from '../errors.js';
import { UrlMemo, normalizeHtu } from './normalize-url.js';
import { type HttpRequest, headerValue, isEncrypted, ownTarget } from './http-request.js';

/** A forwarding header that may be trusted to say how the client reached the API. */
export type ForwardedHeader =
  'forwarded' | 'x-forwarded-proto' | 'x-forwarded-host' | 'x-forwarded-port' | 'x-forwarded-prefix';

const FORWARDED_HEADERS: readonly ForwardedHeader[] = [
  'forwarded',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-forwarded-prefix',
];

/** How to know the URL a request was sent to, for the DPoP `htu` check. Both are optional; not both. */
export interface RequestUrlOptions {
  /**
   * The API's public URL as clients call it, e.g. `'https://api.example.com'`, or with the
   * path prefix a proxy strips (`'https://example.com/api'`): the request's path is appended.
   * Or a function giving the whole URL of a request. Default: the request's own URL (for a
   * Node request: `http(s)://` as the socket is, the `Host` header, then the path).
   */
  publicUrl?: string | ((request: HttpRequest) => string);
  /**
   * Forwarding headers your proxy sets and that clients cannot: their last value (the one
   * your nearest proxy wrote) then decides the scheme, host, port or path prefix. Any other
   * `Forwarded`/`X-Forwarded-*` header is ignored. Default: none.
   */
  trustedForwardedHeaders?: readonly ForwardedHeader[];
}

/** {@link RequestUrlOptions}, checked. */
export interface ResolvedRequestUrlOptions {
  publicUrl: { origin: string; prefix: string } | ((request: HttpRequest) => string) | undefined;
  trusted: ReadonlySet<ForwardedHeader>;
}

const NO_TRUSTED: ReadonlySet<ForwardedHeader> = new Set();
const NO_URL_OPTIONS: ResolvedRequestUrlOptions = { publicUrl: undefined, trusted: NO_TRUSTED };

/** host [":" port], with no userinfo, path, query or fragment: what a `Host` header may hold (RFC 9110 §7.2). */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::[0-9]{1,5})?$/;
const PREFIX = /^(?:\/[A-Za-z0-9\-._~%!$&'()*+,;=:@]+)+\/?$/;

/** Checks {@link RequestUrlOptions}; throws a coded `TypeError` for a mistake. */
export function resolveRequestUrlOptions(options: RequestUrlOptions = {}): ResolvedRequestUrlOptions {
  const { publicUrl, trustedForwardedHeaders } = options;
  if (publicUrl === undefined && trustedForwardedHeaders === undefined) return NO_URL_OPTIONS;
  if (publicUrl !== undefined && trustedForwardedHeaders !== undefined) {
    throw invalidArgument('give publicUrl or trustedForwardedHeaders, not both');
  }
  if (trustedForwardedHeaders !== undefined) {
    if (
      !Array.isArray(trustedForwardedHeaders) ||
      trustedForwardedHeaders.some((name) => !FORWARDED_HEADERS.includes(name))
    ) {
      throw invalidArgument(`trustedForwardedHeaders must be an array of ${FORWARDED_HEADERS.join(', ')}`);
    }
    return { publicUrl: undefined, trusted: new Set(trustedForwardedHeaders) };
  }
  if (typeof publicUrl === 'function') return { publicUrl, trusted: new Set() };
  let url: URL | undefined;
  try {
    url = typeof publicUrl === 'string' ? new URL(publicUrl) : undefined;
  } catch {
    url = undefined;
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.search || url.hash || url.username) {
    throw invalidArgument(
      `publicUrl must be an absolute http(s) URL without query or fragment, or a function; got ${describeValue(publicUrl)}`,
    );
  }
  return { publicUrl: { origin: url.origin, prefix: url.pathname.replace(/\/$/, '') }, trusted: new Set() };
}

function unknownUrl(message: string): JwtVerifyError {
  return new JwtVerifyError(
    'ERR_DPOP_PROOF_INVALID',
    `the URL the request was sent to is unknown: ${message}`,
  );
}

/** The last of a forwarding header's comma-separated values: the one the nearest proxy added. */
function lastValue(request: HttpRequest, name: string): string | undefined {
  const value = headerValue(request, name);
  const joined = Array.isArray(value) ? value.join(',') : value;
  return joined?.split(',').at(-1)?.trim() || undefined;
}

/** An absolute request target, parsed. */
function parseTarget(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw unknownUrl(`${describeValue(url)} is not an absolute URL`);
  }
}

/** The path and query of a request target. */
function pathOf(target: { url: string } | { path: string }): string {
  if ('path' in target) return target.path;
  const url = parseTarget(target.url);
  return url.pathname + url.search;
}

/** `proto` and `host` of the last element of an RFC 7239 `Forwarded` header. */
function forwardedPairs(value: string | undefined): { proto?: string; host?: string } {
  const pairs: { proto?: string; host?: string } = {};
  for (const pair of value?.split(';') ?? []) {
    const [name, ...rest] = pair.split('=');
    const key = name!.trim().toLowerCase();
    const text = rest
      .join('=')
      .trim()
      .replace(/^"(.*)"$/, '$1');
    if (key === 'proto' || key === 'host') pairs[key] = text;
  }
  return pairs;
}

/** The request's URL from its own target, corrected by the forwarding headers trusted. */
function ownUrl(
  request: HttpRequest,
  target: { url: string } | { path: string },
  trusted: ReadonlySet<ForwardedHeader>,
): string {
  const own = 'url' in target ? parseTarget(target.url) : undefined;
  let scheme = own ? own.protocol.slice(0, -1) : isEncrypted(request) ? 'https' : 'http';
  let host = own ? own.host : headerValue(request, 'host');
  if (typeof host !== 'string') throw unknownUrl('it has no single Host header');
  let prefix = '';
  const forwarded = trusted.has('forwarded') ? forwardedPairs(lastValue(request, 'forwarded')) : {};
  const proto =
    forwarded.proto ??
    (trusted.has('x-forwarded-proto') ? lastValue(request, 'x-forwarded-proto') : undefined);
  if (proto !== undefined) {
    if (!/^https?$/i.test(proto))
      throw unknownUrl(`the forwarded scheme ${describeValue(proto)} is not http or https`);
    scheme = proto.toLowerCase();
  }
  host =
    forwarded.host ??
    (trusted.has('x-forwarded-host') ? lastValue(request, 'x-forwarded-host') : undefined) ??
    host;
  // Only host[:port]: a Host like "api.example/orders?" would make the path of the URL
  // (express-oauth2-jwt-bearer#244) and let a proof for /orders pass at another route.
  if (!HOST.test(host)) throw unknownUrl(`the host ${describeValue(host)} is not host[:port]`);
  const port = trusted.has('x-forwarded-port') ? lastValue(request, 'x-forwarded-port') : undefined;
  if (port !== undefined) {
    if (!/^[0-9]{1,5}$/.test(port))
      throw unknownUrl(`the forwarded port ${describeValue(port)} is not a port`);
    host = `${host.replace(/:[0-9]+$/, '')}:${port}`;
  }
  if (trusted.has('x-forwarded-prefix')) {
    const value = lastValue(request, 'x-forwarded-prefix');
    if (value !== undefined && !PREFIX.test(value)) {
      throw unknownUrl(`the forwarded prefix ${describeValue(value)} is not a path`);
    }
    prefix = value?.replace(/\/$/, '') ?? '';
  }
  // Concatenated, not resolved against a base: a target of "//other/x" stays a path.
  return `${scheme}://${host}${prefix}${own ? own.pathname + own.search : (target as { path: string }).path}`;
}

// What an absolute request target (a Fetch Request's url) normalises to, by its text before
// the query: the URL of every request to one route is parsed once.
const absoluteTargets = new UrlMemo((url) => normalized(ownUrl({ headers: {} }, { url }, NO_TRUSTED)));

function normalized(url: string): string {
  const result = normalizeHtu(url);
  if (result === undefined) throw unknownUrl(`${describeValue(url)} is not an absolute http(s) URL`);
  return result;
}

/**
 * The normalised URL (see {@link normalizeHtu}) the request was sent to, or the
 * `ERR_DPOP_PROOF_INVALID` saying why it cannot be known.
 */
export function requestUrl(
  request: HttpRequest,
  options: ResolvedRequestUrlOptions = NO_URL_OPTIONS,
): string {
  const { publicUrl, trusted } = options;
  if (typeof publicUrl === 'function') {
    const url = publicUrl(request);
    if (typeof url !== 'string') throw invalidArgument('the publicUrl function must return a URL string');
    return normalized(url);
  }
  const target = ownTarget(request);
  if (publicUrl !== undefined) return normalized(`${publicUrl.origin}${publicUrl.prefix}${pathOf(target)}`);
  if ('url' in target && trusted.size === 0) return absoluteTargets.get(target.url)!;
  return normalized(ownUrl(request, target, trusted));
}

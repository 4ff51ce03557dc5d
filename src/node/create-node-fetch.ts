/** `createNodeFetch()`: an undici transport with keep-alive, timeouts, a size limit, proxies and a custom CA. */
import {
  Agent,
  EnvHttpProxyAgent,
  Pool,
  ProxyAgent,
  errors as undiciErrors,
  fetch as undiciFetch,
  type Dispatcher,
  type RequestInit as UndiciRequestInit,
} from 'undici';
import { invalidArgument } from '../errors.js';
import type { FetchLike } from '../issuer/http.js';

/**
 * Options of {@link createNodeFetch}. All are optional.
 *
 * @example
 * const options: NodeFetchOptions = {
 *   proxy: 'http://proxy.corp.example:3128',
 *   ca: readFileSync('/etc/pki/internal-ca.pem'),
 *   headersTimeoutMs: 2000,
 * };
 */
export interface NodeFetchOptions {
  /**
   * Route requests through a forward proxy: `'env'` reads `HTTP_PROXY`, `HTTPS_PROXY` and
   * `NO_PROXY` (lower-case names win, as in curl); a URL (`'http://proxy.corp:3128'`,
   * credentials allowed in it) sends every request there. `https:` targets are tunnelled
   * with `CONNECT`; `http:` targets are sent to an `http:` proxy in absolute form.
   * Default: no proxy, even when the variables are set.
   */
  proxy?: 'env' | string | URL;
  /**
   * Certificate authorities (PEM) to trust for `https:` issuers, e.g. a private PKI. Like
   * Node's `tls` option of the same name it replaces the bundled public roots; pass
   * `[...tls.rootCertificates, myCa]` to trust both. Also used for an `https:` proxy.
   */
  ca?: string | Buffer | ReadonlyArray<string | Buffer>;
  /** Time allowed to open the connection, TCP and TLS handshake included. Default 5000 ms; 0 turns it off. */
  connectTimeoutMs?: number;
  /** Time allowed between sending the request and receiving all response headers. Default 5000 ms; 0 turns it off. */
  headersTimeoutMs?: number;
  /** Longest pause allowed between two chunks of the response body. Default 5000 ms; 0 turns it off. */
  bodyTimeoutMs?: number;
  /**
   * Largest response body accepted, in bytes, counted after decompression. A larger declared
   * `Content-Length` rejects the fetch; a body that grows past it errors its stream.
   * Default 1 MiB; `Infinity` turns it off.
   */
  maxResponseSize?: number;
  /**
   * Your own undici dispatcher (`Agent`, `ProxyAgent`, `MockAgent`, …). It then owns the
   * connection settings, so it cannot be combined with `proxy`, `ca` or the timeouts, and
   * `close()` of the {@link NodeFetch} leaves it open. `maxResponseSize` still applies.
   */
  dispatcher?: Dispatcher;
}

/**
 * The function {@link createNodeFetch} returns: a `fetch` for the `fetch` option of
 * `JwtVerifier` and `discover`, plus a handle on its connection pool.
 *
 * @example
 * await using fetch = createNodeFetch({ proxy: 'env' });
 * const metadata = await discover('https://issuer.example.com', { fetch });
 */
export type NodeFetch = FetchLike & {
  /** The undici dispatcher every request goes through. */
  readonly dispatcher: Dispatcher;
  /**
   * Closes the connections this fetch opened, once requests in flight have finished; later
   * calls resolve too. A `dispatcher` you passed in is left open: it is yours to close.
   */
  close(): Promise<void>;
  /** Same as `close()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
};

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_RESPONSE_SIZE = 1024 * 1024;
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

interface Limits {
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  maxResponseSize: number;
}

/**
 * Creates a `fetch` backed by undici with keep-alive connections, connect/headers/body
 * timeouts, a response size cap, forward-proxy support and custom CAs — what a resource
 * server behind a corporate proxy or in front of a private issuer needs.
 *
 * Every transport failure rejects (or errors the body stream) with a `TypeError`, as
 * `fetch` does; its `cause.code` is undici's (`UND_ERR_CONNECT_TIMEOUT`,
 * `UND_ERR_HEADERS_TIMEOUT`, `UND_ERR_BODY_TIMEOUT`, `UND_ERR_RES_EXCEEDED_MAX_SIZE`, or a
 * TLS code such as `UNABLE_TO_VERIFY_LEAF_SIGNATURE`).
 *
 * Requests go through the `undici` package, not the global `fetch`, so msw does not see
 * them: in msw-based tests leave the `fetch` option unset.
 *
 * @example
 * import { JwtVerifier } from 'oauth-jwt-verify';
 * import { createNodeFetch } from 'oauth-jwt-verify/node';
 *
 * const fetch = createNodeFetch({ proxy: 'env', connectTimeoutMs: 2000 });
 * const verifier = new JwtVerifier({
 *   issuer: 'https://issuer.example.com',
 *   audience: 'https://api.example.com',
 *   fetch,
 * });
 * // on shutdown
 * await fetch.close();
 */
export function createNodeFetch(options: NodeFetchOptions = {}): NodeFetch {
  if (options === null || typeof options !== 'object') {
    throw invalidArgument('createNodeFetch options must be an object');
  }
  const limits: Limits = {
    maxResponseSize: sizeOption(options.maxResponseSize),
  };
  let dispatcher: Dispatcher;
  let owned: boolean;
  if (options.dispatcher !== undefined) {
    if (typeof options.dispatcher?.dispatch !== 'function') {
      throw invalidArgument('dispatcher must be an undici Dispatcher');
    }
    const conflicting = (
      ['proxy', 'ca', 'connectTimeoutMs', 'headersTimeoutMs', 'bodyTimeoutMs'] as const
    ).filter((name) => options[name] !== undefined);
    if (conflicting.length > 0) {
      throw invalidArgument(
        `dispatcher cannot be combined with ${conflicting.join(', ')}: configure those on the dispatcher`,
      );
    }
    dispatcher = options.dispatcher;
    owned = false;
  } else {
    limits.connectTimeoutMs = msOption(options.connectTimeoutMs, 'connectTimeoutMs');
    limits.headersTimeoutMs = msOption(options.headersTimeoutMs, 'headersTimeoutMs');
    limits.bodyTimeoutMs = msOption(options.bodyTimeoutMs, 'bodyTimeoutMs');
    dispatcher = createDispatcher(options, limits);
    owned = true;
  }

  const nodeFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    let response: Awaited<ReturnType<typeof undiciFetch>>;
    try {
      response = await undiciFetch(...toUndiciArguments(input, init, dispatcher));
    } catch (error) {
      throw explain(error, limits);
    }
    return capResponse(response, limits);
  };
  let closing: Promise<void> | undefined;
  const close = () => (closing ??= owned ? dispatcher.close().then(() => undefined) : Promise.resolve());
  return Object.assign(nodeFetch, { dispatcher, close, [Symbol.asyncDispose]: close });
}

function createDispatcher(options: NodeFetchOptions, limits: Limits): Dispatcher {
  const timeouts = { headersTimeout: limits.headersTimeoutMs, bodyTimeout: limits.bodyTimeoutMs };
  const tls = {
    timeout: limits.connectTimeoutMs,
    ...(options.ca === undefined ? {} : { ca: caOption(options.ca) }),
  };
  if (options.proxy === undefined) return new Agent({ ...timeouts, connect: tls });

  // ProxyAgent builds some pools itself (to the proxy for CONNECT, and for absolute-form
  // requests) from `factory`/`clientFactory` with only a connector: give them the timeouts too.
  const factory = (origin: string | URL, opts: object) => new Pool(origin, { ...timeouts, ...opts });
  const proxyOptions = {
    ...timeouts,
    requestTls: tls,
    proxyTls: tls,
    // Forward proxies commonly allow CONNECT only to port 443, so plain-http targets are
    // sent in absolute form (as curl does) instead of being tunnelled.
    proxyTunnel: false,
    factory,
    clientFactory: factory,
  };
  if (options.proxy === 'env') return new EnvHttpProxyAgent({ ...proxyOptions, connect: tls });
  return new ProxyAgent({ ...proxyOptions, uri: proxyOption(options.proxy) });
}

/** undici 7 cannot read a `Request` made by another fetch (Node's global one): copy its parts. */
function toUndiciArguments(
  input: string | URL | Request,
  init: RequestInit | undefined,
  dispatcher: Dispatcher,
): [string | URL, UndiciRequestInit] {
  const extra = { ...(init as UndiciRequestInit | undefined), dispatcher };
  if (typeof input === 'string' || input instanceof URL) return [input, extra];
  const copied = {
    method: input.method,
    headers: [...input.headers],
    body: input.body,
    redirect: input.redirect,
    signal: input.signal,
    duplex: 'half',
  } as UndiciRequestInit;
  return [input.url, { ...copied, ...extra }];
}

function capResponse(response: Awaited<ReturnType<typeof undiciFetch>>, limits: Limits): Response {
  const max = limits.maxResponseSize;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > max && response.headers.get('content-encoding') === null) {
    void response.body?.cancel().catch(() => undefined);
    throw tooLarge(max, `declares ${declared} bytes`);
  }
  const body =
    response.body === null || NULL_BODY_STATUSES.has(response.status)
      ? null
      : capStream(response.body as ReadableStream<Uint8Array>, limits);
  const capped = new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: [...response.headers],
  });
  // A constructed Response has no URL and is never "redirected"; keep the real ones.
  Object.defineProperties(capped, {
    url: { value: response.url },
    redirected: { value: response.redirected },
  });
  return capped;
}

function capStream(source: ReadableStream<Uint8Array>, limits: Limits): ReadableStream<Uint8Array> {
  const reader = source.getReader();
  let total = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (error) {
          throw explain(error, limits);
        }
        if (chunk.done) {
          controller.close();
          return;
        }
        total += chunk.value.byteLength;
        if (total > limits.maxResponseSize) {
          void reader.cancel().catch(() => undefined);
          controller.error(tooLarge(limits.maxResponseSize, 'sent more'));
          return;
        }
        controller.enqueue(chunk.value);
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    },
    { highWaterMark: 0 },
  );
}

function tooLarge(max: number, found: string): TypeError {
  return new TypeError(`response body exceeds maxResponseSize (${max} bytes): the server ${found}`, {
    cause: new undiciErrors.ResponseExceededMaxSizeError(),
  });
}

const TIMEOUTS = {
  UND_ERR_CONNECT_TIMEOUT: ['connectTimeoutMs', 'fetch failed: not connected (TCP and TLS) within'],
  UND_ERR_HEADERS_TIMEOUT: ['headersTimeoutMs', 'fetch failed: no response headers within'],
  UND_ERR_BODY_TIMEOUT: ['bodyTimeoutMs', 'response body stalled: no data for'],
} as const;

/** undici says only "fetch failed" or "terminated": name the limit that was hit and its value. */
function explain(error: unknown, limits: Limits): unknown {
  const code: unknown = (error as { cause?: { code?: unknown } } | null)?.cause?.code;
  if (typeof code !== 'string' || !(code in TIMEOUTS)) return error;
  const [option, text] = TIMEOUTS[code as keyof typeof TIMEOUTS];
  const ms = limits[option];
  if (ms === undefined) return error;
  return new TypeError(`${text} ${option} (${ms} ms)`, { cause: (error as Error).cause });
}

function msOption(value: unknown, name: string): number {
  if (value === undefined) return DEFAULT_TIMEOUT_MS;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(`${name} must be a whole number of milliseconds >= 0, got ${String(value)}`);
  }
  return value;
}

function sizeOption(value: unknown): number {
  if (value === undefined) return DEFAULT_MAX_RESPONSE_SIZE;
  if (value === Number.POSITIVE_INFINITY) return value;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw invalidArgument(
      `maxResponseSize must be a whole number of bytes >= 0 or Infinity, got ${String(value)}`,
    );
  }
  return value;
}

function proxyOption(value: unknown): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' || value instanceof URL ? new URL(String(value)) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    // Never echo the value: a proxy URL may carry credentials.
    throw invalidArgument(`proxy must be 'env' or an http: or https: URL`);
  }
  return url.href;
}

function caOption(value: unknown): Array<string | Buffer> {
  const list: unknown[] = Array.isArray(value) ? value : [value];
  if (list.length === 0 || !list.every((item) => typeof item === 'string' || Buffer.isBuffer(item))) {
    throw invalidArgument('ca must be a PEM string or Buffer, or a non-empty array of them');
  }
  return list as Array<string | Buffer>;
}

// The stub issuer on a real node:http server: Fetch requests in, Fetch responses out.
import { errorReason } from '../errors.js';
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A running `listen` server. */
export interface Listening {
  /** `http://host:port`. */
  origin: string;
  close(): Promise<void>;
}

/** Headers about this hop or recomputed by `Request`, not passed on. */
const SKIPPED_HEADERS = new Set([
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

/** The request's end-to-end headers, as Fetch `Headers`. */
export function requestHeaders(req: IncomingMessage): Headers {
  const headers = new Headers();
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!;
    if (!SKIPPED_HEADERS.has(name.toLowerCase())) headers.append(name, req.rawHeaders[i + 1]!);
  }
  return headers;
}

async function toRequest(req: IncomingMessage, origin: string, signal: AbortSignal): Promise<Request> {
  const headers = requestHeaders(req);
  let body: Uint8Array<ArrayBuffer> | undefined;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    const chunks: Uint8Array[] = [];
    for await (const chunk of req) chunks.push(chunk as Uint8Array);
    body = new Uint8Array(Buffer.concat(chunks));
  }
  // Concatenated, not resolved: a request target like `//other/x` must stay on this origin.
  return new Request(`${origin}${req.url ?? '/'}`, { method: req.method, headers, body, signal });
}

/** Writes a Fetch `Response` to a `node:http` response (no body for HEAD). */
export async function send(res: ServerResponse, response: Response, head: boolean): Promise<void> {
  const headers: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  res.writeHead(response.status, headers);
  res.end(head || !response.body ? undefined : new Uint8Array(await response.arrayBuffer()));
}

/**
 * Serves `handle` on a `node:http` server, converting `IncomingMessage` to a Fetch
 * `Request` and the `Response` back. `node:http` is imported here only, on demand.
 */
export async function listen(
  { port, host }: { port: number; host: string },
  handle: (request: Request) => Promise<Response>,
): Promise<Listening> {
  const { createServer } = await import('node:http');
  const origin = { value: '' };
  const server = createServer((req, res) => {
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    toRequest(req, origin.value, controller.signal)
      .then(handle)
      .then((response) => send(res, response, req.method === 'HEAD'))
      .catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`test issuer: ${errorReason(error)}`);
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  origin.value = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  return {
    origin: origin.value,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        server.close((error) => (error ? reject(error) : resolve()));
        // close() waits for keep-alive connections; end them so it returns now.
        server.closeAllConnections();
      }),
  };
}

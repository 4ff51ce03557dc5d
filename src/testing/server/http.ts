// The node:http(s) side of startIssuerServer: capped bodies, one log entry per request, a graceful close.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { invalidArgument } from '../../errors.js';
import type { IssuerServerRequestLog } from './types.js';

/** The largest request body read, in bytes (login forms, token requests, control API calls). */
export const MAX_BODY_BYTES = 1024 * 1024;
/** How long `close()` waits for requests in flight before it drops their connections, in ms. */
const CLOSE_GRACE_MS = 10_000;

/** A request as the server's router sees it: the body read in full. */
export interface ServerRequest {
  req: IncomingMessage;
  body: Uint8Array;
  /** Aborted when the client goes away before the answer. */
  signal: AbortSignal;
}

/** Answers one request by writing to `res`. */
export type RequestListener = (request: ServerRequest, res: ServerResponse) => Promise<void>;

/** True for a loopback address: 127.0.0.0/8, `::1`, and IPv4-mapped 127.x (`::ffff:127.0.0.1`). */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.replace(/^::ffff:/i, '');
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4) || address === '::1';
}

/** Query parameters whose values can be secrets (codes, tokens, secrets, verifiers, assertions). */
const SECRET_PARAMETER = /code|token|secret|assertion|verifier|password|session/i;
/** A value shaped like a JWS or JWE, whatever its parameter's name. */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]*\./;

/** The path for the log: the value of every query parameter that can hold a secret becomes `…`. */
export function loggedPath(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const pairs = url
    .slice(query + 1)
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      if (equals < 0) return pair;
      const name = pair.slice(0, equals);
      let value = pair.slice(equals + 1);
      try {
        value = decodeURIComponent(value.replace(/\+/g, ' '));
      } catch {
        return `${name}=…`;
      }
      return SECRET_PARAMETER.test(name) || JWT_SHAPE.test(value) ? `${name}=…` : pair;
    });
  return `${url.slice(0, query)}?${pairs.join('&')}`;
}

function refuse(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json', connection: 'close' });
  res.end(JSON.stringify({ error: 'invalid_request', error_description: message }));
}

async function readBody(req: IncomingMessage, res: ServerResponse): Promise<Uint8Array | undefined> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_BODY_BYTES) {
    refuse(res, 413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
    return undefined;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      refuse(res, 413, `the body is larger than ${MAX_BODY_BYTES} bytes`);
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
}

/** The running server's controls. */
export interface Serving {
  port: number;
  close(): Promise<void>;
}

/**
 * Serves `listener` on `server` at `port`/`host`: bodies capped at {@link MAX_BODY_BYTES},
 * `onRequest` told of each answer, and a `close()` that lets requests in flight finish.
 */
export async function serve(
  server: Server,
  { port, host }: { port: number; host: string },
  listener: RequestListener,
  onRequest: ((entry: IssuerServerRequestLog) => void) | undefined,
): Promise<Serving> {
  let closing = false;
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const started = performance.now();
    if (closing) res.setHeader('connection', 'close');
    res.on('finish', () => {
      onRequest?.({
        method: req.method ?? 'GET',
        path: loggedPath(req.url ?? '/'),
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
      });
      if (closing) server.closeIdleConnections();
    });
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    readBody(req, res)
      .then((body) => (body ? listener({ req, body, signal: controller.signal }, res) : undefined))
      .catch((error: unknown) => {
        if (!res.headersSent) refuse(res, 500, `the development issuer failed: ${(error as Error).message}`);
        else res.end();
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      const where = `${host}:${port}`;
      const reason =
        error.code === 'EADDRINUSE'
          ? `${where} is already in use (EADDRINUSE): stop what runs there, or choose another port (0: any free port)`
          : error.code === 'EACCES'
            ? `no permission to listen on ${where} (EACCES): choose a port above 1023`
            : error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND'
              ? `${host} is not an address of this machine (${error.code})`
              : `cannot listen on ${where}: ${error.message}`;
      reject(Object.assign(invalidArgument(`startIssuerServer: ${reason}`), { cause: error }));
    });
    server.listen(port, host, () => {
      server.removeAllListeners('error');
      resolve();
    });
  });
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        if (!server.listening) return resolve();
        closing = true;
        // close() waits for every connection: idle keep-alive ones end now, busy ones after
        // their answer (sent with `connection: close`), stragglers after the grace period.
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      }),
  };
}

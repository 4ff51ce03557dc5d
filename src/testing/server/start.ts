// startIssuerServer: one or many createTestIssuer issuers on a real HTTP(S) server, the `issuer` command's engine.
import type { Server, ServerResponse } from 'node:http';
import type { JWK } from 'jose';
import { invalidArgument } from '../../errors.js';
import { createTestIssuer } from '../issuer.js';
import { send, requestHeaders } from '../listen.js';
import { resolveOptions } from '../options.js';
import type { TestIssuer, TestIssuerOptions } from '../types.js';
import { answerAdmin } from './admin.js';
import { type CheckedConfig, checkConfig } from './config.js';
import { type ServerRequest, isLoopback, serve } from './http.js';
import { readKeysFile, writeKeysFile } from './keys-file.js';
import type { IssuerServer, IssuerServerOptions } from './types.js';

function fail(message: string): never {
  throw invalidArgument(`startIssuerServer: ${message}`);
}

/** `publicUrl` as an origin without a trailing `/`. */
function checkPublicUrl(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(String(value));
  } catch {
    fail(`publicUrl is not a URL: ${JSON.stringify(value)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(`publicUrl must be http(s): ${url.href}`);
  if (url.pathname !== '/' || url.search || url.hash || url.username || url.password) {
    fail(
      `publicUrl must be an origin (scheme://host[:port]), without path, query or credentials: ${String(value)}`,
    );
  }
  return url.origin;
}

function checkListen(port: unknown, host: unknown): { port: number; host: string } {
  if (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535) {
    fail(`port must be an integer from 0 to 65535, got ${String(port)}`);
  }
  if (typeof host !== 'string' || !host) fail('host must be a host name or address');
  return { port: port as number, host };
}

/** The URL the server's own clients use: a wildcard address becomes loopback. */
function ownOrigin(scheme: 'http' | 'https', host: string, port: number): string {
  const reachable = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
  return `${scheme}://${reachable.includes(':') ? `[${reachable}]` : reachable}:${port}`;
}

async function createServer(https: IssuerServerOptions['https']): Promise<Server> {
  if (!https) return (await import('node:http')).createServer({ keepAliveTimeout: 65_000 });
  const { createServer: createHttpsServer } = await import('node:https');
  try {
    return createHttpsServer({
      cert: https.cert as string | Buffer,
      key: https.key as string | Buffer,
      keepAliveTimeout: 65_000,
    }) as unknown as Server;
  } catch (error) {
    fail(`https: the certificate or key cannot be used (${(error as Error).message})`);
  }
}

/** Where a request goes: the health check, or an issuer (its control API, or its endpoints). */
type Target =
  | { kind: 'health' }
  | { kind: 'admin'; id: string; action: string }
  | { kind: 'issuer'; id: string | undefined };

function target(pathname: string, root: boolean): Target {
  const segments = pathname.split('/');
  if (pathname === '/health') return { kind: 'health' };
  // The id is the first segment, or the third after RFC 8414's and OIDC's inserted well-known.
  const at = root ? 0 : 1;
  const id = root ? undefined : segments[1] === '.well-known' ? segments[3] : segments[1];
  if (segments[at + 1] === '_admin' && segments.length === at + 3) {
    return { kind: 'admin', id: id ?? '', action: segments[at + 2]! };
  }
  return { kind: 'issuer', id };
}

function answerJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(JSON.stringify(body));
}

/**
 * Runs a development identity provider: the issuers of `config` (each a full
 * `createTestIssuer` issuer, with the login page on by default) on a real HTTP or HTTPS
 * server, many issuers at `/<id>`, `GET /health`, keys kept in `keysFile` across restarts,
 * and, with `admin: true`, a control API for loopback callers under each issuer's base:
 * `POST _admin/rotate`, `POST _admin/fail-next`, `GET _admin/requests`, `POST _admin/reset`,
 * `POST _admin/tokens`. The `oauth-jwt-verify issuer` command is a thin shell over it.
 * A bad configuration rejects with a `TypeError` naming the field (`config: issuers.a.algorithms …`).
 *
 * @example
 * import { startIssuerServer } from 'oauth-jwt-verify/testing';
 *
 * const server = await startIssuerServer({
 *   port: 0,
 *   config: { issuers: { 'tenant-a': { algorithms: ['ES256'] }, legacy: { profile: 'auth0' } } },
 * });
 * const token = await server.issuers['tenant-a']!.sign({ sub: 'alice' });
 * console.log(server.url, token.length);
 * await server.close();
 *
 * @see https://www.rfc-editor.org/rfc/rfc8414#section-3.1 (well-known URLs of issuers with a path)
 */
export async function startIssuerServer(options: IssuerServerOptions = {}): Promise<IssuerServer> {
  const config: CheckedConfig = checkConfig(options.config);
  const listenAt = checkListen(options.port ?? 8080, options.host ?? '127.0.0.1');
  const publicUrl = checkPublicUrl(options.publicUrl);
  const savedKeys = options.keysFile ? await readKeysFile(options.keysFile) : undefined;
  const server = await createServer(options.https);

  const issuers: Record<string, TestIssuer> = {};
  let ready = false;
  let base = '';
  const listener = async ({ req, body, signal }: ServerRequest, res: ServerResponse): Promise<void> => {
    const url = req.url ?? '/';
    const pathname = url.split('?', 1)[0]!;
    const to = target(pathname, config.root);
    if (!ready) return answerJson(res, 503, { status: 'starting' }, { 'retry-after': '1' });
    if (to.kind === 'health')
      return answerJson(res, 200, { status: 'ok', issuers: Object.keys(issuers).length });
    const id = config.root ? 'default' : to.id;
    const issuer = id === undefined || !Object.hasOwn(issuers, id) ? undefined : issuers[id];
    if (!issuer) {
      return answerJson(res, 404, {
        error: 'not_found',
        error_description: `no issuer here; issuers: ${Object.values(issuers)
          .map((one) => one.issuer)
          .join(', ')}`,
      });
    }
    if (to.kind === 'admin') {
      if (!config.admin)
        return answerJson(res, 404, {
          error: 'not_found',
          error_description: 'the control API is off (admin: true, --admin)',
        });
      if (!isLoopback(req.socket.remoteAddress)) {
        return answerJson(res, 403, {
          error: 'forbidden',
          error_description: 'the control API answers loopback callers only',
        });
      }
      const answer = await answerAdmin(issuer, to.action, req.method ?? 'GET', body);
      return answerJson(res, answer.status, answer.body, answer.headers);
    }
    const method = req.method ?? 'GET';
    const request = new Request(`${base}${url}`, {
      method,
      headers: requestHeaders(req),
      body: method === 'GET' || method === 'HEAD' ? undefined : (body as Uint8Array<ArrayBuffer>),
      signal,
    });
    await send(res, await issuer.fetch(request), method === 'HEAD');
  };

  const serving = await serve(server, listenAt, listener, options.onRequest);
  base = publicUrl ?? ownOrigin(options.https ? 'https' : 'http', listenAt.host, serving.port);
  try {
    const created = await Promise.all(
      [...config.issuers].map(([id, issuerOptions]) =>
        createTestIssuer(
          withKeys(issuerOptions, savedKeys?.get(id), { issuer: config.root ? base : `${base}/${id}` }),
        ),
      ),
    );
    // In the configuration's order: the first is the one `--json` names as `issuer`.
    for (const [index, id] of [...config.issuers.keys()].entries()) issuers[id] = created[index]!;
    if (options.keysFile) await keepKeys(options.keysFile, issuers);
  } catch (error) {
    await serving.close();
    throw error;
  }
  ready = true;
  return { url: base, port: serving.port, issuers, close: serving.close };
}

/** The issuer's options with its URL and the saved keys of its algorithms. */
function withKeys(
  options: TestIssuerOptions,
  saved: readonly JWK[] | undefined,
  extra: { issuer: string },
): TestIssuerOptions {
  const { algorithms } = resolveOptions(options);
  const keys = (saved ?? []).filter((jwk) => algorithms.includes(jwk.alg as never));
  return { ...options, ...extra, keys };
}

/** Writes the keys file now and after every rotation, one write at a time. */
async function keepKeys(path: string, issuers: Record<string, TestIssuer>): Promise<void> {
  let writing = Promise.resolve();
  // A failed write (a full disk) fails its rotation, not every later one.
  const save = () => (writing = writing.catch(() => undefined).then(() => writeKeysFile(path, issuers)));
  await save();
  for (const issuer of Object.values(issuers)) {
    const rotate = issuer.rotateKeys.bind(issuer);
    issuer.rotateKeys = async (rotateOptions) => {
      const fresh = await rotate(rotateOptions);
      await save();
      return fresh;
    };
  }
}

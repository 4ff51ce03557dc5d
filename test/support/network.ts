import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type RequestListener, type Server, createServer } from 'node:http';
import { type Server as HttpsServer, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Server as NetServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type ProxyServer, createProxy } from 'proxy';
import { type NodeFetch, createNodeFetch } from '../../src/node/index.js';

const run = promisify(execFile);

export interface TestCertificates {
  /** The private CA to trust (PEM). */
  ca: string;
  /** Server key and certificate for 127.0.0.1 / localhost, signed by `ca`. */
  key: string;
  cert: string;
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1, made with the `openssl` CLI
 * (node:crypto cannot issue X.509 certificates). Needs `openssl` on PATH.
 */
export async function createTestCertificates(): Promise<TestCertificates> {
  const dir = await mkdtemp(join(tmpdir(), 'node-transport-'));
  const at = (name: string) => join(dir, name);
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    await run('openssl', [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      at('ca.key'),
      '-out',
      at('ca.pem'),
      '-days',
      '2',
      '-subj',
      '/CN=oauth-jwt-verify test CA',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ]);
    await run('openssl', [
      'req',
      ...ec,
      '-keyout',
      at('server.key'),
      '-out',
      at('server.csr'),
      '-subj',
      '/CN=127.0.0.1',
    ]);
    await writeFile(
      at('server.ext'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
    );
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      at('server.csr'),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      at('server.ext'),
      '-out',
      at('server.pem'),
    ]);
    const [ca, key, cert] = await Promise.all(
      ['ca.pem', 'server.key', 'server.pem'].map((name) => readFile(at(name), 'utf8')),
    );
    return { ca: ca!, key: key!, cert: cert! };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A port of 127.0.0.1 nothing listens on right now (for a server started with a fixed port). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/** Listens on an ephemeral port of 127.0.0.1 and resolves to that port. */
export async function listen(server: NetServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Keeps track of a server's sockets, so `close` can end held-open or tunnelled ones too. */
export function trackSockets(server: NetServer): Set<Socket> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  return sockets;
}

/** Closes a server, destroying whatever connections are still open. */
export async function close(server: NetServer, sockets?: Set<Socket>): Promise<void> {
  if (!server.listening) return;
  const done = new Promise<void>((resolve) => server.close(() => resolve()));
  (server as Partial<Server>).closeAllConnections?.();
  for (const socket of sockets ?? []) socket.destroy();
  await done;
}

/** Sets environment variables for the duration of `fn`, then restores the previous values. */
export async function withEnv<T>(vars: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(vars);
  try {
    return await fn();
  } finally {
    apply(saved);
  }
}

/** Proxy variables set to `values`, with the lower-case spellings (which undici reads first) cleared. */
export function proxyEnv(values: { HTTP_PROXY?: string; HTTPS_PROXY?: string; NO_PROXY?: string }) {
  return {
    http_proxy: undefined,
    https_proxy: undefined,
    no_proxy: undefined,
    HTTP_PROXY: values.HTTP_PROXY,
    HTTPS_PROXY: values.HTTPS_PROXY,
    NO_PROXY: values.NO_PROXY,
  };
}

/**
 * An HTTPS server on 127.0.0.1 with a certificate from a throwaway CA
 * ({@link createTestCertificates}): the CA to trust, its origin, and `close`, which ends the
 * connections still open.
 */
export async function startHttpsServer(handler: RequestListener): Promise<{
  server: HttpsServer;
  ca: string;
  port: number;
  origin: string;
  close(): Promise<void>;
}> {
  const { ca, key, cert } = await createTestCertificates();
  const server = createHttpsServer({ key, cert }, handler);
  const sockets = trackSockets(server);
  const port = await listen(server);
  return { server, ca, port, origin: `https://127.0.0.1:${port}`, close: () => close(server, sockets) };
}

/**
 * A forward proxy (the `proxy` package) on 127.0.0.1 that logs what it is asked:
 * `GET http://…` (absolute form) or `CONNECT host:port`.
 */
export async function startLoggingProxy(): Promise<{
  url: string;
  proxy: ProxyServer;
  log: string[];
  close(): Promise<void>;
}> {
  const proxy = createProxy(createServer());
  const sockets = trackSockets(proxy);
  const log: string[] = [];
  proxy.on('request', (req) => log.push(`${req.method} ${req.url}`));
  proxy.on('connect', (req) => log.push(`CONNECT ${req.url}`));
  const url = `http://127.0.0.1:${await listen(proxy)}`;
  return { url, proxy, log, close: () => close(proxy as Server, sockets) };
}

/** `createNodeFetch`, remembering each fetch so `closeAll()` can close them after the tests. */
export function nodeFetches(): { make: typeof createNodeFetch; closeAll(): Promise<void> } {
  const made: NodeFetch[] = [];
  return {
    make: (...args) => {
      const fetch = createNodeFetch(...args);
      made.push(fetch);
      return fetch;
    },
    closeAll: async () => {
      await Promise.all(made.map((fetch) => fetch.close()));
    },
  };
}

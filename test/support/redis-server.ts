import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll } from 'vitest';
import { programPath } from '../../scripts/test-prerequisites.mjs';
import { freePort } from './network.js';

/** A `redis-server` of our own on a free loopback port, without persistence. */
export interface RedisServer {
  url: string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
}

// REDIS_SERVER, else redis-server on PATH (the global setup checked it is there).
const REDIS_SERVER = programPath('redis-server');

/** Starts `redis-server` and resolves once it accepts connections. */
export async function startRedisServer(): Promise<RedisServer> {
  const port = await freePort();
  const dir = await mkdtemp(join(tmpdir(), 'oauth-jwt-verify-redis-'));
  const child: ChildProcess = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout!.off('data', onData);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`)),
    );
  });
  let stopped = false;
  return {
    url: `redis://127.0.0.1:${port}`,
    async stop() {
      if (!stopped) {
        stopped = true;
        child.kill('SIGTERM');
      }
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A `redis` client without an offline queue (a command while the server is down fails at
 * once) that reconnects with backoff.
 */
function redisClient(url: string) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: (retries) => Math.min(50 * 2 ** retries, 1000) },
  });
  // A client whose server went away reports it here; the code under test hears of it per command.
  client.on('error', () => {});
  return client;
}

/** A `redis` client connected to a {@link useRedisServer} server. */
export type RedisConnection = ReturnType<typeof redisClient>;

/** The server a {@link useRedisServer} file shares, and the clients it connects to it. */
export interface UsedRedisServer extends RedisServer {
  /** A connected {@link redisClient}, destroyed after the file's tests. */
  connect(): Promise<RedisConnection>;
}

/**
 * Starts a `redis-server` before the file's tests (beforeAll) and, after them (afterAll),
 * destroys the clients `connect()` made and stops the server.
 */
export function useRedisServer(): UsedRedisServer {
  let server: RedisServer | undefined;
  const connections: RedisConnection[] = [];
  const started = (): RedisServer => {
    if (!server) throw new Error('useRedisServer: the server starts in beforeAll');
    return server;
  };
  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    for (const connection of connections.splice(0)) connection.destroy();
    await server?.stop();
  });
  return {
    get url() {
      return started().url;
    },
    stop: () => started().stop(),
    async connect() {
      const connection = redisClient(started().url);
      connections.push(connection);
      await connection.connect();
      return connection;
    },
  };
}

/** The JwksStore a fleet shares on Redis, over a node-redis client (`get`, `set`, `SET NX PX` for leases). */
import { invalidArgument } from '../errors.js';
import { stringOption } from '../option-checks.js';
import type { JwksStore } from './store.js';

/**
 * The part of a node-redis (`redis` package, v5 or later) client that
 * {@link createRedisJwksStore} uses: `GET`, and `SET` with `PX` and `NX`. A cluster client
 * or a wrapper with these two methods works too.
 */
export interface RedisJwksStoreClient {
  /** `GET key`: the stored string, or `null` when there is none. */
  get(key: string): Promise<string | null | unknown>;
  /** `SET key value PX ms [NX]`: `'OK'` when set, `null` when `NX` found the key taken. */
  set(
    key: string,
    value: string,
    options: { expiration: { type: 'PX'; value: number }; condition?: 'NX' },
  ): Promise<string | null | unknown>;
}

/** The `PX` expiration of a `SET`: whole milliseconds, at least 1 (Redis refuses 0). */
export function pxExpiration(ttlMs: number): { type: 'PX'; value: number } {
  return { type: 'PX', value: Math.max(1, Math.ceil(ttlMs)) };
}

/** Options of {@link createRedisJwksStore}. */
export interface RedisJwksStoreOptions {
  /** Prepended to every key. Default `'oauth-jwt-verify:'`. */
  prefix?: string;
}

/**
 * A {@link JwksStore} on Redis, over the client you already have: this package does not
 * import `redis`. Values live under `<prefix>jwks:<key>` (the key is the JWKS URL, or
 * `discovery:<mode>:<issuer>` for metadata) with a `PX` expiry; the fetch lease is
 * `SET <prefix>lease:<name> 1 NX PX <ttl>`.
 *
 * Create the client with `disableOfflineQueue: true` so that commands fail at once while
 * Redis is down (the verifier then fetches from the issuer itself) instead of waiting in
 * the client's queue until the verifier's store timeout.
 *
 * @example
 * import { createClient } from 'redis';
 * const redis = await createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true }).connect();
 * const verifier = new JwtVerifier({ issuer, audience, cache: { store: createRedisJwksStore(redis) } });
 * @see https://redis.io/docs/latest/commands/set/
 */
export function createRedisJwksStore(
  client: RedisJwksStoreClient,
  options: RedisJwksStoreOptions = {},
): JwksStore {
  if (
    typeof client !== 'object' ||
    client === null ||
    typeof client.get !== 'function' ||
    typeof client.set !== 'function'
  ) {
    throw invalidArgument('createRedisJwksStore needs a connected redis client (with get and set)');
  }
  const prefix = options.prefix ?? 'oauth-jwt-verify:';
  stringOption(prefix, 'prefix');
  return {
    async get(key) {
      const value = await client.get(`${prefix}jwks:${key}`);
      return typeof value === 'string' ? value : undefined;
    },
    async set(key, value, ttlMs) {
      await client.set(`${prefix}jwks:${key}`, value, { expiration: pxExpiration(ttlMs) });
    },
    async acquire(lease, ttlMs) {
      const reply = await client.set(`${prefix}lease:${lease}`, '1', {
        expiration: pxExpiration(ttlMs),
        condition: 'NX',
      });
      return reply === 'OK';
    },
  };
}

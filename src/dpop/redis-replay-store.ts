/** dpop/: the replay store a fleet shares on Redis (`SET key 1 NX PX ttl`), like the JWKS store. */
import { invalidArgument } from '../errors.js';
import { functionOption, stringOption } from '../option-checks.js';
import { type RedisJwksStoreClient, pxExpiration } from '../fleet/redis-store.js';
import type { DpopReplayStore } from './replay-store.js';

/**
 * The part of a node-redis (`redis` package, v5 or later) client that
 * {@link createRedisDpopReplayStore} uses: `SET` with `NX` and `PX`. The client of
 * `createRedisJwksStore` fits, and so does a cluster client.
 */
export type RedisDpopReplayStoreClient = Pick<RedisJwksStoreClient, 'set'>;

/** Options of {@link createRedisDpopReplayStore}. */
export interface RedisDpopReplayStoreOptions {
  /** Prepended to every key. Default `'oauth-jwt-verify:'` (keys are `<prefix>dpop:<hash>`). */
  prefix?: string;
  /** The clock the `PX` time-to-live is counted from, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

/**
 * A {@link DpopReplayStore} on Redis, over the client you already have (this package does
 * not import `redis`): each accepted proof is `SET <prefix>dpop:<hash> 1 NX PX <ms until
 * its iat window closes>`, so a proof accepted by one instance of a fleet is refused by
 * every other. While Redis fails, DPoP requests are refused with a 503, never let through.
 *
 * Create the client with `disableOfflineQueue: true`, so that commands fail at once while
 * Redis is down instead of waiting in the client's queue.
 *
 * @example
 * import { createClient } from 'redis';
 * const redis = await createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true }).connect();
 * const verifier = new JwtVerifier({ issuer, audience, dpop: { replay: createRedisDpopReplayStore(redis) } });
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-11.1
 * @see https://redis.io/docs/latest/commands/set/
 */
export function createRedisDpopReplayStore(
  client: RedisDpopReplayStoreClient,
  options: RedisDpopReplayStoreOptions = {},
): DpopReplayStore {
  if (typeof client !== 'object' || client === null || typeof client.set !== 'function') {
    throw invalidArgument('createRedisDpopReplayStore needs a connected redis client (with set)');
  }
  const prefix = options.prefix ?? 'oauth-jwt-verify:';
  stringOption(prefix, 'prefix');
  functionOption(options.now, 'now');
  const now = options.now ?? (() => Date.now());
  return {
    async remember(key, expiresAtMs) {
      const reply = await client.set(`${prefix}dpop:${key}`, '1', {
        expiration: pxExpiration(expiresAtMs - now()),
        condition: 'NX',
      });
      return reply === 'OK';
    },
  };
}

/** The in-process JwksStore. */
import type { JwksStore } from './store.js';

/** Options of {@link createMemoryJwksStore}. */
export interface MemoryJwksStoreOptions {
  /** The clock, in milliseconds since the epoch. Default `Date.now`. For tests. */
  now?: () => number;
}

/**
 * A {@link JwksStore} in this process's memory: lets several verifiers of one issuer (one
 * per audience, say, or per tenant route) share one fetched key set and one lease. For a
 * fleet of processes use a shared store such as {@link createRedisJwksStore}.
 *
 * @example
 * const store = createMemoryJwksStore();
 * const api = new JwtVerifier({ issuer, audience: 'https://api.example.com', cache: { store } });
 * const admin = new JwtVerifier({ issuer, audience: 'https://admin.example.com', cache: { store } });
 */
export function createMemoryJwksStore(options: MemoryJwksStoreOptions = {}): JwksStore {
  const now = options.now ?? Date.now;
  const values = new Map<string, { value: string; expiresAt: number }>();
  const leases = new Map<string, number>();
  const sweep = (map: Map<string, unknown>, expiresAt: (entry: never) => number) => {
    const time = now();
    for (const [key, entry] of map) if (expiresAt(entry as never) <= time) map.delete(key);
  };
  return {
    async get(key) {
      const entry = values.get(key);
      if (!entry || entry.expiresAt <= now()) return undefined;
      return entry.value;
    },
    async set(key, value, ttlMs) {
      sweep(values, (entry: { expiresAt: number }) => entry.expiresAt);
      values.set(key, { value, expiresAt: now() + ttlMs });
    },
    async acquire(lease, ttlMs) {
      sweep(leases, (expiresAt: number) => expiresAt);
      if (leases.has(lease)) return false;
      leases.set(lease, now() + ttlMs);
      return true;
    },
  };
}

/** The introspection answer cache: bounded, keyed by a hash of the token, never longer than the answer holds. */
import { invalidArgument } from '../errors.js';
import { nonNegativeNumberOption } from '../option-checks.js';
import { sha256Base64Url } from '../token/signature/index.js';
import type { IntrospectionAnswer } from './introspect.js';

/** Caching of introspection answers. Durations in milliseconds. */
export interface IntrospectionCacheOptions {
  /**
   * The longest an active answer is reused; never past the token's `exp`. A token revoked at
   * the issuer is still accepted for up to this long. `0` asks the issuer every time.
   * Default 60000 (1 minute).
   */
  maxAgeMs?: number;
  /** How long an inactive answer is reused (at most `maxAgeMs`). Default 5000. */
  inactiveMaxAgeMs?: number;
  /** How many answers are kept (least recently used dropped first). Default 10000. */
  maxEntries?: number;
}

/** {@link IntrospectionCacheOptions}, checked and defaulted. */
export interface ResolvedIntrospectionCacheOptions {
  maxAgeMs: number;
  inactiveMaxAgeMs: number;
  maxEntries: number;
}

/** Every default of {@link IntrospectionCacheOptions}. */
export const INTROSPECTION_CACHE_DEFAULTS = {
  maxAgeMs: 60_000,
  inactiveMaxAgeMs: 5_000,
  maxEntries: 10_000,
} as const;

const MAX_ENTRIES = 10_000_000;

/** Checks the `cache` option of an introspection verifier; a mistake is a TypeError now. */
export function parseIntrospectionCacheOption(value: unknown): ResolvedIntrospectionCacheOptions {
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw invalidArgument('cache must be an object: { maxAgeMs, inactiveMaxAgeMs, maxEntries }');
  }
  const cache = (value ?? {}) as IntrospectionCacheOptions;
  const defaults = INTROSPECTION_CACHE_DEFAULTS;
  const maxAgeMs = nonNegativeNumberOption(cache.maxAgeMs, 'cache.maxAgeMs', defaults.maxAgeMs);
  const maxEntries = cache.maxEntries ?? defaults.maxEntries;
  if (!Number.isInteger(maxEntries) || maxEntries < 0 || maxEntries > MAX_ENTRIES) {
    throw invalidArgument(`cache.maxEntries must be a whole number from 0 (off) to ${MAX_ENTRIES}`);
  }
  const inactive = nonNegativeNumberOption(
    cache.inactiveMaxAgeMs,
    'cache.inactiveMaxAgeMs',
    defaults.inactiveMaxAgeMs,
  );
  return { maxAgeMs, inactiveMaxAgeMs: Math.min(inactive, maxAgeMs), maxEntries };
}

interface Entry {
  answer: IntrospectionAnswer;
  expiresAtMs: number;
}

/**
 * Introspection answers by the SHA-256 of the token (the token itself is never kept): a
 * bounded LRU of answers, and one request in flight per token however many callers ask.
 * An active answer lives until the token's `exp` or `maxAgeMs`, whichever comes first; an
 * inactive one `inactiveMaxAgeMs`; a failure is not kept.
 */
export class IntrospectionCache {
  // A Map iterates in insertion order: re-inserting on a hit keeps the oldest first.
  private readonly entries = new Map<string, Entry>();
  private readonly inflight = new Map<string, Promise<IntrospectionAnswer>>();

  constructor(
    private readonly options: ResolvedIntrospectionCacheOptions,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The answer for `token`: cached, joined while in flight, or from `introspect` now. */
  async get(token: string, introspect: () => Promise<IntrospectionAnswer>): Promise<IntrospectionAnswer> {
    const key = await sha256Base64Url(token);
    const cached = this.lookup(key);
    if (cached !== undefined) return cached;
    let pending = this.inflight.get(key);
    if (pending === undefined) {
      pending = introspect().then(
        (answer) => {
          this.inflight.delete(key);
          this.store(key, answer);
          return answer;
        },
        (error: unknown) => {
          this.inflight.delete(key);
          throw error;
        },
      );
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private lookup(key: string): IntrospectionAnswer | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.entries.delete(key);
    if (this.now() >= entry.expiresAtMs) return undefined;
    this.entries.set(key, entry);
    return entry.answer;
  }

  private store(key: string, answer: IntrospectionAnswer): void {
    const now = this.now();
    const { maxAgeMs, inactiveMaxAgeMs, maxEntries } = this.options;
    const exp = answer.payload.exp;
    const expiresAtMs = answer.active
      ? Math.min(now + maxAgeMs, typeof exp === 'number' ? exp * 1000 : Infinity)
      : now + inactiveMaxAgeMs;
    if (maxEntries === 0 || !(expiresAtMs > now)) return;
    this.entries.delete(key);
    while (this.entries.size >= maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { answer, expiresAtMs });
  }
}

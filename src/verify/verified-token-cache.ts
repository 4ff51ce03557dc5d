/** The opt-in verified-token cache: bounded, checked again on every hit against the key set and the clock. */
import type { JwsAlgorithm } from '../token/algorithms.js';
import { type JwksKey, isSameKey } from '../token/jwk.js';
import { NO_KID_LABEL } from '../keys/key-set.js';
import type { JwtHeader, JwtPayload } from '../token/parse.js';

/** Tokens longer than this are verified every time and never cached (characters). */
export const MAX_CACHED_TOKEN_LENGTH = 4096;

/** A token whose signature verified, with what a hit needs to check it again. */
export interface VerifiedToken {
  readonly payload: JwtPayload;
  readonly header: JwtHeader;
  readonly alg: JwsAlgorithm;
  /** The JWKS key that verified the signature: a hit needs it still in the key set. */
  readonly key: JwksKey;
  /** `exp` in milliseconds: the entry is dropped once this has passed (plus tolerance). */
  readonly expiresAtMs: number;
}

/**
 * The opt-in verified-token cache (`cache.verifiedTokens`): a bounded LRU from the exact
 * token string to its verified header and payload, so a repeated token skips decoding and
 * the signature check. It stores only tokens that verified, at most `maxEntries` of them,
 * each at most {@link MAX_CACHED_TOKEN_LENGTH} characters, so its memory is bounded
 * whatever arrives. The verifier re-checks every claim (times with its own clock) and the
 * key on each hit; this class only keeps entries, evicts the least recently used, and
 * forgets expired ones and those of keys that left the JWKS.
 */
export class VerifiedTokenCache {
  // A Map iterates in insertion order: re-inserting on a hit keeps the oldest first.
  private readonly entries = new Map<string, VerifiedToken>();
  // The most recently used token: a hit on it needs no re-insertion (which, repeated on one
  // key, makes the Map rehash its table of deleted slots again and again).
  private newest: string | undefined;

  constructor(
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The entry for this exact token, unless it expired (then it is dropped). */
  get(token: string): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (this.now() >= entry.expiresAtMs) {
      this.entries.delete(token);
      return undefined;
    }
    if (token !== this.newest) {
      this.entries.delete(token);
      this.entries.set(token, entry);
      this.newest = token;
    }
    return entry;
  }

  /** Remembers a verified token; too long or already expired ones are not kept. */
  set(token: string, entry: VerifiedToken): void {
    if (token.length > MAX_CACHED_TOKEN_LENGTH || this.now() >= entry.expiresAtMs) return;
    this.entries.delete(token);
    while (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    this.entries.set(token, entry);
    this.newest = token;
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  /** Drops the entries verified by keys with these kids ({@link NO_KID_LABEL} for keys without one). */
  dropKids(kids: readonly string[]): void {
    if (kids.length === 0) return;
    const gone = new Set(kids);
    for (const [token, entry] of this.entries) {
      if (gone.has(entry.key.kid ?? NO_KID_LABEL)) this.entries.delete(token);
    }
  }
}

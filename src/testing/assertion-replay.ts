/** The one-time `jti`s of client assertions (RFC 7523 §3), each kept until its `exp`. */

/**
 * The `jti`s of accepted assertions, each until its `exp` (RFC 7523 §3 item 7): a bounded
 * map that refuses new assertions rather than forget unexpired ones when it is full, so a
 * replay is never accepted.
 */
export class AssertionReplayStore {
  readonly #seen = new Map<string, number>();
  readonly #max: number;
  readonly #now: () => number;

  constructor(max: number, now: () => number) {
    this.#max = max;
    this.#now = now;
  }

  /** How many assertions are remembered now. */
  get size(): number {
    return this.#seen.size;
  }

  /** `'new'` (remembered until `expiresAtMs`), `'replayed'`, or `'full'`. */
  remember(key: string, expiresAtMs: number): 'new' | 'replayed' | 'full' {
    const now = this.#now();
    for (const [seen, expiry] of this.#seen) if (expiry <= now) this.#seen.delete(seen);
    if (this.#seen.has(key)) return 'replayed';
    if (this.#seen.size >= this.#max) return 'full';
    this.#seen.set(key, expiresAtMs);
    return 'new';
  }
}

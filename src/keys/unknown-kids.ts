/** What the JWKS cache keeps about kids it does not know: which to refuse, and who may wait. */

/** How many kids, still unknown after a refetch, are remembered (oldest forgotten first). */
export const MAX_REMEMBERED_UNKNOWN_KIDS = 1000;
/** The least time a kid still unknown after a refetch is refused without another one. */
export const MIN_UNKNOWN_KID_TTL_MS = 30_000;
/**
 * How many distinct unknown kids may wait for a refetch at once. A rotation brings one new
 * kid, or a few; a burst of many distinct kids at once is a flood, and each of its kids
 * beyond these is refused at once rather than held until the next refetch.
 */
export const MAX_WAITING_UNKNOWN_KIDS = 16;
/**
 * How many calls may wait for a refetch at once, all kids together: tokens naming a kid that
 * already waits join it, up to this many in all.
 */
export const MAX_WAITING_CALLS = 1024;

/** Kids that stayed unknown after a refetch, each until its time is up. */
export class RememberedUnknownKids {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  has(kid: string): boolean {
    const until = this.until.get(kid);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.until.delete(kid);
    return false;
  }

  add(kid: string): void {
    this.until.delete(kid);
    if (this.until.size >= MAX_REMEMBERED_UNKNOWN_KIDS) {
      const oldest = this.until.keys().next().value;
      if (oldest !== undefined) this.until.delete(oldest);
    }
    this.until.set(kid, this.now() + this.ttlMs);
  }
}

/** Why a call may not wait for the refetch: too many distinct kids, or too many calls. */
export type WaitRefusal = 'kids' | 'calls';

/**
 * The calls waiting for a refetch (the one under way or the next the cooldown allows), counted
 * per kid: at most {@link MAX_WAITING_UNKNOWN_KIDS} distinct kids and
 * {@link MAX_WAITING_CALLS} calls at once, so a flood holds a bounded number of calls however
 * many tokens it sends.
 */
export class RefetchWaiters {
  private readonly callsPerKid = new Map<string, number>();
  private calls = 0;

  /** Counts a call with this kid as waiting, or says why it may not wait. */
  enter(kid: string): WaitRefusal | undefined {
    if (this.calls >= MAX_WAITING_CALLS) return 'calls';
    const waiting = this.callsPerKid.get(kid);
    if (waiting === undefined && this.callsPerKid.size >= MAX_WAITING_UNKNOWN_KIDS) return 'kids';
    this.callsPerKid.set(kid, (waiting ?? 0) + 1);
    this.calls++;
    return undefined;
  }

  /** Ends the wait of one call that {@link enter} let in. */
  leave(kid: string): void {
    const waiting = this.callsPerKid.get(kid)!;
    if (waiting > 1) this.callsPerKid.set(kid, waiting - 1);
    else this.callsPerKid.delete(kid);
    this.calls--;
  }
}

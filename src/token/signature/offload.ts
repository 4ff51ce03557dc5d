/**
 * Thread-pool offload: the one process-wide account that decides whether a signature is
 * checked synchronously or on libuv's thread pool (see docs/performance.md). Verifiers count
 * what is in flight here; the Node signature path reads it. One object, so that it shows in
 * types and tests can observe and reset it.
 */
export interface OffloadState {
  /** Verifications in flight at which the Node path moves to the thread pool. */
  readonly threshold: number;
  /** Thread-pool checks allowed to wait at once; further ones run on the main thread. */
  readonly maxPoolPending: number;
  /** Verifications waiting on the network (a JWKS fetch) or on the thread pool. */
  waiting: number;
  /** Calls made in the current job (a burst of requests arriving together). */
  callsThisJob: number;
  /** Thread-pool checks not yet answered. */
  poolPending: number;
}

export const offload: OffloadState = {
  threshold: 4,
  // High, because a low cap starved the pool on a 2-core machine (docs/performance.md): it
  // only bounds a runaway queue.
  maxPoolPending: 1024,
  waiting: 0,
  callsThisJob: 0,
  poolPending: 0,
};

/** Back to an idle process. For tests. */
export function resetOffload(): void {
  offload.waiting = 0;
  offload.callsThisJob = 0;
  offload.poolPending = 0;
}

// `.then` on a settled promise queues a plain microtask, at a fraction of queueMicrotask's
// cost on Node (which wraps each callback for async hooks).
const settled = Promise.resolve();
const endJob = (): void => {
  offload.callsThisJob = 0;
};

/**
 * Counts a call until the current job ends, not until it returns: calls made together all
 * count as in flight, which is what hands a pile-up to the pool.
 */
export function countCall(): void {
  if (offload.callsThisJob++ === 0) void settled.then(endJob);
}

/** What a signature check is told is in flight. */
export function inFlight(): number {
  return offload.waiting + offload.callsThisJob;
}

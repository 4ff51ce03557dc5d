/** Bounds for how long a fetched document is used before it is fetched again. */
export interface FreshnessBounds {
  /** Used when the response says nothing, and the most a `max-age` can ask for. */
  maxAgeMs: number;
  /** The least time a response is kept, whatever its `max-age` (or `no-cache`) says. */
  minAgeMs: number;
}

/**
 * How long a response stays fresh: its `Cache-Control: max-age` (less its `Age`), clamped
 * to the bounds, or `maxAgeMs` when it gives none. `no-store`/`no-cache` count as zero,
 * so they get the minimum: refetching a key set on every token would hand the issuer's
 * load to whoever sends tokens.
 */
export function freshnessMs(headers: Headers, bounds: FreshnessBounds): number {
  const cacheControl = headers.get('cache-control')?.toLowerCase() ?? '';
  let seconds: number | undefined;
  if (/(^|[\s,])(no-store|no-cache)([\s,=]|$)/.test(cacheControl)) seconds = 0;
  else {
    const match = /(?:^|[\s,])max-age\s*=\s*"?(\d+)"?/.exec(cacheControl);
    if (match) seconds = Number(match[1]) - (Number(headers.get('age')) || 0);
  }
  if (seconds === undefined) return bounds.maxAgeMs;
  return Math.min(Math.max(seconds * 1000, bounds.minAgeMs), bounds.maxAgeMs);
}

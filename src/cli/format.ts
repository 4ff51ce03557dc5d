/** How the CLI shows tokens, times and tables. */

/** A token as the CLI shows it: never whole, only the start of its header and its length. */
export interface ShortToken {
  prefix: string;
  length: number;
}

const TOKEN_PREFIX_LENGTH = 12;

export function shortToken(token: string): ShortToken {
  return { prefix: token.slice(0, TOKEN_PREFIX_LENGTH), length: token.length };
}

export function formatShortToken(token: string): string {
  const { prefix, length } = shortToken(token);
  return `${prefix}… (${length} characters)`;
}

/** One of the time claims, read as a date. */
export interface TimeClaim {
  claim: 'exp' | 'iat' | 'nbf';
  /** Seconds since the epoch, as in the token. */
  value: number;
  iso: string;
  /** E.g. `in 59 minutes`, `3 seconds ago`. */
  relative: string;
}

const UNITS: [Intl.RelativeTimeFormatUnit, number, number][] = [
  // unit, its length in seconds, and the largest magnitude (in seconds) shown in it
  ['second', 1, 90],
  ['minute', 60, 90 * 60],
  ['hour', 3600, 48 * 3600],
  ['day', 86400, Infinity],
];

const relativeFormat = new Intl.RelativeTimeFormat('en', { numeric: 'always' });

/** `in 5 minutes`, `2 hours ago`: the largest unit that keeps the number readable. */
export function relativeTime(targetSeconds: number, nowMs: number): string {
  const delta = targetSeconds - nowMs / 1000;
  const magnitude = Math.abs(delta);
  const [unit, size] = UNITS.find(([, , max]) => magnitude < max) ?? UNITS[UNITS.length - 1]!;
  return relativeFormat.format(Math.round(delta / size), unit);
}

/** `exp`, `iat` and `nbf` of a payload that are numbers, as ISO dates and relative times. */
export function timeClaims(payload: Record<string, unknown>, nowMs: number): TimeClaim[] {
  const claims: TimeClaim[] = [];
  for (const claim of ['iat', 'nbf', 'exp'] as const) {
    const value = payload[claim];
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const date = new Date(value * 1000);
    if (Number.isNaN(date.getTime())) continue;
    claims.push({ claim, value, iso: date.toISOString(), relative: relativeTime(value, nowMs) });
  }
  return claims;
}

/** `timeClaims` keyed by claim, for JSON output. */
export function timeClaimsObject(
  payload: Record<string, unknown>,
  nowMs: number,
): Record<string, Omit<TimeClaim, 'claim'>> {
  return Object.fromEntries(timeClaims(payload, nowMs).map(({ claim, ...rest }) => [claim, rest]));
}

/** Pretty JSON, each line indented. */
export function indentJson(value: unknown, indent = '  '): string {
  return JSON.stringify(value, null, 2)
    .split('\n')
    .map((line) => indent + line)
    .join('\n');
}

/** Left-aligned columns; `undefined` cells print as `-`. */
export function table(rows: readonly (readonly (string | undefined)[])[], indent = '  '): string[] {
  const cells = rows.map((row) => row.map((cell) => cell ?? '-'));
  const widths: number[] = [];
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return cells.map(
    (row) =>
      indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
  );
}

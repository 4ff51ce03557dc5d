// The human-readable report of a token's header and claims (times, audiences, binding).
import type { JwtHeader, JwtPayload } from '../index.js';
import type { CommandContext } from './command.js';
import { indentJson, table, timeClaims } from './format.js';

/** Prints header, payload and the time claims; `mark` follows each heading, e.g. ` (UNVERIFIED)`. */
export function printHeaderAndPayload(
  ctx: CommandContext,
  { header, payload }: { header: JwtHeader; payload: JwtPayload },
  nowMs: number,
  mark = '',
): void {
  const { style } = ctx;
  ctx.out(style.bold('header') + style.yellow(mark));
  ctx.out(indentJson(header));
  ctx.out(style.bold('payload') + style.yellow(mark));
  ctx.out(indentJson(payload));
  const times = timeClaims(payload, nowMs);
  if (times.length > 0) {
    ctx.out(style.bold('times'));
    for (const line of table(
      times.map((t) => [t.claim, t.iso, t.relative + timeNote(t.claim, t.value, nowMs)]),
    )) {
      ctx.out(line);
    }
  }
  const cnf = cnfOf(payload);
  if (cnf === null) return;
  ctx.out(style.bold('cnf') + style.yellow(mark));
  for (const line of table(
    Object.entries(cnf).map(([name, value]) => [name, JSON.stringify(value), cnfNote(name)]),
  )) {
    ctx.out(line);
  }
}

/** The token's confirmation claim (RFC 7800 `cnf`): what it is bound to, or `null`. */
export function cnfOf(payload: JwtPayload): Record<string, unknown> | null {
  const { cnf } = payload;
  return typeof cnf === 'object' && cnf !== null && !Array.isArray(cnf)
    ? (cnf as Record<string, unknown>)
    : null;
}

function cnfNote(member: string): string {
  if (member === 'jkt')
    return 'DPoP-bound: send it as `Authorization: DPoP` with a proof of this key (RFC 9449)';
  if (member === 'x5t#S256') return 'bound to a TLS client certificate (RFC 8705)';
  return '';
}

/** A hint for the reader of a time that already makes the token unusable. */
function timeNote(claim: string, value: number, nowMs: number): string {
  const past = value * 1000 <= nowMs;
  if (claim === 'exp' && past) return ' (expired)';
  if ((claim === 'nbf' || claim === 'iat') && !past) return ' (in the future)';
  return '';
}

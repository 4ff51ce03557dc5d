/**
 * Option checks: the one home of the checks a constructor or a factory runs on what it is
 * given. A caller's mistake is a `TypeError` with `code: 'ERR_INVALID_ARGUMENT'` at once
 * (never on a later request), worded the same wherever the option is taken.
 */
import { invalidArgument } from './errors.js';

/** True for `localhost`, 127.0.0.0/8 and `[::1]` (RFC 8252 §8.3 loopback). */
export function isLoopbackHost(hostname: string): boolean {
  return /^((.*\.)?localhost|\[::1\]|127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/i.test(hostname);
}

/** Whether a URL may carry keys or metadata: HTTPS, or HTTP to a loopback host, or opted in. */
export function isSecureUrl(url: URL, allowInsecureHttp = false): boolean {
  const { protocol } = url;
  return (
    protocol === 'https:' || (protocol === 'http:' && (allowInsecureHttp || isLoopbackHost(url.hostname)))
  );
}

/** Parses a URL given in options; a bad one is the caller's mistake, so a TypeError now. */
export function parseOptionUrl(value: unknown, name: string, allowInsecureHttp = false): URL {
  let url: URL | undefined;
  try {
    url = new URL(typeof value === 'string' || value instanceof URL ? value : '?');
  } catch {
    throw invalidArgument(`${name} is not a valid URL: ${JSON.stringify(String(value))}`);
  }
  if (!isSecureUrl(url, allowInsecureHttp)) {
    throw invalidArgument(
      `${name} must use https: (http: only to loopback hosts, or with allowInsecureHttp): ${url.href}`,
    );
  }
  return url;
}

/** Validates a `timeoutMs`-like option: a finite number of at least 0, or the default. */
export function nonNegativeNumberOption(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value < Infinity)) {
    throw invalidArgument(`${name} must be a non-negative number, got ${String(value)}`);
  }
  return value;
}

/** An optional function option (a callback, a clock, a transport); `what` is how its message names it. */
export function functionOption<F extends (...args: never[]) => unknown>(
  value: F | undefined,
  name: string,
  what = 'a function',
): F | undefined {
  if (value !== undefined && typeof value !== 'function') throw invalidArgument(`${name} must be ${what}`);
  return value;
}

/** An optional boolean option. */
export function booleanOption(value: unknown, name: string): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') throw invalidArgument(`${name} must be a boolean`);
  return value;
}

/** A required non-empty string option; never echoes the value (it may be a secret). */
export function nonEmptyStringOption(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') throw invalidArgument(`${name} must be a non-empty string`);
  return value;
}

/** A string option (a key prefix, a realm), possibly empty; `undefined` stays `undefined`. */
export function stringOption<S extends string | undefined>(value: S, name: string): S {
  if (value !== undefined && typeof value !== 'string') throw invalidArgument(`${name} must be a string`);
  return value;
}

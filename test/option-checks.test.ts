// src/option-checks.ts: the one wording of a caller's mistake in options, a TypeError with
// code ERR_INVALID_ARGUMENT thrown at once.
import { describe, expect, it } from 'vitest';
import {
  booleanOption,
  functionOption,
  isSecureUrl,
  nonEmptyStringOption,
  nonNegativeNumberOption,
  parseOptionUrl,
  stringOption,
} from '../src/option-checks.js';
import { thrown } from './support/rejections.js';

describe('option checks', () => {
  it.each<[string, () => unknown, string]>([
    ['a function', () => functionOption(1 as never, 'now'), 'now must be a function'],
    [
      'a function, worded by the caller',
      () => functionOption('x' as never, 'clientCertificate', 'a function of the request'),
      'clientCertificate must be a function of the request',
    ],
    ['a boolean', () => booleanOption('yes', 'jwtResponse'), 'jwtResponse must be a boolean'],
    ['a non-empty string', () => nonEmptyStringOption('', 'typ'), 'typ must be a non-empty string'],
    ['a string', () => stringOption(3 as never, 'prefix'), 'prefix must be a string'],
    [
      'a non-negative number',
      () => nonNegativeNumberOption(-1, 'timeoutMs', 5),
      'timeoutMs must be a non-negative number, got -1',
    ],
    ['a URL', () => parseOptionUrl('not a url', 'jwksUri'), 'jwksUri is not a valid URL: "not a url"'],
    [
      'an https: URL',
      () => parseOptionUrl('http://issuer.example/', 'issuer'),
      'issuer must use https: (http: only to loopback hosts, or with allowInsecureHttp): http://issuer.example/',
    ],
  ])('refuses what is not %s with a TypeError (ERR_INVALID_ARGUMENT)', (_what, check, message) => {
    const error = thrown(check);
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toBe(message);
  });

  it('passes good values and leaves an absent optional one absent', () => {
    const now = () => 1;
    expect(functionOption(now, 'now')).toBe(now);
    expect(functionOption(undefined, 'now')).toBeUndefined();
    expect(booleanOption(false, 'flag')).toBe(false);
    expect(booleanOption(undefined, 'flag')).toBeUndefined();
    expect(nonEmptyStringOption('a', 'name')).toBe('a');
    expect(stringOption('', 'prefix')).toBe('');
    expect(nonNegativeNumberOption(undefined, 'timeoutMs', 5)).toBe(5);
    expect(nonNegativeNumberOption(0, 'timeoutMs', 5)).toBe(0);
    expect(parseOptionUrl('http://127.0.0.1:8080/x', 'issuer').href).toBe('http://127.0.0.1:8080/x');
    expect(isSecureUrl(new URL('http://localhost/'))).toBe(true);
    expect(isSecureUrl(new URL('http://issuer.example/'), true)).toBe(true);
    expect(isSecureUrl(new URL('http://issuer.example/'))).toBe(false);
  });
});

// What a test reads off a rejection: the error itself, its contract code, or every property
// the contract promises of it. One home for the helpers every folder's tests use.
import { expect } from 'vitest';
import { ERROR_STATUS, JwtVerifyError, type JwtVerifyErrorCode, isJwtVerifyError } from '../../src/errors.js';

const CODES = Object.keys(ERROR_STATUS) as JwtVerifyErrorCode[];

/** What a promise rejected with, or a function threw (sync or async); fails the test when nothing did. */
export async function caught(
  run: Promise<unknown> | (() => unknown),
): Promise<Record<string, unknown> & Error> {
  try {
    await (typeof run === 'function' ? run() : run);
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected an error, got none');
}

/** What a synchronous `run` threw; fails the test when it did not throw. */
export function thrown(run: () => unknown): Record<string, unknown> & Error {
  try {
    run();
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected a throw, got none');
}

function contractCode(error: unknown): JwtVerifyErrorCode {
  if (!isJwtVerifyError(error)) throw new Error(`not a JwtVerifyError: ${String(error)}`, { cause: error });
  expect(CODES).toContain(error.code);
  return error.code;
}

/** The JwtVerifyError a promise rejected with; fails the test when it resolved or rejected with anything else. */
export async function jwtRejection(promise: Promise<unknown>): Promise<JwtVerifyError> {
  const error = await caught(promise);
  contractCode(error);
  return error as unknown as JwtVerifyError;
}

/** The contract's code a rejection carries, or `'resolved'`; fails the test for anything but a JwtVerifyError. */
export async function rejectionCode(promise: Promise<unknown>): Promise<JwtVerifyErrorCode | 'resolved'> {
  try {
    await promise;
  } catch (error) {
    return contractCode(error);
  }
  return 'resolved';
}

/** The contract's code `run` throws, or `'ok'`; fails the test for anything but a JwtVerifyError. */
export function thrownCode(run: () => unknown): JwtVerifyErrorCode | 'ok' {
  try {
    run();
  } catch (error) {
    return contractCode(error);
  }
  return 'ok';
}

/**
 * Awaits a verification that must fail with `code`, and checks what the contract promises of
 * every rejection: a JwtVerifyError with the table's status, an RFC 6750 challenge, and a
 * message that never holds the token.
 */
export async function expectRejection(
  promise: Promise<unknown>,
  code: JwtVerifyErrorCode,
  token?: string,
): Promise<JwtVerifyError> {
  const error = await caught(promise);
  expect((error as Partial<JwtVerifyError>).code, error.message).toBe(code);
  expect(error).toBeInstanceOf(JwtVerifyError);
  expect(isJwtVerifyError(error, code)).toBe(true);
  const jwtError = error as unknown as JwtVerifyError;
  expect(jwtError.status).toBe(ERROR_STATUS[code]);
  expect(jwtError.message.length).toBeGreaterThan(10);
  if (token) {
    expect(jwtError.message).not.toContain(token);
    const [, payload, signature] = token.split('.');
    if (signature) expect(jwtError.message).not.toContain(signature);
    if (payload && payload.length > 20) expect(jwtError.message).not.toContain(payload);
  }
  return jwtError;
}

// How the CLI reports a rejection or a failure: the reason, and the exit code.
import { errorReason } from '../errors.js';
import { type JwtVerifyError, isJwtVerifyError } from '../index.js';
import { EXIT, type ExitCode, UsageError } from './io.js';

/** The `error` member of every failed command's JSON output. */
export interface ErrorJson {
  code: string;
  /** The HTTP status a resource server would answer with (library errors only). */
  status?: number;
  message: string;
}

/** 2 when the issuer could not be reached or answered nonsense, else 1: the token was rejected. */
export function exitCodeFor(error: JwtVerifyError): ExitCode {
  return error.code === 'ERR_ISSUER_UNAVAILABLE' || error.code === 'ERR_METADATA_INVALID'
    ? EXIT.usage
    : EXIT.rejected;
}

/** A caller mistake in options surfaces from the library as a TypeError with this code. */
export function isInvalidArgument(error: unknown): error is TypeError {
  return (
    error instanceof TypeError && (error as TypeError & { code?: string }).code === 'ERR_INVALID_ARGUMENT'
  );
}

export function errorJson(error: unknown): ErrorJson {
  if (isJwtVerifyError(error)) return { code: error.code, status: error.status, message: error.message };
  if (error instanceof UsageError || isInvalidArgument(error))
    return { code: 'ERR_USAGE', message: error.message };
  return { code: 'ERR_INTERNAL', message: errorReason(error) };
}

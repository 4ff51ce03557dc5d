// Where a command's token comes from: the argument, or standard input with `-`.
import { type CliIo, UsageError } from './io.js';

/** Longest input read from stdin, in bytes: far above any real token. */
const MAX_STDIN_BYTES = 1024 * 1024;

/**
 * The token given on the command line, or read from stdin when the argument is `-` (so it
 * never has to sit in shell history). Surrounding whitespace and an `Authorization`-style
 * `Bearer ` or `DPoP ` prefix are dropped, so a pasted header value works too.
 */
export async function readTokenArgument(argument: string, io: CliIo): Promise<string> {
  const raw = argument === '-' ? await readStdin(io) : argument;
  const token = raw.trim().replace(/^(?:bearer|dpop)\s+/i, '');
  if (token === '') {
    throw new UsageError(argument === '-' ? 'stdin held no token' : 'the token argument is empty');
  }
  return token;
}

async function readStdin(io: CliIo): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of io.stdin) {
    const bytes = typeof chunk === 'string' ? new TextEncoder().encode(chunk) : (chunk as Uint8Array);
    total += bytes.byteLength;
    if (total > MAX_STDIN_BYTES)
      throw new UsageError(`stdin holds more than ${MAX_STDIN_BYTES} bytes; expected one token`);
    chunks.push(bytes);
  }
  return Buffer.concat(chunks).toString('utf8');
}

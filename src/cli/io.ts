/** Where the CLI reads and writes: the process's streams, or a test's stand-ins. */
export interface CliIo {
  stdout: { write(chunk: string): unknown; isTTY?: boolean };
  stderr: { write(chunk: string): unknown; isTTY?: boolean };
  stdin: AsyncIterable<unknown> & { isTTY?: boolean };
  env: Record<string, string | undefined>;
}

/** Exit statuses: the contract's 0 ok, 1 rejected, 2 usage or network/issuer failure. */
export const EXIT = { ok: 0, rejected: 1, usage: 2 } as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** A mistake in the command line: printed with a pointer to `--help`, exit 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
}

export function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env };
}

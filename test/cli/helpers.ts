// Runs the built CLI (dist/cli/index.js) as a child process. The suite's global setup builds
// dist/ when it is stale (scripts/ensure-build.mjs); `ensureBuilt` repeats that check for a
// file run on its own.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ensureBuilt as buildIfStale, root as packageRoot } from '../../scripts/ensure-build.mjs';

export const root = `${packageRoot}/`;
export const cliPath = join(root, 'dist', 'cli', 'index.js');
/** For `beforeAll(ensureBuilt, BUILD_TIMEOUT_MS)`: a full build on a busy 2-core machine is slow. */
export const BUILD_TIMEOUT_MS = 600_000;

/** Makes sure dist/cli/index.js is built from the current sources (for `beforeAll`). */
export async function ensureBuilt(): Promise<void> {
  buildIfStale({ log: () => undefined });
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the CLI's stdin, which is then closed. Default: stdin closed at once. */
  input?: string;
  /** Added to the environment; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
}

/** Runs `node dist/cli/index.js ...args` without colour variables unless given. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: undefined,
    FORCE_COLOR: undefined,
  };
  for (const [name, value] of Object.entries(options.env ?? {})) env[name] = value;
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], {
      cwd: root,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/**
 * The arguments of `verify <token> --issuer <issuer> --audience <audience> ...extra`, for a
 * stub issuer (read when the arguments are made).
 */
export function verifyCommand(
  issuer: { readonly issuer: string },
  audience: string,
): (token: string, ...extra: string[]) => string[] {
  return (token, ...extra) => ['verify', token, '--issuer', issuer.issuer, '--audience', audience, ...extra];
}

/** Parses `--json` output: exactly one JSON document on stdout. */
export function parseJson(result: CliResult): Record<string, any> {
  return JSON.parse(result.stdout) as Record<string, any>;
}

/** Expects the CLI's output to hold every one of `parts` (each checked, so a failure names the missing one). */
export function expectOutputToContain(output: string, parts: readonly string[]): void {
  for (const part of parts) expect(output).toContain(part);
}

/** True when the text holds an ANSI escape sequence. */
export function hasAnsi(text: string): boolean {
  return text.includes('\u001b[');
}

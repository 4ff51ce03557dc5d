// Runs the built `oauth-jwt-verify issuer` command as a child process for tests in any folder:
// `--port 0 --json`, resolved once its one JSON line says where it listens.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { root } from '../../scripts/ensure-build.mjs';

/** dist/cli/index.js: build first (`ensureBuilt` from test/cli/helpers.ts, or the global setup). */
export const CLI_PATH = join(root, 'dist', 'cli', 'index.js');
/** The commands this test file started and has not stopped yet. */
const running = new Set<IssuerCommand['stop']>();
// Registered when a test file imports this module, so in that file's root suite: an
// afterAll made inside a test or a hook would not run.
afterAll(() => Promise.all([...running].map((stop) => stop())).then(() => undefined));

/** How long the command may take to start on a busy 2-core machine, in ms. */
export const START_TIMEOUT_MS = 30_000;

/** A running `issuer` command. */
export interface IssuerCommand {
  /** The server's base URL (`--public-url` when given). */
  url: string;
  /** The root issuer's URL, or the first of `issuers`. */
  issuer: string;
  /** Each issuer's URL by id (`default` without `issuers` in the config). */
  issuers: Record<string, string>;
  child: ChildProcessWithoutNullStreams;
  /** What the command wrote to stderr so far (warnings, request log lines with `--json`). */
  stderr(): string;
  /**
   * Sends `signal` (default SIGTERM) and resolves to the exit code once it and its output's
   * other writers are gone (`null` when it was killed by the signal, as npm is).
   */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Where the command comes from: by default `node dist/cli/index.js` in the repository. */
export interface IssuerCommandSource {
  /** The program and its first arguments, e.g. `['npx', '--no', 'oauth-jwt-verify']`. */
  command?: readonly string[];
  cwd?: string;
  /**
   * Start it as a process group and signal the whole group, as a terminal's Ctrl-C does:
   * for a wrapper such as `npx`, whose child is the server. Default `false`.
   */
  processGroup?: boolean;
}

/**
 * Spawns `node dist/cli/index.js issuer --port 0 --json ...args` (`args` may override the
 * port) with `env` added to the environment, and waits for its JSON line. The command is
 * stopped after the calling file's tests unless stopped before.
 */
export function startIssuerCommand(
  args: readonly string[] = [],
  env: Record<string, string> = {},
  { command = [process.execPath, CLI_PATH], cwd = root, processGroup = false }: IssuerCommandSource = {},
): Promise<IssuerCommand> {
  const [program, ...first] = command;
  const child = spawn(program!, [...first, 'issuer', '--port', '0', '--json', ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: processGroup,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  // 'close': the process exited and so did every other writer of its output (npx's child).
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (child.exitCode === null && child.signalCode === null) {
      if (processGroup) process.kill(-child.pid!, signal);
      else child.kill(signal);
    }
    return exited;
  };
  running.add(stop);
  void exited.then(() => running.delete(stop));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop('SIGKILL');
      reject(new Error(`the issuer command did not start within ${START_TIMEOUT_MS} ms; stderr: ${stderr}`));
    }, START_TIMEOUT_MS);
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      const newline = stdout.indexOf('\n');
      if (newline < 0) return;
      clearTimeout(timer);
      try {
        const line = JSON.parse(stdout.slice(0, newline)) as Pick<
          IssuerCommand,
          'url' | 'issuer' | 'issuers'
        >;
        resolve({ ...line, child, stderr: () => stderr, stop });
      } catch (error) {
        reject(new Error(`the issuer command printed no JSON line: ${stdout}`, { cause: error }));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`the issuer command exited with ${code} before it was ready; stderr: ${stderr}`));
    });
  });
}

// Runs the built CLI (dist/cli/index.js) as a child process. The build is reused when it is
// newer than every source; otherwise it is rebuilt once (with `tsup`, as `npm run build`),
// under a lock so that test files running in parallel do not build over each other.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const cliPath = join(root, 'dist', 'cli', 'index.js');
/** For `beforeAll(ensureBuilt, BUILD_TIMEOUT_MS)`: a full build on a busy 2-core machine is slow. */
export const BUILD_TIMEOUT_MS = 600_000;
const lockDir = join(root, 'node_modules', '.cache', 'oauth-jwt-verify-cli-test-build.lock');
const STALE_LOCK_MS = 30_000;

function mtimeMs(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestMtimeMs(path: string): number {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  return Math.max(stats.mtimeMs, ...readdirSync(path).map((entry) => newestMtimeMs(join(path, entry))));
}

function buildIsFresh(): boolean {
  const built = mtimeMs(cliPath);
  if (built === undefined) return false;
  const sources = Math.max(
    newestMtimeMs(join(root, 'src')),
    ...['tsup.config.ts', 'package.json'].map((file) => mtimeMs(join(root, file)) ?? 0),
  );
  return built >= sources;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the build lock (a directory holding the builder's pid); frees one its builder left behind. */
function tryLock(): boolean {
  try {
    mkdirSync(dirname(lockDir), { recursive: true });
    mkdirSync(lockDir);
    writeFileSync(join(lockDir, 'pid'), String(process.pid));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    let owner = Number.NaN;
    try {
      owner = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
    } catch {
      // Just created, pid not written yet: give it time, unless it is old.
    }
    const since = mtimeMs(lockDir);
    // The pid is written right after the directory is made: a lock long without one is dead.
    const abandoned = Number.isInteger(owner) && owner > 0 ? !processAlive(owner) : since !== undefined && Date.now() - since > STALE_LOCK_MS;
    if (abandoned) rmSync(lockDir, { recursive: true, force: true });
    return false;
  }
}

/**
 * Makes sure dist/cli/index.js is built from the current sources (for `beforeAll`): at most
 * one `tsup` run, the same as `npm run build`. A failing declaration build does not stop
 * the CLI tests when the JavaScript was written; the type check reports it.
 */
export async function ensureBuilt(): Promise<void> {
  if (buildIsFresh()) return;
  while (!tryLock()) {
    // Another test file is building: wait for its lock to go.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  try {
    if (buildIsFresh()) return;
    const startedAt = Date.now();
    const require = createRequire(import.meta.url);
    const tsupPackage = require.resolve('tsup/package.json');
    const bin = join(dirname(tsupPackage), (require(tsupPackage) as { bin: { tsup: string } }).bin.tsup);
    try {
      await promisify(execFile)(process.execPath, [bin], { cwd: root, maxBuffer: 16 * 1024 * 1024 });
    } catch (error) {
      const built = mtimeMs(cliPath);
      if (built === undefined || built < startedAt - 1000) throw error;
    }
  } finally {
    rmSync(lockDir, { recursive: true, force: true });
  }
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
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined };
  for (const [name, value] of Object.entries(options.env ?? {})) env[name] = value;
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cliPath, ...args], { cwd: root, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

/** Parses `--json` output: exactly one JSON document on stdout. */
export function parseJson(result: CliResult): Record<string, any> {
  return JSON.parse(result.stdout) as Record<string, any>;
}

/** True when the text holds an ANSI escape sequence. */
export function hasAnsi(text: string): boolean {
  return text.includes('\u001b[');
}

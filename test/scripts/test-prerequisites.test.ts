// scripts/test-prerequisites.mjs, the step `npm test` runs first: each case runs the script
// in a child process whose PATH is a temp folder of fake programs (chromium, redis-server,
// apt-get, sudo), so what is "installed" is up to the test and no real install happens.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { aptPackage, programsFor } from '../../scripts/test-prerequisites.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const script = join(root, 'scripts/test-prerequisites.mjs');
// What this machine's apt calls Chromium (chromium on Debian, chromium-browser on Ubuntu).
const chromiumPackage = aptPackage('chromium');
const sudo = process.getuid?.() === 0 ? '' : 'sudo ';

let bin: string;
let aptLog: string;

function fakeProgram(name: string, body = 'exit 0'): string {
  const path = join(bin, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** An apt-get that records each call and "installs" the packages it is given into bin. */
function fakeAptGet({ failInstall = false } = {}) {
  fakeProgram(
    'apt-get',
    `printf '%s\\n' "DEBIAN_FRONTEND=$DEBIAN_FRONTEND $*" >> '${aptLog}'
[ "$1" = install ] || exit 0
${failInstall ? "echo 'E: Unable to locate package chromium' >&2; exit 100" : ''}
for package in "$@"; do
  case "$package" in
    chromium|chromium-browser) program=chromium ;;
    redis-server) program=redis-server ;;
    python3-jwt) program=python3 ;;
    *) continue ;;
  esac
  printf '#!/bin/sh\\n' > '${bin}'/$program
  /bin/chmod +x '${bin}'/$program
done`,
  );
  // For a run as a user other than root: passwordless sudo that passes VAR=value on.
  fakeProgram(
    'sudo',
    `[ "$1" = -n ] && shift
while :; do case "$1" in *=*) export "$1"; shift ;; *) break ;; esac; done
"$@"`,
  );
}

function aptCalls(): string[] {
  return existsSync(aptLog) ? readFileSync(aptLog, 'utf8').trimEnd().split('\n') : [];
}

/** Runs the script with only `env` (PATH: the fake programs) and the given arguments. */
function run(args: string[] = [], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [script, ...args], {
    env: { PATH: bin, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

beforeEach(() => {
  bin = mkdtempSync(join(tmpdir(), 'oauth-jwt-verify-prereqs-'));
  aptLog = join(bin, 'apt-get.log');
});

afterEach(() => {
  rmSync(bin, { recursive: true, force: true });
});

/** A python3 that imports jwt (exit 0), or one that cannot (`import jwt` fails, as without python3-jwt). */
function fakePython({ jwt = true } = {}): string {
  return fakeProgram('python3', jwt ? 'exit 0' : '[ "$2" = "import jwt" ] && exit 1; exit 0');
}

describe('checking', () => {
  it('passes and names each program when all are on PATH, installing nothing', () => {
    const chromium = fakeProgram('chromium');
    const redis = fakeProgram('redis-server');
    const python = fakePython();
    fakeAptGet();
    const result = run(['--install']);
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `test prerequisites: Chromium ${chromium}, redis-server ${redis}, python3 with PyJWT ${python}\n`,
    );
    expect(result.stderr).toBe('');
    expect(aptCalls()).toEqual([]);
  });

  it('stops with exit 1 when Chromium is missing, naming the chromium package and the command', () => {
    fakeProgram('redis-server');
    fakePython();
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('so no test was run');
    expect(result.stderr).toContain(
      '  Chromium: not found (CHROMIUM_PATH is not set, and neither chromium nor chromium-browser is on PATH)',
    );
    expect(result.stderr).not.toContain('redis-server:');
    expect(result.stderr).toContain(
      `  Debian/Ubuntu:  ${sudo}apt-get update && ${sudo}apt-get install -y ${chromiumPackage}\n`,
    );
    expect(result.stderr).toContain('  macOS:          brew install --cask chromium\n');
    expect(result.stderr).toContain(
      'export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium',
    );
  });

  it('stops with exit 1 when redis-server is missing, naming the redis-server package and the command', () => {
    fakeProgram('chromium');
    fakePython();
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      '  redis-server: not found (REDIS_SERVER is not set, and redis-server is not on PATH)',
    );
    expect(result.stderr).not.toContain('Chromium:');
    expect(result.stderr).toContain(
      `  Debian/Ubuntu:  ${sudo}apt-get update && ${sudo}apt-get install -y redis-server\n`,
    );
    expect(result.stderr).toContain('  macOS:          brew install redis\n');
    expect(result.stderr).toContain('  not on PATH:    REDIS_SERVER=/path/to/redis-server npm test\n');
  });

  it('takes chromium-browser on PATH for Chromium', () => {
    const chromium = fakeProgram('chromium-browser');
    fakeProgram('redis-server');
    fakePython();
    const result = run();
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(`Chromium ${chromium},`);
  });

  it('takes CHROMIUM_PATH and REDIS_SERVER over PATH', () => {
    fakeProgram('chromium');
    fakeProgram('redis-server');
    const python = fakePython();
    const elsewhere = mkdtempSync(join(tmpdir(), 'oauth-jwt-verify-prereqs-elsewhere-'));
    try {
      for (const name of ['my-chromium', 'my-redis']) {
        writeFileSync(join(elsewhere, name), '#!/bin/sh\n');
        chmodSync(join(elsewhere, name), 0o755);
      }
      const env = {
        CHROMIUM_PATH: join(elsewhere, 'my-chromium'),
        REDIS_SERVER: join(elsewhere, 'my-redis'),
      };
      const result = run([], env);
      expect(result.status).toBe(0);
      expect(result.stdout).toBe(
        `test prerequisites: Chromium ${env.CHROMIUM_PATH}, redis-server ${env.REDIS_SERVER}, python3 with PyJWT ${python}\n`,
      );
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('stops when CHROMIUM_PATH points at nothing, and does not try to install over it', () => {
    fakeProgram('redis-server');
    fakePython();
    fakeAptGet();
    const result = run(['--install'], { CHROMIUM_PATH: join(bin, 'no-such-chromium') });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `  Chromium: CHROMIUM_PATH is ${join(bin, 'no-such-chromium')}, which is not an executable file`,
    );
    expect(result.stderr).toContain('Point CHROMIUM_PATH at Chromium, or unset it to use PATH.');
    expect(result.stderr).not.toContain('apt-get install');
    expect(aptCalls()).toEqual([]);
  });
});

describe('python3 with PyJWT', () => {
  it('stops with exit 1 when python3 cannot import jwt, naming the python3-jwt package', () => {
    fakeProgram('chromium');
    fakeProgram('redis-server');
    const python = fakePython({ jwt: false });
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `  python3 with PyJWT: ${python} cannot run \`python3 -c import jwt\` (the python3-jwt package is missing)`,
    );
    expect(result.stderr).toContain(
      `  Debian/Ubuntu:  ${sudo}apt-get update && ${sudo}apt-get install -y python3-jwt\n`,
    );
    expect(result.stderr).toContain(
      '  macOS:          brew install python && pip3 install pyjwt cryptography\n',
    );
  });

  it('takes a later python3 on PATH that imports jwt over an earlier one that does not (pyenv before the system)', () => {
    fakeProgram('chromium');
    fakeProgram('redis-server');
    fakePython({ jwt: false });
    const system = mkdtempSync(join(tmpdir(), 'oauth-jwt-verify-prereqs-system-'));
    try {
      writeFileSync(join(system, 'python3'), '#!/bin/sh\nexit 0\n');
      chmodSync(join(system, 'python3'), 0o755);
      const result = run([], { PATH: `${bin}:${system}` });
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`python3 with PyJWT ${join(system, 'python3')}\n`);
    } finally {
      rmSync(system, { recursive: true, force: true });
    }
  });

  it('installs python3-jwt with apt-get when it is missing', () => {
    fakeProgram('chromium');
    fakeProgram('redis-server');
    fakeAptGet();
    const result = run(['--install']);
    expect(aptCalls()).toEqual([
      'DEBIAN_FRONTEND=noninteractive update -qq',
      'DEBIAN_FRONTEND=noninteractive install -y -qq python3-jwt',
    ]);
    expect(result.status).toBe(0);
  });
});

describe('installing (--install, as npm test runs it)', () => {
  it('installs all with apt-get, non-interactively, and then passes', () => {
    fakeAptGet();
    const result = run(['--install']);
    expect(aptCalls()).toEqual([
      'DEBIAN_FRONTEND=noninteractive update -qq',
      `DEBIAN_FRONTEND=noninteractive install -y -qq ${chromiumPackage} redis-server python3-jwt`,
    ]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      `test prerequisites: installing ${chromiumPackage} redis-server python3-jwt (`,
    );
    expect(result.stdout).toContain(
      `test prerequisites: installed ${chromiumPackage} redis-server python3-jwt.\n`,
    );
    expect(result.stdout).toContain(
      `test prerequisites: Chromium ${join(bin, 'chromium')}, redis-server ${join(bin, 'redis-server')}, python3 with PyJWT ${join(bin, 'python3')}\n`,
    );
    expect(result.stderr).toBe('');
  });

  it('installs only what is missing', () => {
    fakeProgram('chromium');
    fakePython();
    fakeAptGet();
    const result = run(['--install']);
    expect(aptCalls()).toEqual([
      'DEBIAN_FRONTEND=noninteractive update -qq',
      'DEBIAN_FRONTEND=noninteractive install -y -qq redis-server',
    ]);
    expect(result.status).toBe(0);
  });

  it('stops with exit 1 and apt-get output when the install fails', () => {
    fakeAptGet({ failInstall: true });
    const result = run(['--install']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(
      `install -y -qq ${chromiumPackage} redis-server python3-jwt failed (exit 100):\nE: Unable to locate package chromium\n`,
    );
    expect(result.stderr).toContain('  Chromium: not found');
    expect(result.stderr).toContain(`apt-get install -y ${chromiumPackage} redis-server python3-jwt`);
  });

  it('says it cannot install when there is no apt-get, and stops with exit 1', () => {
    const result = run(['--install']);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('Not installing them: there is no apt-get on this machine.\n');
    expect(result.stderr).toContain(`apt-get install -y ${chromiumPackage} redis-server python3-jwt`);
    expect(result.stderr).toContain(
      'brew install --cask chromium && brew install redis && brew install python',
    );
  });
});

describe('which test files need what', () => {
  it('maps the browser tier to Chromium and the Redis fleet tests to redis-server', () => {
    expect(programsFor(['test/browser/pkce.browser.test.ts'])).toEqual(['chromium']);
    expect(programsFor([join(root, 'test/fleet/redis.test.ts')])).toEqual(['redis-server']);
    expect(programsFor(['test/token/parse.test.ts', 'test/fleet/store.test.ts'])).toEqual([]);
    expect(programsFor(['test/testing/server/python-resource-server.test.ts'])).toEqual(['python3-jwt']);
  });

  it('needs everything when it is not told which files run', () => {
    expect(programsFor([])).toEqual(['chromium', 'redis-server', 'python3-jwt']);
  });

  it('covers every test file that launches Chromium, starts redis-server or runs python3 with PyJWT', () => {
    const files = (readdirSync(join(root, 'test'), { recursive: true }) as string[])
      .filter((file) => file.endsWith('.test.ts'))
      .map((file) => join(root, 'test', file));
    const uses = (pattern: RegExp) => files.filter((file) => pattern.test(readFileSync(file, 'utf8')));
    // Directly, or through the browser harness (test/browser/harness.ts launches it).
    const chromiumFiles = uses(/from ['"](playwright-core|\.\/harness\.js)['"]/);
    const redisFiles = uses(/from ['"][./]+support\/redis-server(\.js)?['"]/);
    expect(chromiumFiles.length).toBeGreaterThan(0);
    expect(redisFiles.length).toBeGreaterThan(0);
    for (const file of chromiumFiles) expect(programsFor([file]), relative(root, file)).toContain('chromium');
    for (const file of redisFiles)
      expect(programsFor([file]), relative(root, file)).toContain('redis-server');
    const pythonFiles = uses(/programPath\(['"]python3-jwt['"]\)/);
    expect(pythonFiles.length).toBeGreaterThan(0);
    for (const file of pythonFiles)
      expect(programsFor([file]), relative(root, file)).toContain('python3-jwt');
  });
});

describe('Ubuntu', () => {
  it('asks apt for chromium-browser, the name Ubuntu and its derivatives use', () => {
    expect(aptPackage('chromium', 'ID=ubuntu\nVERSION_ID="24.04"\n')).toBe('chromium-browser');
    expect(aptPackage('chromium', 'ID=linuxmint\nID_LIKE="ubuntu debian"\n')).toBe('chromium-browser');
    expect(aptPackage('chromium', 'ID=debian\nVERSION_ID="12"\n')).toBe('chromium');
    expect(aptPackage('redis-server', 'ID=ubuntu\n')).toBe('redis-server');
  });
});

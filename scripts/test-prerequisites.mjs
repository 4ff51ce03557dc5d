#!/usr/bin/env node
// The programs the test suite needs from the system: Chromium (test/browser),
// redis-server (test/fleet/redis*) and python3 with PyJWT (Debian's python3-jwt: a resource
// server in another language, test/testing/server/python*). `npm test` runs this first with --install; the suite's
// global setup (test/global-setup.ts) runs the same check, without installing, for the files
// a run selected, so a missing program stops the run before any test instead of failing
// inside one.
//
//   node scripts/test-prerequisites.mjs            check; exit 1 naming what to install
//   node scripts/test-prerequisites.mjs --install  install what is missing with apt-get
//                                                  (Debian/Ubuntu, as root or with
//                                                  passwordless sudo), then check
//
// Where a program is looked for: its variable (CHROMIUM_PATH, REDIS_SERVER, PYTHON3) when
// set, else PATH (chromium, chromium-browser; redis-server; python3, which must import jwt). No test is ever skipped for a missing
// program: the run stops, saying what to install.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import { delimiter, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Each program the suite needs, where it is looked for and which test files need it. */
export const PROGRAMS = {
  chromium: {
    label: 'Chromium',
    variable: 'CHROMIUM_PATH',
    commands: ['chromium', 'chromium-browser'],
    // Paths relative to the repository root; a test file whose path starts with one needs it.
    neededBy: ['test/browser/'],
    brew: 'brew install --cask chromium',
  },
  'redis-server': {
    label: 'redis-server',
    variable: 'REDIS_SERVER',
    commands: ['redis-server'],
    neededBy: ['test/fleet/redis', 'test/dpop/redis'],
    brew: 'brew install redis',
  },
  'python3-jwt': {
    label: 'python3 with PyJWT',
    variable: 'PYTHON3',
    commands: ['python3'],
    // Found only when this runs: the module comes from the python3-jwt package.
    probe: ['-c', 'import jwt'],
    neededBy: ['test/testing/server/python'],
    brew: 'brew install python && pip3 install pyjwt cryptography',
  },
};

/** @typedef {keyof typeof PROGRAMS} ProgramName */

const NAMES = /** @type {ProgramName[]} */ (Object.keys(PROGRAMS));

function isExecutableFile(path) {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function allOnPath(command, env) {
  return (env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, command))
    .filter(isExecutableFile);
}

function onPath(command, env) {
  return allOnPath(command, env)[0];
}

/**
 * Where `name` is on this machine: `{ path }`, or `{ problem, configured }` when it is not
 * (`configured`: its variable is set but points at no executable, so installing won't help).
 */
export function locate(name, env = process.env) {
  const found = locateCommand(name, env);
  const { probe, variable, commands } = PROGRAMS[name];
  if (!found.path || !probe) return found;
  const passes = (path) => spawnSync(path, probe, { env, stdio: 'ignore', timeout: 30_000 }).status === 0;
  // Every candidate on PATH, not just the first: a python3 of pyenv or a venv may come
  // before the system's, which is the one the apt package serves.
  const candidates = env[variable]
    ? [found.path]
    : [...new Set(commands.flatMap((command) => allOnPath(command, env)))];
  const path = candidates.find(passes);
  if (path) return { path };
  return {
    problem: `${candidates.join(', ')} cannot run \`${[commands[0], ...probe].join(' ')}\` (the ${name} package is missing)`,
    configured: Boolean(env[variable]),
  };
}

function locateCommand(name, env) {
  const program = PROGRAMS[name];
  const configured = env[program.variable];
  if (configured) {
    return isExecutableFile(configured)
      ? { path: configured }
      : {
          problem: `${program.variable} is ${configured}, which is not an executable file`,
          configured: true,
        };
  }
  for (const command of program.commands) {
    const path = onPath(command, env);
    if (path) return { path };
  }
  const commands = program.commands;
  const notOnPath =
    commands.length > 1 ? `neither ${commands.join(' nor ')} is on PATH` : `${commands[0]} is not on PATH`;
  return {
    problem: `not found (${program.variable} is not set, and ${notOnPath})`,
    configured: false,
  };
}

/**
 * The programs the given test files need (absolute paths, or relative to the repository
 * root). Without a file list, every program: the whole suite needs them all.
 */
export function programsFor(files) {
  if (!files || files.length === 0) return [...NAMES];
  const relativeFiles = files.map((file) => relative(root, resolve(root, file)).split(sep).join('/'));
  return NAMES.filter((name) =>
    relativeFiles.some((file) => PROGRAMS[name].neededBy.some((prefix) => file.startsWith(prefix))),
  );
}

/** The programs among `names` this machine lacks, each with what is wrong. */
export function findMissing(names = NAMES, env = process.env) {
  return names.flatMap((name) => {
    const found = locate(name, env);
    return found.path ? [] : [{ name, problem: found.problem, configured: found.configured }];
  });
}

/** Debian's package names; Ubuntu (and its derivatives) ship Chromium as chromium-browser. */
export function aptPackage(name, osRelease = readOsRelease()) {
  if (name !== 'chromium') return name;
  const ubuntu = /^(ID|ID_LIKE)=.*\bubuntu\b/m.test(osRelease);
  return ubuntu ? 'chromium-browser' : 'chromium';
}

function readOsRelease() {
  try {
    return readFileSync('/etc/os-release', 'utf8');
  } catch {
    return '';
  }
}

const isRoot = () => process.getuid?.() === 0;

/** What to tell someone whose machine lacks `missing` (from findMissing). */
export function prerequisitesMessage(
  missing,
  { header = 'The tests need programs this machine does not have, so no test was run:', note } = {},
) {
  const lines = [header];
  for (const { name, problem } of missing) lines.push(`  ${PROGRAMS[name].label}: ${problem}`);
  if (note) lines.push(note);
  const toInstall = missing.filter((m) => !m.configured).map((m) => m.name);
  if (toInstall.length > 0) {
    const sudo = isRoot() ? '' : 'sudo ';
    const packages = toInstall.map((name) => aptPackage(name)).join(' ');
    lines.push(
      'Install what is missing, then run the tests again:',
      `  Debian/Ubuntu:  ${sudo}apt-get update && ${sudo}apt-get install -y ${packages}`,
      `  macOS:          ${toInstall.map((name) => PROGRAMS[name].brew).join(' && ')}`,
    );
    if (toInstall.includes('chromium')) {
      lines.push('                  export CHROMIUM_PATH=/Applications/Chromium.app/Contents/MacOS/Chromium');
    }
    const variables = toInstall.map(
      (name) => `${PROGRAMS[name].variable}=/path/to/${PROGRAMS[name].commands[0]}`,
    );
    lines.push(`  not on PATH:    ${variables.join(' ')} npm test`);
    if (!note) {
      lines.push(
        '`npm test` installs them itself on Debian/Ubuntu when run as root or with passwordless sudo.',
      );
    }
  }
  for (const { name, configured } of missing) {
    if (configured)
      lines.push(`Point ${PROGRAMS[name].variable} at ${PROGRAMS[name].label}, or unset it to use PATH.`);
  }
  return lines.join('\n');
}

/**
 * Throws an Error whose message says what to install when the given test files (default:
 * all) need a program this machine lacks.
 */
export function checkPrerequisites(files, env = process.env) {
  const missing = findMissing(programsFor(files), env);
  if (missing.length === 0) return;
  const error = new Error(prerequisitesMessage(missing));
  error.stack = error.message; // the message is the whole story; a stack trace would bury it
  throw error;
}

/** The path of `name`, or an Error saying what to install (for the test files themselves). */
export function programPath(name, env = process.env) {
  const found = locate(name, env);
  if (found.path) return found.path;
  const missing = [{ name, problem: found.problem, configured: found.configured }];
  throw new Error(prerequisitesMessage(missing, { header: `This test needs ${PROGRAMS[name].label}:` }));
}

/** How to run apt-get here: `{ run(args) }`, or `{ reason }` why we cannot. */
function aptInstaller(env) {
  const aptGet = onPath('apt-get', env);
  if (!aptGet) return { reason: 'there is no apt-get on this machine' };
  const aptEnv = { ...env, DEBIAN_FRONTEND: 'noninteractive' };
  const spawn = (command, args) =>
    spawnSync(command, args, { env: aptEnv, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (isRoot()) return { run: (args) => spawn(aptGet, args), how: 'apt-get' };
  const sudo = onPath('sudo', env);
  if (!sudo) return { reason: 'not root, and there is no sudo' };
  if (spawnSync(sudo, ['-n', 'true'], { env, stdio: 'ignore' }).status !== 0) {
    return { reason: 'not root, and sudo asks for a password' };
  }
  return {
    run: (args) => spawn(sudo, ['-n', 'DEBIAN_FRONTEND=noninteractive', aptGet, ...args]),
    how: 'sudo apt-get',
  };
}

/** Installs the missing programs it can; returns a note on what it did or why it did not. */
function install(missing, env, log) {
  const names = missing.filter((m) => !m.configured).map((m) => m.name);
  if (names.length === 0) return undefined;
  const installer = aptInstaller(env);
  if (!installer.run) return `Not installing them: ${installer.reason}.`;
  const packages = names.map((name) => aptPackage(name));
  log(`test prerequisites: installing ${packages.join(' ')} (${installer.how}, this takes a minute)…`);
  for (const args of [
    ['update', '-qq'],
    ['install', '-y', '-qq', ...packages],
  ]) {
    const result = installer.run(args);
    if (result.status !== 0) {
      const output = `${result.stdout ?? ''}${result.stderr ?? ''}${result.error ? String(result.error) : ''}`;
      return `${installer.how} ${args.join(' ')} failed (exit ${result.status ?? result.signal}):\n${output.trimEnd()}`;
    }
  }
  log(`test prerequisites: installed ${packages.join(' ')}.`);
  return undefined;
}

/** The command line: check, and with --install install what is missing first. Exit code. */
export function main(argv = process.argv.slice(2), env = process.env) {
  const out = (line) => process.stdout.write(`${line}\n`);
  let missing = findMissing(NAMES, env);
  let note;
  if (missing.length > 0 && argv.includes('--install')) {
    note = install(missing, env, out);
    missing = findMissing(NAMES, env);
  }
  if (missing.length > 0) {
    process.stderr.write(`${prerequisitesMessage(missing, { note })}\n`);
    return 1;
  }
  out(
    `test prerequisites: ${NAMES.map((name) => `${PROGRAMS[name].label} ${locate(name, env).path}`).join(', ')}`,
  );
  return 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main();
}

// The packed package as a user gets it: `npm pack` of the current build (npm run build
// first), installed into a fresh temp project with its dependencies, the optional peers and
// their types (for the type checks of the Node-only entries). Done once per test file.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type PackageEntry, packTarball, packageEntries } from '../../scripts/ci-entries.mjs';
import { useFixture } from '../support/fixture.js';

export const run = promisify(execFile);
export const root = fileURLToPath(new URL('../../', import.meta.url));

export interface PackedPackage {
  tarball: string;
  /** The consumer project the tarball is installed in. */
  project: string;
  /** `<project>/node_modules/oauth-jwt-verify`. */
  packageDir: string;
  entries: PackageEntry[];
  remove(): Promise<void>;
}

/** `name@version` as installed in this repository, so npm finds it in its cache. */
function installedSpec(name: string): string | undefined {
  const manifest = join(root, 'node_modules', name, 'package.json');
  if (!existsSync(manifest)) return undefined;
  return `${name}@${(JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version}`;
}

/** `withPeers: false`: the tarball alone, as in an empty folder (default: the optional peers and types too). */
export async function preparePackedPackage(name: string, { withPeers = true } = {}): Promise<PackedPackage> {
  const project = await mkdtemp(join(tmpdir(), `oauth-jwt-verify-${name}-`));
  const tarball = await packTarball(root, join(project, 'tarball'));
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    peerDependencies?: Record<string, string>;
  };
  const peers = Object.keys(pkg.peerDependencies ?? {});
  const extras = withPeers
    ? [...peers, ...peers.map((peer) => `@types/${peer}`), '@types/node']
        .map(installedSpec)
        .filter((spec): spec is string => spec !== undefined)
    : [];
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  await run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', tarball, ...extras],
    {
      cwd: project,
    },
  );
  return {
    tarball,
    project,
    packageDir: join(project, 'node_modules', 'oauth-jwt-verify'),
    entries: packageEntries(root),
    remove: () => rm(project, { recursive: true, force: true }),
  };
}

/** `npm pack` and `npm install` on a busy 2-core machine. */
const PREPARE_TIMEOUT_MS = 180_000;

/**
 * The packed package of a test file: prepared before all its tests with `files` (name →
 * text: the consumer's scripts) written into its project, removed after them.
 */
export function usePackedPackage(
  name: string,
  files: Record<string, string> = {},
  options: { withPeers?: boolean } = {},
): PackedPackage {
  return useFixture(
    async () => {
      const packed = await preparePackedPackage(name, options);
      for (const [file, text] of Object.entries(files)) await writeFile(join(packed.project, file), text);
      return packed;
    },
    (packed) => packed.remove(),
    `the packed package (${name})`,
    PREPARE_TIMEOUT_MS,
  );
}

/** Runs a consumer script of the packed project with node (`env` added to this one's); resolves to its stdout. */
export async function runConsumer(
  packed: PackedPackage,
  script: string,
  env: Record<string, string> = {},
): Promise<string> {
  const { stdout } = await run(process.execPath, [script], {
    cwd: packed.project,
    env: { ...process.env, ...env },
  });
  return stdout;
}

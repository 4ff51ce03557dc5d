// Builds the package (tsup, as `npm run build`) when dist/ is missing or older than what it
// is built from. Shared by `npm run demo`, `npm run bench` and the test suite's global setup,
// which all run the built package.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUTPUTS = ['dist/index.js', 'dist/index.d.ts', 'dist/cli/index.js', 'dist/signature-node.js'];
const INPUTS = ['src', 'tsup.config.ts', 'package.json'];

function newestMtimeMs(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

/** Why dist/ needs building, or undefined when it is up to date. */
export function staleReason() {
  const outputs = OUTPUTS.map((file) => join(root, file));
  if (!outputs.every((file) => existsSync(file))) return 'no complete dist yet';
  const built = Math.min(...outputs.map((file) => statSync(file).mtimeMs));
  const sources = Math.max(...INPUTS.map((file) => newestMtimeMs(join(root, file))));
  return built < sources ? 'dist is older than src' : undefined;
}

/** Runs tsup when dist/ is stale; returns whether it built. Throws when the build fails. */
export function ensureBuilt({ log = (line) => process.stderr.write(`${line}\n`) } = {}) {
  const reason = staleReason();
  if (!reason) return false;
  log(`Building with tsup (${reason})…`);
  const require = createRequire(import.meta.url);
  const tsupPackage = require.resolve('tsup/package.json');
  const bin = join(dirname(tsupPackage), require(tsupPackage).bin.tsup);
  const build = spawnSync(process.execPath, [bin], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    throw new Error(`the build failed:\n${build.stdout ?? ''}${build.stderr ?? ''}`);
  }
  log('Built.');
  return true;
}

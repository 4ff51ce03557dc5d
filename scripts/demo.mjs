#!/usr/bin/env node
// `npm run demo`: builds the package when dist is missing or older than its sources, then
// runs `oauth-jwt-verify demo` from the build. Extra arguments pass through
// (`npm run demo -- --json`). Exits with the demo's status.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'cli', 'index.js');

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestMtimeMs(path) {
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtimeMs(join(path, entry)));
  return newest;
}

const built = mtimeMs(cli);
const sources = Math.max(
  newestMtimeMs(join(root, 'src')),
  ...['tsup.config.ts', 'package.json'].map((file) => mtimeMs(join(root, file)) ?? 0),
);

if (built === undefined || built < sources) {
  process.stderr.write(`Building with tsup (${built === undefined ? 'no dist yet' : 'dist is older than src'})…\n`);
  const require = createRequire(import.meta.url);
  const tsupBin = join(dirname(require.resolve('tsup/package.json')), require('tsup/package.json').bin.tsup);
  const build = spawnSync(process.execPath, [tsupBin], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) {
    process.stderr.write(`${build.stdout ?? ''}${build.stderr ?? ''}\nThe build failed; see above.\n`);
    process.exit(2);
  }
  process.stderr.write('Built.\n\n');
}

const demo = spawnSync(process.execPath, [cli, 'demo', ...process.argv.slice(2)], { cwd: root, stdio: 'inherit' });
process.exit(demo.status ?? 2);

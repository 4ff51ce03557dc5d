#!/usr/bin/env node
// `npm run demo`: builds the package when dist is missing or older than its sources, then
// runs `oauth-jwt-verify demo` from the build. Extra arguments pass through
// (`npm run demo -- --json`). Exits with the demo's status.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureBuilt, root } from './ensure-build.mjs';

try {
  if (ensureBuilt()) process.stderr.write('\n');
} catch (error) {
  process.stderr.write(`${error.message}\n`);
  process.exit(2);
}
const cli = join(root, 'dist', 'cli', 'index.js');
const demo = spawnSync(process.execPath, [cli, 'demo', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(demo.status ?? 2);

#!/usr/bin/env node
// `npm run docs`: the API reference in docs/api/ from the JSDoc of every entry of
// package.json `exports` (a new entry is documented without editing a list). Options in
// typedoc.json; every public export must be documented. Warnings fail the run under CI
// (CI=true) or with --strict.
//
//   npm run docs [-- --strict]
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageEntries } from './ci-entries.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const strict = process.argv.includes('--strict') || process.env.CI === 'true';
const typedoc = join(root, 'node_modules/typedoc/bin/typedoc');
const entryPoints = packageEntries(root).map((entry) => entry.source);
const args = [
  typedoc,
  '--options',
  'typedoc.json',
  ...(strict ? ['--treatWarningsAsErrors'] : []),
  ...entryPoints,
];
try {
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
} catch {
  process.exit(1);
}

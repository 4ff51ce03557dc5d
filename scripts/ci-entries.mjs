// Shared by the package gates, the size report, the docs and the smoke suite: the public
// entries as package.json `exports` declares them (so a new entry is checked without
// editing a list), and `npm pack` of the current build.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * @typedef {object} PackageEntry
 * @property {string} subpath    the `exports` key: `.`, `./pkce`, …
 * @property {string} specifier  what users import: `oauth-jwt-verify`, `oauth-jwt-verify/pkce`, …
 * @property {string} types      the emitted declaration file, relative to the package root
 * @property {string} file       the emitted JavaScript file, relative to the package root
 * @property {string} source     the TypeScript source it is built from
 * @property {boolean} browser   false when the entry maps the `browser` condition to null (Node only)
 */

/** @returns {PackageEntry[]} every JavaScript entry of package.json `exports`, in declaration order */
export function packageEntries(root) {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  return Object.entries(pkg.exports)
    .filter(
      ([, target]) => typeof target === 'object' && target !== null && typeof target.default === 'string',
    )
    .map(([subpath, target]) => {
      const file = target.default.replace(/^\.\//, '');
      return {
        subpath,
        specifier: subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
        types: target.types.replace(/^\.\//, ''),
        file,
        source: file.replace(/^dist\//, 'src/').replace(/\.js$/, '.ts'),
        browser: target.browser !== null,
      };
    });
}

function newestMtime(dir) {
  let newest = 0;
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    newest = Math.max(newest, name.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/**
 * Packs the current build with `npm pack` into `destination` and returns the tarball's
 * path. Refuses a missing build, or one older than `src/` (run `npm run build`), rather
 * than rebuild: other tests may be reading dist/ at the same time.
 */
export async function packTarball(root, destination) {
  const dist = join(root, 'dist');
  for (const entry of packageEntries(root)) {
    if (!existsSync(join(root, entry.file)) || !existsSync(join(root, entry.types))) {
      throw new Error(
        `${entry.subpath}: ${entry.file} or ${entry.types} is missing; run \`npm run build\` first`,
      );
    }
  }
  if (newestMtime(join(root, 'src')) > newestMtime(dist)) {
    throw new Error('dist/ is older than src/; run `npm run build` first');
  }
  await rm(destination, { recursive: true, force: true });
  await mkdir(destination, { recursive: true });
  const { stdout } = await promisify(execFile)(
    'npm',
    ['pack', '--json', '--ignore-scripts', '--loglevel=error', '--pack-destination', destination],
    { cwd: root },
  );
  const [{ filename }] = JSON.parse(stdout);
  return join(destination, filename);
}

import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const HERE = import.meta.dirname;

async function testFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return testFiles(path);
      return Promise.resolve(entry.name.endsWith('.test.ts') ? [path] : []);
    }),
  );
  return nested.flat();
}

/** The titles of `describe`, `it` and `it.each(…)` blocks: a string literal, then the block's function. */
function titles(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:\bdescribe|\bit|\))\(\s*'((?:[^'\\]|\\.)+)',\s*(?:async\s*)?\(/g)) {
    found.push(match[1]!);
  }
  return found;
}

describe('docs/security.md', () => {
  it('names every test file and every test of test/security, so its tables cover them all', async () => {
    const doc = await readFile(join(ROOT, 'docs', 'security.md'), 'utf8');
    const missing: string[] = [];
    const files = (await testFiles(HERE)).filter((file) => !file.endsWith('docs.test.ts'));
    expect(files.length).toBeGreaterThan(5);
    for (const file of files) {
      const path = relative(ROOT, file);
      if (!doc.includes(path)) missing.push(path);
      for (const title of titles(await readFile(file, 'utf8'))) {
        if (!doc.includes(title)) missing.push(`${path}: ${title}`);
      }
    }
    expect(missing).toEqual([]);
  });
});

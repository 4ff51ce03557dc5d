import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFile(new URL(`../../${path}`, import.meta.url), 'utf8');

/** The first ```ts block after the given heading of a Markdown file. */
async function codeBlockAfter(path: string, heading: string): Promise<string> {
  const markdown = await read(path);
  const start = markdown.indexOf(heading);
  expect(start, `${heading} in ${path}`).toBeGreaterThanOrEqual(0);
  const block = /```ts\n([\s\S]*?)```/.exec(markdown.slice(start));
  expect(block, `a ts code block after ${heading}`).not.toBeNull();
  return block![1]!;
}

describe('docs/testing.md', () => {
  it('shows exactly the code of test/testing/docs-example.test.ts, in under 20 lines', async () => {
    const shown = await codeBlockAfter('docs/testing.md', '## A whole test in under 20 lines');
    // The test imports the sources so it runs without a build; users import the package.
    const run = (await read('test/testing/docs-example.test.ts'))
      .replace("from '../../src/testing/index.js'", "from 'oauth-jwt-verify/testing'")
      .replace("from '../../src/index.js'", "from 'oauth-jwt-verify'");
    expect(run).toBe(shown);
    expect(shown.trimEnd().split('\n').length).toBeLessThan(20);
  });
});

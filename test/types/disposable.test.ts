// `using verifier = new JwtVerifier(...)` type-checks where the lib declares Symbol.dispose
// (`esnext.disposable`), and the declarations compile where it does not: the emitted .d.ts
// (dist/, built by the global setup) under both lib settings, without @types/node (which
// declares Symbol.dispose too; test/types/verifier.test-d.ts covers that setting).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
const declarations = join(root, 'dist/index.js');
// tsc takes a few seconds per project alone, several times that on a busy machine.
const TSC_TIMEOUT_MS = 90_000;

const WITH_DISPOSABLE = `import { JwtVerifier } from ${JSON.stringify(declarations)};
export function scoped(): string {
  using verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
  const disposable: Disposable = verifier;
  const dispose: () => void = verifier[Symbol.dispose];
  void disposable;
  void dispose;
  return verifier.issuer;
}
`;

const WITHOUT_DISPOSABLE = `import { JwtVerifier } from ${JSON.stringify(declarations)};
const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
// No symbol-keyed member where the lib has no Symbol.dispose: nothing to fail on.
export const noSymbolMembers: [Extract<keyof JwtVerifier, symbol>] extends [never] ? true : false = true;
export const close: () => void = verifier.close;
`;

let project: string;

beforeAll(async () => {
  project = await mkdtemp(join(tmpdir(), 'oauth-jwt-verify-disposable-'));
});

afterAll(async () => {
  await rm(project, { recursive: true, force: true });
});

/** Type-checks `source` with these libs and no @types at all; tsc's output when it fails. */
async function typeCheck(name: string, source: string, lib: string[]): Promise<string> {
  await writeFile(join(project, `${name}.ts`), source);
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib,
      module: 'preserve',
      moduleResolution: 'bundler',
      types: [],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
    },
    files: [`${name}.ts`],
  };
  await writeFile(join(project, `tsconfig.${name}.json`), JSON.stringify(config));
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], { cwd: project });
    return 'compiles';
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? error);
  }
}

describe('Symbol.dispose in the declared type of JwtVerifier', () => {
  it(
    'makes `using` type-check where the lib has esnext.disposable',
    async () => {
      expect(
        await typeCheck('with-disposable', WITH_DISPOSABLE, ['ES2022', 'DOM', 'esnext.disposable']),
      ).toBe('compiles');
    },
    TSC_TIMEOUT_MS,
  );

  it(
    'leaves declarations that compile where the lib has no Symbol.dispose',
    async () => {
      expect(await typeCheck('without-disposable', WITHOUT_DISPOSABLE, ['ES2022', 'DOM'])).toBe('compiles');
      // The same `using` there fails on the lib, not on our declarations.
      const failure = await typeCheck('using-without-disposable', WITH_DISPOSABLE, ['ES2022', 'DOM']);
      expect(failure).toContain("Cannot find global type 'Disposable'");
      expect(failure).not.toContain('dist/');
    },
    TSC_TIMEOUT_MS,
  );
});

// The emitted .d.ts of the packed package, type-checked as a user's project compiles them
// (skipLibCheck off): the core entries (`.` and `./pkce`) under `bundler` and `nodenext`
// resolution with no @types/node at all, so no Node API can creep into their types; then
// every entry under nodenext with @types/node, as a Node service sees them.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PackedPackage, preparePackedPackage, root, run } from './packed-package.js';

const CORE = ['.', './pkce'];
const tsc = join(root, 'node_modules/typescript/bin/tsc');
// tsc takes a few seconds per project alone, several times that on a busy machine.
const TSC_TIMEOUT_MS = 90_000;

let packed: PackedPackage;

beforeAll(async () => {
  packed = await preparePackedPackage('declarations');
  // A user's code against the core entries: compiles only if names and types are exported.
  await writeFile(
    join(packed.project, 'core.ts'),
    `import { JwtVerifier, JwtVerifyError, isJwtVerifyError, type JwtVerifyErrorCode, type VerifyResult } from 'oauth-jwt-verify';
import { buildAuthorizationUrl, createPkcePair, discover, type AuthorizationServerMetadata } from 'oauth-jwt-verify/pkce';

const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'https://api.example.com' });
export async function subject(token: string): Promise<string | undefined> {
  const result: VerifyResult<{ sub: string }> = await verifier.verify<{ sub: string }>(token);
  return result.payload.sub;
}
export function codeOf(error: unknown): JwtVerifyErrorCode | undefined {
  return isJwtVerifyError(error) ? error.code : error instanceof JwtVerifyError ? error.code : undefined;
}
export async function login(): Promise<string> {
  const metadata: AuthorizationServerMetadata = await discover('https://issuer.example.com');
  const { codeChallenge } = await createPkcePair();
  const { url } = await buildAuthorizationUrl(metadata, { clientId: 'spa', redirectUri: 'https://app.example.com/cb' });
  return url + codeChallenge;
}
`,
  );
  await writeFile(
    join(packed.project, 'core-require.cts'),
    `import core = require('oauth-jwt-verify');
import pkce = require('oauth-jwt-verify/pkce');
export const names: string[] = [core.JwtVerifier.name, pkce.createPkcePair.name];
`,
  );
  const imports = packed.entries
    .map((entry, i) => `import * as entry${i} from '${entry.specifier}';`)
    .join('\n');
  const names = packed.entries.map((_, i) => `entry${i}`).join(', ');
  await writeFile(join(packed.project, 'all.ts'), `${imports}\nexport const entries = [${names}];\n`);
});

afterAll(async () => {
  await packed?.remove();
});

async function typeCheck(
  name: string,
  compilerOptions: Record<string, unknown>,
  files: string[],
): Promise<string> {
  const config = {
    compilerOptions: {
      target: 'ES2022',
      lib: ['ES2022', 'DOM', 'DOM.Iterable'],
      strict: true,
      noEmit: true,
      skipLibCheck: false,
      ...compilerOptions,
    },
    files,
  };
  await writeFile(join(packed.project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`, '--listFiles'], {
      cwd: packed.project,
    });
    return stdout;
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p tsconfig.${name}.json failed:\n${stdout ?? ''}${stderr ?? ''}`);
  }
}

describe('the emitted declarations', () => {
  it('lists the core entries as . and ./pkce in package.json exports', () => {
    expect(packed.entries.map((entry) => entry.subpath)).toEqual(expect.arrayContaining(CORE));
  });

  it.each([
    {
      resolution: 'bundler',
      label: 'bundler resolution',
      compilerOptions: { module: 'preserve', moduleResolution: 'bundler', types: [] },
      files: ['core.ts'],
      declarations: ['dist/index.d.ts', 'dist/pkce/index.d.ts'],
    },
    {
      resolution: 'nodenext',
      label: 'nodenext resolution (ESM and require)',
      compilerOptions: { module: 'nodenext', moduleResolution: 'nodenext', types: [] },
      files: ['core.ts', 'core-require.cts'],
      declarations: ['dist/index.d.ts'],
    },
  ])(
    'type-check for the core entries under $label without @types/node',
    async ({ resolution, compilerOptions, files, declarations }) => {
      const listed = await typeCheck(resolution, compilerOptions, files);
      for (const declaration of declarations)
        expect(listed).toContain(`node_modules/oauth-jwt-verify/${declaration}`);
      expect(listed).not.toContain('@types/node');
    },
    TSC_TIMEOUT_MS,
  );

  it(
    'type-check for every entry under nodenext resolution with @types/node',
    async () => {
      const files = await typeCheck(
        'all',
        { module: 'nodenext', moduleResolution: 'nodenext', types: ['node'] },
        ['all.ts'],
      );
      for (const entry of packed.entries)
        expect(files).toContain(`node_modules/oauth-jwt-verify/${entry.types}`);
    },
    TSC_TIMEOUT_MS,
  );
});

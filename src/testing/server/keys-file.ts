// The keys file of startIssuerServer: every issuer's private signing keys, kept across restarts.
import { exportJWK } from 'jose';
import type { JWK } from 'jose';
import { invalidArgument } from '../../errors.js';
import type { TestIssuer } from '../types.js';

/** The file's shape: `{ "issuers": { "<id>": [private JWK, …] } }`, keys oldest first. */
interface KeysFileContent {
  issuers: Record<string, JWK[]>;
}

function fail(path: string, message: string): never {
  throw invalidArgument(`keys file ${path}: ${message}`);
}

/** The keys in `path` by issuer id, or `undefined` when the file does not exist yet. */
export async function readKeysFile(path: string): Promise<Map<string, JWK[]> | undefined> {
  // node:fs only here and on demand: the testing entry also loads where there is none.
  const { readFile } = await import('node:fs/promises');
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    fail(path, `cannot be read (${(error as Error).message})`);
  }
  let content: unknown;
  try {
    content = JSON.parse(text);
  } catch (error) {
    fail(path, `is not JSON (${(error as Error).message}); delete it to start with fresh keys`);
  }
  const issuers = (content as Partial<KeysFileContent> | null)?.issuers;
  if (typeof issuers !== 'object' || issuers === null || Array.isArray(issuers)) {
    fail(path, 'has no "issuers" object; delete it to start with fresh keys');
  }
  const keys = new Map<string, JWK[]>();
  for (const [id, list] of Object.entries(issuers)) {
    if (!Array.isArray(list) || !list.every((jwk) => typeof jwk === 'object' && jwk !== null)) {
      fail(path, `issuers.${id} must be an array of private JWKs`);
    }
    keys.set(id, list as JWK[]);
  }
  return keys;
}

/** The private JWKs of an issuer, oldest first, as its `keys` option takes them. */
export async function exportIssuerKeys(issuer: TestIssuer): Promise<JWK[]> {
  return Promise.all(
    issuer.keys.map(async (key) => ({ ...(await exportJWK(key.privateKey)), kid: key.kid, alg: key.alg })),
  );
}

/** Writes every issuer's private keys to `path`, readable by its owner only (mode 0600). */
export async function writeKeysFile(
  path: string,
  issuers: Readonly<Record<string, TestIssuer>>,
): Promise<void> {
  const { chmod, rename, writeFile } = await import('node:fs/promises');
  const content: KeysFileContent = { issuers: {} };
  for (const [id, issuer] of Object.entries(issuers)) content.issuers[id] = await exportIssuerKeys(issuer);
  // Written aside and renamed, so a crash never leaves half a file; created 0600, never wider.
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(content, null, 2)}\n`, { mode: 0o600 });
  await chmod(temporary, 0o600);
  await rename(temporary, path);
}

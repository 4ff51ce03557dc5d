import { flattenedVerify, importJWK } from 'jose';
import type { JwsAlgorithm } from './algorithms.js';
import type { JwksKey } from './jwk.js';
import type { ParsedToken } from './token.js';

/** `valid`/`invalid` for a checked signature; `unusable` when the key could not be imported. */
export type SignatureCheck = 'valid' | 'invalid' | 'unusable';

type ImportedKey = Awaited<ReturnType<typeof importJWK>>;

// Keys are imported once per (JWKS entry, algorithm) and reused for every token they verify.
const importedKeys = new WeakMap<JwksKey, Map<JwsAlgorithm, Promise<ImportedKey | undefined>>>();

function importKey(key: JwksKey, alg: JwsAlgorithm): Promise<ImportedKey | undefined> {
  let byAlg = importedKeys.get(key);
  if (!byAlg) importedKeys.set(key, (byAlg = new Map()));
  let imported = byAlg.get(alg);
  if (!imported) {
    const { kty, crv, n, e, x, y } = key.jwk;
    imported = importJWK({ kty, crv, n, e, x, y }, alg).catch(() => undefined);
    byAlg.set(alg, imported);
  }
  return imported;
}

/** Checks a token's signature with one JWKS key through jose (Web Crypto). */
export async function checkSignature(
  token: ParsedToken,
  key: JwksKey,
  alg: JwsAlgorithm,
): Promise<SignatureCheck> {
  const cryptoKey = await importKey(key, alg);
  if (!cryptoKey) return 'unusable';
  const [protectedHeader, payload] = token.signingInput.split('.') as [string, string];
  try {
    await flattenedVerify(
      { protected: protectedHeader, payload, signature: token.encodedSignature },
      cryptoKey,
      { algorithms: [alg] },
    );
    return 'valid';
  } catch {
    return 'invalid';
  }
}

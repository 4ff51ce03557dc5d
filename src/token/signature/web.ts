/** The Web signature path: jose over Web Crypto, for browsers, workerd and other runtimes without node:crypto. */
import { flattenedVerify, importJWK } from 'jose';
import type { JwsAlgorithm } from '../algorithms.js';
import { type JwksKey, publicKeyMembers } from '../jwk.js';
import type { SignatureCheck } from './types.js';
import { type ParsedToken } from '../parse.js';
import { portableDecoder } from '../segments.js';
import { encodeBase64Url, sha2 } from '../base64url.js';

/** Segments decode the portable way here (atob); Node's module has a faster Buffer one. */
export const segmentDecoder = portableDecoder;

/** The base64url SHA-256 of text (as UTF-8) or bytes, with Web Crypto. */
export async function sha256Base64Url(data: string | Uint8Array): Promise<string> {
  return encodeBase64Url(await sha2('SHA-256', data));
}

type ImportedKey = Awaited<ReturnType<typeof importJWK>>;

// Keys are imported once per (JWKS entry, algorithm) and reused for every token they verify.
const importedKeys = new WeakMap<JwksKey, Map<JwsAlgorithm, Promise<ImportedKey | undefined>>>();

function importKey(key: JwksKey, alg: JwsAlgorithm): Promise<ImportedKey | undefined> {
  let byAlg = importedKeys.get(key);
  if (!byAlg) importedKeys.set(key, (byAlg = new Map()));
  let imported = byAlg.get(alg);
  if (!imported) {
    imported = importJWK(publicKeyMembers(key), alg).catch(() => undefined);
    byAlg.set(alg, imported);
  }
  return imported;
}

/**
 * Checks a token's signature with one JWKS key through jose (Web Crypto): the path on
 * every runtime but Node and Bun (browsers, Deno, workerd), chosen by the `#signature` import.
 */
export async function checkSignature(
  token: ParsedToken,
  key: JwksKey,
  alg: JwsAlgorithm,
  _inFlight?: number,
): Promise<SignatureCheck> {
  const cryptoKey = await importKey(key, alg);
  if (!cryptoKey) return 'unusable';
  const { signingInput } = token;
  const dot = signingInput.indexOf('.');
  try {
    await flattenedVerify(
      {
        protected: signingInput.slice(0, dot),
        payload: signingInput.slice(dot + 1),
        signature: token.encodedSignature,
      },
      cryptoKey,
      { algorithms: [alg] },
    );
    return 'valid';
  } catch {
    return 'invalid';
  }
}

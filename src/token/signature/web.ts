/** The Web signature path: jose over Web Crypto, for browsers, workerd and other runtimes without node:crypto. */
import { flattenedVerify, importJWK } from 'jose';
import type { JwsAlgorithm, MlDsaAlgorithm } from '../algorithms.js';
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

const mlDsaProbes = new Map<MlDsaAlgorithm, Promise<string | undefined>>();

/**
 * Why this runtime's Web Crypto cannot verify `alg`, or `undefined` when it can. Probed once
 * per algorithm, on the first token that needs it, by importing a key too short to be one:
 * a runtime with ML-DSA answers that the key data is wrong, one without that it does not
 * know the algorithm.
 */
export function mlDsaUnavailable(alg: MlDsaAlgorithm): Promise<string | undefined> {
  let probe = mlDsaProbes.get(alg);
  if (probe === undefined) {
    const lacking = `${alg} needs Web Crypto with ML-DSA, which this runtime's crypto.subtle does not have`;
    const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
    probe =
      subtle === undefined
        ? Promise.resolve(lacking)
        : subtle
            .importKey('jwk', { kty: 'AKP', alg, pub: 'AA' } as JsonWebKey, { name: alg }, false, ['verify'])
            .then(
              () => undefined,
              (error: unknown) =>
                (error as Error | undefined)?.name === 'NotSupportedError' ? lacking : undefined,
            );
    mlDsaProbes.set(alg, probe);
  }
  return probe;
}

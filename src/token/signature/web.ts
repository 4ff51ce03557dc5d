/**
 * The Web Crypto path (`#signature` everywhere but Node, Bun and Deno: browsers, workerd, edge
 * runtimes; Deno's ECDSA and ML-DSA): keys imported once by jose's `importJWK`, signatures checked with
 * `crypto.subtle.verify` directly, as jose's `flattenedVerify` does after its own header
 * checks, which the token parser has already made. test/token/signature/ holds it to jose.
 */
import { importJWK } from 'jose';
import type { JwsAlgorithm, MlDsaAlgorithm } from '../algorithms.js';
import { type JwksKey, MIN_RSA_BITS, publicKeyMembers } from '../jwk.js';
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

/** A key's import for one algorithm: under way, then the key (`null`: it cannot be used). */
interface Import {
  promise: Promise<CryptoKey | null>;
  key: CryptoKey | null | undefined;
}

// What `crypto.subtle.verify` is given per algorithm: jose's parameters for each.
const VERIFY_PARAMETERS: Record<JwsAlgorithm, AlgorithmIdentifier | RsaPssParams | EcdsaParams> = {
  RS256: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as AlgorithmIdentifier,
  RS384: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' } as AlgorithmIdentifier,
  RS512: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' } as AlgorithmIdentifier,
  PS256: { name: 'RSA-PSS', hash: 'SHA-256', saltLength: 32 } as RsaPssParams,
  PS384: { name: 'RSA-PSS', hash: 'SHA-384', saltLength: 48 } as RsaPssParams,
  PS512: { name: 'RSA-PSS', hash: 'SHA-512', saltLength: 64 } as RsaPssParams,
  ES256: { name: 'ECDSA', hash: 'SHA-256' },
  ES384: { name: 'ECDSA', hash: 'SHA-384' },
  ES512: { name: 'ECDSA', hash: 'SHA-512' },
  EdDSA: { name: 'Ed25519' },
  Ed25519: { name: 'Ed25519' },
  'ML-DSA-44': { name: 'ML-DSA-44' },
  'ML-DSA-65': { name: 'ML-DSA-65' },
  'ML-DSA-87': { name: 'ML-DSA-87' },
};

// Keys are imported once per (JWKS entry, algorithm) and reused for every token they verify.
const imports = new WeakMap<JwksKey, Map<JwsAlgorithm, Import>>();

function importKey(key: JwksKey, alg: JwsAlgorithm): Import {
  let byAlg = imports.get(key);
  if (!byAlg) imports.set(key, (byAlg = new Map()));
  let entry = byAlg.get(alg);
  if (!entry) {
    const started: Import = {
      promise: importJWK(publicKeyMembers(key), alg).then(
        (imported: ImportedKey) => (started.key = imported as CryptoKey),
        () => (started.key = null),
      ),
      key: undefined,
    };
    byAlg.set(alg, (entry = started));
  }
  return entry;
}

/** The signing input's bytes: base64url and a dot, ASCII by the parser's checks. */
const encoder = new TextEncoder();

/** Checks a signature with an imported key, as jose's `flattenedVerify` does. */
function verifyWith(token: ParsedToken, cryptoKey: CryptoKey, alg: JwsAlgorithm): Promise<SignatureCheck> {
  // jose's minimum for RSA (RFC 7518 §3.3): it refuses a shorter key at each verify.
  if (alg[0] === 'R' || alg[0] === 'P') {
    const { modulusLength } = cryptoKey.algorithm as Partial<RsaKeyAlgorithm>;
    if (!(typeof modulusLength === 'number' && modulusLength >= MIN_RSA_BITS))
      return Promise.resolve('invalid');
  }
  try {
    return crypto.subtle
      .verify(
        VERIFY_PARAMETERS[alg],
        cryptoKey,
        token.signature as Uint8Array<ArrayBuffer>,
        encoder.encode(token.signingInput),
      )
      .then(
        (verified) => (verified ? 'valid' : 'invalid'),
        () => 'invalid',
      );
  } catch {
    return Promise.resolve('invalid');
  }
}

/**
 * Checks a token's signature with one JWKS key through Web Crypto: the key imported once
 * by jose, then `crypto.subtle.verify` at once whenever the import is done. The path on
 * every runtime but Node and Bun (and Deno for ECDSA), chosen by the `#signature` import.
 */
export function checkSignature(
  token: ParsedToken,
  key: JwksKey,
  alg: JwsAlgorithm,
  _inFlight?: number,
): Promise<SignatureCheck> {
  const imported = importKey(key, alg);
  if (imported.key === null) return Promise.resolve('unusable');
  if (imported.key !== undefined) return verifyWith(token, imported.key, alg);
  return imported.promise.then((cryptoKey) =>
    cryptoKey === null ? 'unusable' : verifyWith(token, cryptoKey, alg),
  );
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

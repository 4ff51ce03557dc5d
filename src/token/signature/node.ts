/** The Node signature path: node:crypto, synchronous while few are in flight, on the thread pool after. */
import { Buffer } from 'node:buffer';
import {
  type KeyObject,
  constants,
  createHash,
  createPublicKey,
  generateKeyPairSync,
  verify,
} from 'node:crypto';
import process from 'node:process';
import { type JwsAlgorithm, type MlDsaAlgorithm, isMlDsaAlgorithm } from '../algorithms.js';
import { type JwksKey, MIN_RSA_BITS, publicKeyMembers } from '../jwk.js';
import { offload } from './offload.js';
import type { SignatureCheck } from './types.js';
import { type ParsedToken } from '../parse.js';
import { type SegmentDecoder, binaryTextDecoder, checkLenientDecode } from '../segments.js';

/** The signature's bytes through Buffer, for node:crypto to take as they are; as strict as the portable decoder. */
function signatureBytes(segment: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  checkLenientDecode(segment, bytes.length, 'signature');
  return bytes;
}

/**
 * The segment decoder on Node: the portable one, but Buffer for the signature, and for
 * telling ASCII text: a char over 0x7f takes two UTF-8 bytes, and counting them costs a
 * fraction of a regular expression's scan.
 */
export const segmentDecoder: SegmentDecoder = {
  text: binaryTextDecoder((binary) => Buffer.byteLength(binary, 'utf8') === binary.length),
  signature: signatureBytes,
};

/**
 * The base64url SHA-256 of text (as UTF-8) or bytes, at once: a proof's `ath`, its replay key,
 * a certificate's thumbprint. Web Crypto's digest is a thread-pool round trip on Node.
 */
export function sha256Base64Url(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('base64url');
}

/** What `crypto.verify` needs for one (key, algorithm) pair, built once and reused. */
interface PreparedKey {
  digest: string | null;
  input: {
    key: KeyObject;
    dsaEncoding?: 'ieee-p1363';
    padding?: number;
    saltLength?: number;
  };
}

const DIGESTS: Record<JwsAlgorithm, string | null> = {
  RS256: 'sha256',
  RS384: 'sha384',
  RS512: 'sha512',
  PS256: 'sha256',
  PS384: 'sha384',
  PS512: 'sha512',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
  EdDSA: null,
  Ed25519: null,
  'ML-DSA-44': null,
  'ML-DSA-65': null,
  'ML-DSA-87': null,
};

const CURVES: Record<string, string> = { ES256: 'prime256v1', ES384: 'secp384r1', ES512: 'secp521r1' };

// Room for the signing input of any token up to the default maxTokenLength.
const SCRATCH_SIZE = 32 * 1024;
const scratch = Buffer.allocUnsafeSlow(SCRATCH_SIZE);

// `null`: the key cannot be used for this algorithm; `'invalid'`: it can, but never verifies.
const prepared = new WeakMap<JwksKey, Map<JwsAlgorithm, PreparedKey | 'invalid' | null>>();

function prepare(key: JwksKey, alg: JwsAlgorithm): PreparedKey | 'invalid' | null {
  let keyObject: KeyObject;
  try {
    keyObject = createPublicKey({ key: publicKeyMembers(key) as never, format: 'jwk' });
  } catch {
    return null;
  }
  const type = keyObject.asymmetricKeyType;
  // ML-DSA signs the message itself (pure ML-DSA, empty context: RFC 9964).
  if (isMlDsaAlgorithm(alg))
    return type === alg.toLowerCase() ? { digest: null, input: { key: keyObject } } : null;
  const family = alg.slice(0, 2);
  const digest = DIGESTS[alg];
  if (family === 'RS' || family === 'PS') {
    if (type !== 'rsa') return null;
    if ((keyObject.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) return 'invalid';
    return family === 'RS'
      ? { digest, input: { key: keyObject } }
      : {
          digest,
          input: {
            key: keyObject,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
          },
        };
  }
  if (family === 'ES') {
    if (type !== 'ec' || keyObject.asymmetricKeyDetails?.namedCurve !== CURVES[alg]) return null;
    return { digest, input: { key: keyObject, dsaEncoding: 'ieee-p1363' } };
  }
  if (type !== 'ed25519') return null;
  return { digest, input: { key: keyObject } };
}

const mlDsaProbes = new Map<MlDsaAlgorithm, string | undefined>();

/**
 * Why this runtime's `node:crypto` cannot verify `alg` (Node.js before 24.7, a Bun without
 * it), or `undefined` when it can. Probed once per algorithm, on the first token that needs it.
 */
export function mlDsaUnavailable(alg: MlDsaAlgorithm): string | undefined {
  if (mlDsaProbes.has(alg)) return mlDsaProbes.get(alg);
  let reason: string | undefined;
  try {
    generateKeyPairSync(alg.toLowerCase() as 'ed25519');
  } catch {
    const { bun, node } = process.versions as { bun?: string; node?: string };
    reason =
      bun === undefined
        ? `${alg} needs Node.js 24.7 or later (node:crypto ML-DSA); this is Node.js ${node}`
        : `${alg} needs a Bun whose node:crypto has ML-DSA; this is Bun ${bun}`;
  }
  mlDsaProbes.set(alg, reason);
  return reason;
}

function preparedKey(key: JwksKey, alg: JwsAlgorithm): PreparedKey | 'invalid' | null {
  let byAlg = prepared.get(key);
  if (byAlg === undefined) prepared.set(key, (byAlg = new Map()));
  let entry = byAlg.get(alg);
  if (entry === undefined) byAlg.set(alg, (entry = prepare(key, alg)));
  return entry;
}

/**
 * Checks a token's signature with one JWKS key through `node:crypto`: a `KeyObject` made
 * once per JWK, ECDSA in IEEE P1363 form (RFC 7518 §3.4), RSA-PSS with a salt as long as
 * the hash (RFC 7518 §3.5). Answers synchronously while fewer than
 * `offload.threshold` verifications are in flight, else through the thread pool.
 */
export function checkSignature(
  token: ParsedToken,
  key: JwksKey,
  alg: JwsAlgorithm,
  inFlight = 1,
): SignatureCheck | Promise<SignatureCheck> {
  const entry = preparedKey(key, alg);
  if (entry === null) return 'unusable';
  if (entry === 'invalid') return 'invalid';
  const { signingInput, signature } = token;
  const synchronous = inFlight < offload.threshold || offload.poolPending >= offload.maxPoolPending;
  if (synchronous && signingInput.length <= SCRATCH_SIZE) {
    // Synchronous: the signing input can live in a reused buffer instead of a new one per call.
    const dataLength = scratch.write(signingInput, 0, 'latin1');
    try {
      return verify(entry.digest, scratch.subarray(0, dataLength), entry.input, signature)
        ? 'valid'
        : 'invalid';
    } catch {
      return 'invalid';
    }
  }
  const data = Buffer.from(signingInput, 'latin1');
  return new Promise((resolve) => {
    try {
      offload.poolPending++;
      verify(entry.digest, data, entry.input, signature, (error, ok) => {
        offload.poolPending--;
        resolve(!error && ok ? 'valid' : 'invalid');
      });
    } catch {
      offload.poolPending--;
      resolve('invalid');
    }
  });
}

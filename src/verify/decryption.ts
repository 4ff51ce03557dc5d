/** Encrypted access tokens (JWE around a signed JWT): the `decryption` option, its keys, and decryption by jose. */
import { type CryptoKey, type JWK, type KeyObject, compactDecrypt, importJWK } from 'jose';
import { invalidArgument, isJwtVerifyError } from '../errors.js';
import {
  CONTENT_ENCRYPTION_ALGORITHMS,
  type ContentEncryptionAlgorithm,
  KEY_MANAGEMENT_ALGORITHMS,
  type KeyManagementAlgorithm,
  decryptionFailed,
  isCompactJwe,
  maxEncryptedLength,
  nestedJws,
  readJweHeader,
} from '../token/jwe.js';
import { portableDecoder } from '../token/segments.js';

/**
 * A decryption key: a private JWK (with `kid` to be picked by it), a `CryptoKey` or a Node
 * `KeyObject`.
 *
 * @example
 * const key: DecryptionKey = JSON.parse(process.env.TOKEN_DECRYPTION_JWK!);
 * @see https://www.rfc-editor.org/rfc/rfc7517
 */
export type DecryptionKey = JWK | CryptoKey | KeyObject;

/**
 * The `decryption` option of {@link JwtVerifier}: accept encrypted access tokens (a compact
 * JWE whose plaintext is a signed JWT, RFC 7519 §5.2), decrypted with your keys, then
 * verified exactly as a plain token.
 *
 * @example
 * const verifier = new JwtVerifier({
 *   issuer: 'https://tenant.auth0.com/',
 *   audience: 'https://api.example.com',
 *   decryption: { keys: privateJwk, required: true },
 * });
 * @see https://www.rfc-editor.org/rfc/rfc7516
 * @see https://www.rfc-editor.org/rfc/rfc8725#section-3.3
 */
export interface DecryptionOptions {
  /**
   * One key or a list: private JWKs, `CryptoKey`s or `KeyObject`s. A token whose header
   * names a `kid` is decrypted with the keys of that `kid` (JWKs carry theirs), else with
   * the keys that have none; a token without `kid` with every key that fits its algorithm.
   */
  keys: DecryptionKey | readonly DecryptionKey[];
  /**
   * Accepted key-management algorithms (`alg`). Default: all of {@link KEY_MANAGEMENT_ALGORITHMS}
   * (RSA-OAEP with SHA-1 and SHA-2, ECDH-ES with or without AES key wrap, AES key wrap, AES-GCM key
   * wrap, `dir`). RSA1_5 and PBES2 are never accepted.
   */
  keyManagementAlgorithms?: readonly KeyManagementAlgorithm[];
  /** Accepted content-encryption algorithms (`enc`). Default: all of {@link CONTENT_ENCRYPTION_ALGORITHMS}. */
  contentEncryptionAlgorithms?: readonly ContentEncryptionAlgorithm[];
  /** Refuse tokens that are not encrypted (`ERR_DECRYPTION_FAILED`). Default false: signed JWTs are accepted as well. */
  required?: boolean;
}

type KeyFamily = 'rsa' | 'ecdh' | 'symmetric';

interface ConfiguredKey {
  readonly kid: string | undefined;
  readonly family: KeyFamily;
  readonly key: DecryptionKey;
  /** A JWK's own `alg`, which then must be the token's. */
  readonly alg: string | undefined;
  /** A JWK imported once per algorithm. */
  readonly imported: Map<string, Promise<CryptoKey | Uint8Array>>;
}

const MAX_KEYS = 100;
// The only message of a failed decryption, whatever failed: a wrong key, a tampered tag,
// bad padding (RFC 7516 §11.4, §11.5: no oracle).
const FAILED = 'the encrypted token could not be decrypted with the configured keys';

function familyOfAlgorithm(alg: string): KeyFamily {
  if (alg.startsWith('RSA-OAEP')) return 'rsa';
  if (alg.startsWith('ECDH-ES')) return 'ecdh';
  return 'symmetric';
}

const tag = (value: object): unknown => (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];

function configureKey(value: unknown, name: string): ConfiguredKey {
  if (typeof value !== 'object' || value === null) {
    throw invalidArgument(`${name} must be a private JWK, a CryptoKey or a KeyObject`);
  }
  const imported = new Map<string, Promise<CryptoKey | Uint8Array>>();
  if (tag(value) === 'CryptoKey' || tag(value) === 'KeyObject') {
    const key = value as { type: string; algorithm?: { name: string }; asymmetricKeyType?: string };
    if (key.type === 'public') {
      throw invalidArgument(`${name} is a public key; decrypting needs the private key`);
    }
    const type = key.type === 'secret' ? 'secret' : (key.algorithm?.name ?? key.asymmetricKeyType ?? '');
    const family: KeyFamily | undefined = /^(rsa|RSA-OAEP)$/.test(type)
      ? 'rsa'
      : /^(ec|x25519|ECDH|X25519)$/.test(type)
        ? 'ecdh'
        : type === 'secret'
          ? 'symmetric'
          : undefined;
    if (!family) throw invalidArgument(`${name} is a ${type} key, which cannot decrypt tokens`);
    return { kid: undefined, family, key: value as DecryptionKey, alg: undefined, imported };
  }
  const jwk = value as JWK;
  const family: KeyFamily | undefined =
    jwk.kty === 'RSA'
      ? 'rsa'
      : jwk.kty === 'EC' || jwk.kty === 'OKP'
        ? 'ecdh'
        : jwk.kty === 'oct'
          ? 'symmetric'
          : undefined;
  if (!family)
    throw invalidArgument(`${name} is a JWK of kty ${JSON.stringify(jwk.kty)}, which cannot decrypt tokens`);
  if (family === 'symmetric' ? typeof jwk.k !== 'string' : typeof jwk.d !== 'string') {
    throw invalidArgument(
      `${name} is a public JWK; decrypting needs the private key ("d", or "k" for kty oct)`,
    );
  }
  if (jwk.use !== undefined && jwk.use !== 'enc') {
    throw invalidArgument(
      `${name} has "use": ${JSON.stringify(jwk.use)}; a decryption key has "use": "enc" or none`,
    );
  }
  if (jwk.kid !== undefined && typeof jwk.kid !== 'string')
    throw invalidArgument(`${name}'s kid must be a string`);
  return { kid: jwk.kid, family, key: jwk, alg: jwk.alg, imported };
}

function algorithmList<T extends string>(value: unknown, all: readonly T[], name: string): ReadonlySet<T> {
  if (value === undefined) return new Set(all);
  if (!Array.isArray(value) || value.length === 0 || value.some((alg) => !all.includes(alg))) {
    throw invalidArgument(`${name} must be a non-empty array of ${all.join(', ')}`);
  }
  return new Set(value as T[]);
}

/**
 * What a verifier does with a token before verifying it: a compact JWE is decrypted and what
 * it holds (a compact JWS) goes on; a signed token goes on as it is unless encryption is
 * required.
 */
export class TokenDecryptor {
  readonly #keys: readonly ConfiguredKey[];
  readonly #allowed: { keyManagement: ReadonlySet<string>; contentEncryption: ReadonlySet<string> };
  readonly #required: boolean;
  readonly #maxLength: number;

  constructor(options: DecryptionOptions, maxTokenLength: number) {
    const list = Array.isArray(options.keys) ? (options.keys as readonly unknown[]) : [options.keys];
    if (list.length === 0 || list.length > MAX_KEYS) {
      throw invalidArgument(`decryption.keys must be one key or a list of 1 to ${MAX_KEYS} keys`);
    }
    this.#keys = list.map((key, index) => configureKey(key, `decryption.keys[${index}]`));
    this.#allowed = {
      keyManagement: algorithmList(
        options.keyManagementAlgorithms,
        KEY_MANAGEMENT_ALGORITHMS,
        'decryption.keyManagementAlgorithms',
      ),
      contentEncryption: algorithmList(
        options.contentEncryptionAlgorithms,
        CONTENT_ENCRYPTION_ALGORITHMS,
        'decryption.contentEncryptionAlgorithms',
      ),
    };
    if (options.required !== undefined && typeof options.required !== 'boolean') {
      throw invalidArgument('decryption.required must be a boolean');
    }
    this.#required = options.required ?? false;
    this.#maxLength = maxEncryptedLength(maxTokenLength);
  }

  /** The signed token to verify: `token` itself, or what the JWE `token` holds. */
  open(token: string): string | Promise<string> {
    if (typeof token !== 'string' || token === '') return token;
    if (!isCompactJwe(token)) {
      if (this.#required) {
        throw decryptionFailed('this API accepts encrypted tokens (JWE) only; the token is not encrypted');
      }
      return token;
    }
    return this.#decrypt(token);
  }

  async #decrypt(token: string): Promise<string> {
    const header = readJweHeader(token, this.#maxLength, this.#allowed, portableDecoder);
    const { alg, enc, kid } = header;
    const family = familyOfAlgorithm(alg);
    const fitting = this.#keys.filter(
      (key) => key.family === family && (key.alg === undefined || key.alg === alg),
    );
    const byKid = kid === undefined ? fitting : fitting.filter((key) => key.kid === kid);
    const candidates =
      byKid.length > 0 || kid === undefined ? byKid : fitting.filter((key) => key.kid === undefined);
    if (candidates.length === 0) {
      throw decryptionFailed(
        `no configured decryption key fits the token (${kid === undefined ? 'no kid' : `kid ${JSON.stringify(kid)}`}, ${alg})`,
      );
    }
    const options = {
      keyManagementAlgorithms: [alg],
      contentEncryptionAlgorithms: [enc],
      maxDecompressedLength: 0,
    };
    for (const candidate of candidates) {
      try {
        const { plaintext } = await compactDecrypt(token, await this.#keyFor(candidate, alg), options);
        return nestedJws(plaintext);
      } catch (error) {
        // Refusals of the plaintext carry their own message; every other failure the same one.
        if (isJwtVerifyError(error)) throw error;
      }
    }
    throw decryptionFailed(FAILED);
  }

  #keyFor(candidate: ConfiguredKey, alg: string): DecryptionKey | Promise<CryptoKey | Uint8Array> {
    if (tag(candidate.key) === 'CryptoKey' || tag(candidate.key) === 'KeyObject') return candidate.key;
    let imported = candidate.imported.get(alg);
    if (imported === undefined) {
      imported = importJWK(candidate.key as JWK, alg);
      candidate.imported.set(alg, imported);
    }
    return imported;
  }
}

/** The `decryption` option, checked: `undefined` when tokens are not decrypted. */
export function resolveDecryptionOptions(
  options: DecryptionOptions | undefined,
  maxTokenLength: number,
): TokenDecryptor | undefined {
  if (options === undefined) return undefined;
  if (typeof options !== 'object' || options === null || options.keys === undefined) {
    throw invalidArgument('decryption must be an object with keys (one private key or a list)');
  }
  return new TokenDecryptor(options, maxTokenLength);
}

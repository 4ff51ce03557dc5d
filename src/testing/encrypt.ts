/** The stub issuer's encrypted access tokens: a signed JWT inside a compact JWE (RFC 7516, nested per RFC 7519 §5.2). */
import { CompactEncrypt, type CryptoKey, type JWK, type KeyObject, importJWK } from 'jose';
import { invalidArgument } from '../errors.js';
import {
  CONTENT_ENCRYPTION_ALGORITHMS,
  type ContentEncryptionAlgorithm,
  KEY_MANAGEMENT_ALGORITHMS,
  type KeyManagementAlgorithm,
} from '../token/jwe.js';

/**
 * The `encryptAccessTokens` option of {@link createTestIssuer}: access tokens go out as a
 * compact JWE around the signed JWT, for the API that holds the private key.
 *
 * @example
 * const issuer = await createTestIssuer({ encryptAccessTokens: { key: apiPublicJwk } });
 * const token = await issuer.sign({ sub: 'alice' }); // RSA-OAEP-256 + A256GCM, cty JWT
 * @see https://www.rfc-editor.org/rfc/rfc7516
 */
export interface EncryptAccessTokensOptions {
  /** The API's public key (a public JWK, `CryptoKey` or `KeyObject`), or a shared secret (`kty: "oct"`). */
  key: JWK | CryptoKey | KeyObject;
  /**
   * The key-management algorithm. Default by key: `RSA-OAEP-256` (RSA), `ECDH-ES+A256KW`
   * (EC, X25519), `A256KW` (a secret), as Auth0 does for RSA.
   */
  alg?: KeyManagementAlgorithm;
  /** The content-encryption algorithm. Default `A256GCM`. */
  enc?: ContentEncryptionAlgorithm;
  /** The `kid` in the JWE header. Default: the JWK's `kid`, none for other keys. */
  kid?: string;
}

/** Encrypts a signed token for the API. */
export type TokenEncrypter = (signedToken: string) => Promise<string>;

function fail(message: string): never {
  throw invalidArgument(`createTestIssuer: encryptAccessTokens${message}`);
}

const tag = (value: object): unknown => (value as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag];

/** The key-management algorithm a key is used with when none is asked for. */
function defaultAlgorithm(key: JWK | CryptoKey | KeyObject): KeyManagementAlgorithm {
  if (tag(key) === 'CryptoKey' || tag(key) === 'KeyObject') {
    const { type, algorithm, asymmetricKeyType } = key as {
      type: string;
      algorithm?: { name: string; hash?: { name: string }; length?: number };
      asymmetricKeyType?: string;
    };
    if (type === 'private') fail('.key is a private key; the issuer encrypts with the public one');
    const name = algorithm?.name ?? asymmetricKeyType ?? type;
    if (name === 'RSA-OAEP') {
      const bits = algorithm?.hash?.name.replace('SHA-', '');
      return bits === '1' ? 'RSA-OAEP' : (`RSA-OAEP-${bits}` as KeyManagementAlgorithm);
    }
    if (name === 'AES-KW') return `A${algorithm?.length ?? 256}KW` as KeyManagementAlgorithm;
    if (name === 'AES-GCM') return 'dir';
    if (name === 'rsa') return 'RSA-OAEP-256';
    if (['ECDH', 'X25519', 'ec', 'x25519'].includes(name)) return 'ECDH-ES+A256KW';
    if (name === 'secret') return 'A256KW';
    return fail(`.key is a ${name} key, which cannot encrypt tokens`);
  }
  const jwk = key as JWK;
  if (jwk.d !== undefined) fail('.key is a private JWK; the issuer encrypts with the public one');
  if (jwk.kty === 'RSA') return 'RSA-OAEP-256';
  if (jwk.kty === 'EC' || jwk.kty === 'OKP') return 'ECDH-ES+A256KW';
  if (jwk.kty === 'oct') return 'A256KW';
  return fail(`.key is a JWK of kty ${JSON.stringify(jwk.kty)}, which cannot encrypt tokens`);
}

/** The encrypter for the option, checked; `undefined` when tokens are not encrypted. */
export function createTokenEncrypter(
  options: EncryptAccessTokensOptions | undefined,
): TokenEncrypter | undefined {
  if (options === undefined) return undefined;
  if (
    typeof options !== 'object' ||
    options === null ||
    typeof options.key !== 'object' ||
    options.key === null
  ) {
    fail(' must be { key } with the API’s public key (a JWK, CryptoKey or KeyObject)');
  }
  const { key } = options;
  const alg = options.alg ?? defaultAlgorithm(key);
  if (!KEY_MANAGEMENT_ALGORITHMS.includes(alg))
    fail(`.alg must be one of ${KEY_MANAGEMENT_ALGORITHMS.join(', ')}`);
  const enc = options.enc ?? 'A256GCM';
  if (!CONTENT_ENCRYPTION_ALGORITHMS.includes(enc)) {
    fail(`.enc must be one of ${CONTENT_ENCRYPTION_ALGORITHMS.join(', ')}`);
  }
  const isJwk = tag(key) !== 'CryptoKey' && tag(key) !== 'KeyObject';
  const kid = options.kid ?? (isJwk ? (key as JWK).kid : undefined);
  // A JWK is imported once, on the first token.
  let imported: Promise<CryptoKey | Uint8Array | KeyObject | JWK> | undefined;
  const encryptionKey = () => (imported ??= isJwk ? importJWK(key as JWK, alg) : Promise.resolve(key));
  const header = { alg, enc, cty: 'JWT', ...(kid === undefined ? {} : { kid }) };
  return async (signedToken) =>
    new CompactEncrypt(new TextEncoder().encode(signedToken))
      .setProtectedHeader(header)
      .encrypt(await encryptionKey());
}

/** Compact JWE (RFC 7516 §7.1) before and after decryption: the size caps, the header rules, what the plaintext may be. */
import { JwtVerifyError, describeValue } from '../errors.js';
import { decodeJsonObject } from './parse.js';
import { type SegmentDecoder, checkBase64Url, malformed, portableDecoder } from './segments.js';

/**
 * The key-management algorithms (RFC 7518 §4) an encrypted token may use, and the default of
 * `decryption.keyManagementAlgorithms`; RSA1_5 and PBES2 are never among them.
 *
 * @example
 * const verifier = new JwtVerifier({
 *   issuer, audience,
 *   decryption: { keys, keyManagementAlgorithms: KEY_MANAGEMENT_ALGORITHMS.filter((alg) => alg.startsWith('RSA-OAEP-')) },
 * });
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-4
 */
export const KEY_MANAGEMENT_ALGORITHMS = [
  'RSA-OAEP',
  'RSA-OAEP-256',
  'RSA-OAEP-384',
  'RSA-OAEP-512',
  'ECDH-ES',
  'ECDH-ES+A128KW',
  'ECDH-ES+A192KW',
  'ECDH-ES+A256KW',
  'A128KW',
  'A192KW',
  'A256KW',
  'A128GCMKW',
  'A192GCMKW',
  'A256GCMKW',
  'dir',
] as const;

/** One of {@link KEY_MANAGEMENT_ALGORITHMS}. */
export type KeyManagementAlgorithm = (typeof KEY_MANAGEMENT_ALGORITHMS)[number];

/**
 * The content-encryption algorithms (RFC 7518 §5) an encrypted token may use, and the
 * default of `decryption.contentEncryptionAlgorithms`.
 *
 * @example
 * const gcmOnly = CONTENT_ENCRYPTION_ALGORITHMS.filter((enc) => enc.endsWith('GCM'));
 * @see https://www.rfc-editor.org/rfc/rfc7518#section-5
 */
export const CONTENT_ENCRYPTION_ALGORITHMS = [
  'A128GCM',
  'A192GCM',
  'A256GCM',
  'A128CBC-HS256',
  'A192CBC-HS384',
  'A256CBC-HS512',
] as const;

/** One of {@link CONTENT_ENCRYPTION_ALGORITHMS}. */
export type ContentEncryptionAlgorithm = (typeof CONTENT_ENCRYPTION_ALGORITHMS)[number];

/** The protected header of a compact JWE (RFC 7516 §4), as read before decryption. */
export interface JweHeader {
  alg: KeyManagementAlgorithm;
  enc: ContentEncryptionAlgorithm;
  kid?: string;
  cty?: string;
  [parameter: string]: unknown;
}

/** The longest protected header read, in characters (an ECDH-ES `epk` on P-521 takes about 400). */
const MAX_HEADER_LENGTH = 4096;
/** The longest encrypted key read, in characters (an RSA-OAEP key wrapped with a 8192-bit key takes 1366). */
const MAX_ENCRYPTED_KEY_LENGTH = 1400;
const MAX_KID_LENGTH = 1024;

/** The longest compact JWE accepted around a signed JWT of up to `maxTokenLength` characters. */
export function maxEncryptedLength(maxTokenLength: number): number {
  return Math.ceil((maxTokenLength * 4) / 3) + MAX_HEADER_LENGTH + MAX_ENCRYPTED_KEY_LENGTH + 64;
}

/** A token in compact JWE form: five dot-separated parts. A fast test; {@link readJweHeader} checks the rest. */
export function isCompactJwe(token: string): boolean {
  let dots = 0;
  for (let at = token.indexOf('.'); at !== -1; at = token.indexOf('.', at + 1)) dots++;
  return dots === 4;
}

/**
 * A compact JWE's protected header WITHOUT decrypting or checking anything but its form: for
 * showing (the CLI's `decode`), never for trusting.
 */
export function decodeJweHeaderUnverified(compact: string): Record<string, unknown> {
  const encoded = compact.slice(0, compact.indexOf('.'));
  if (encoded.length > MAX_HEADER_LENGTH) {
    throw malformed(`the encrypted token's header is longer than ${MAX_HEADER_LENGTH} characters`);
  }
  return decodeJsonObject(encoded, 'encrypted token header', portableDecoder);
}

/** The one error of decryption (RFC 7516 §11.4 asks for no oracle: the message names no cause). */
export function decryptionFailed(message: string): JwtVerifyError {
  return new JwtVerifyError('ERR_DECRYPTION_FAILED', message);
}

/**
 * Reads a compact JWE's protected header without decrypting anything, after the size caps
 * and strict base64url checks on every part. Structure is `ERR_TOKEN_MALFORMED`; a refused
 * algorithm, `zip`, `crit` or a `cty` other than `JWT` is `ERR_DECRYPTION_FAILED`.
 */
export function readJweHeader(
  compact: string,
  maxLength: number,
  allowed: { keyManagement: ReadonlySet<string>; contentEncryption: ReadonlySet<string> },
  decoder: SegmentDecoder,
): JweHeader {
  if (compact.length > maxLength) {
    throw malformed(
      `the encrypted token is ${compact.length} characters long, more than the ${maxLength} allowed`,
    );
  }
  const parts = compact.split('.');
  if (parts.length !== 5)
    throw malformed(`a compact JWE has 5 dot-separated parts, this token has ${parts.length}`);
  const names = ['protected header', 'encrypted key', 'initialization vector', 'ciphertext', 'tag'];
  parts.forEach((part, index) => checkBase64Url(part, `encrypted token's ${names[index]}`));
  if (parts[0]!.length > MAX_HEADER_LENGTH) {
    throw malformed(`the encrypted token's header is longer than ${MAX_HEADER_LENGTH} characters`);
  }
  if (parts[1]!.length > MAX_ENCRYPTED_KEY_LENGTH) {
    throw malformed(`the encrypted token's key is longer than ${MAX_ENCRYPTED_KEY_LENGTH} characters`);
  }
  const header = decodeJsonObject(parts[0]!, 'encrypted token header', decoder);
  return checkJweHeader(header, allowed);
}

function checkJweHeader(
  header: Record<string, unknown>,
  allowed: { keyManagement: ReadonlySet<string>; contentEncryption: ReadonlySet<string> },
): JweHeader {
  const { alg, enc, kid, cty } = header;
  if (typeof alg !== 'string' || !allowed.keyManagement.has(alg)) {
    throw decryptionFailed(
      `the token is encrypted with the key-management algorithm ${describeValue(alg)}, which is not allowed; allowed: ${[...allowed.keyManagement].join(', ')}`,
    );
  }
  if (typeof enc !== 'string' || !allowed.contentEncryption.has(enc)) {
    throw decryptionFailed(
      `the token is encrypted with the content-encryption algorithm ${describeValue(enc)}, which is not allowed; allowed: ${[...allowed.contentEncryption].join(', ')}`,
    );
  }
  if (header.zip !== undefined) {
    // A compressed payload is a decompression bomb in waiting (RFC 8725 §3.6).
    throw decryptionFailed('compressed encrypted tokens ("zip") are not accepted');
  }
  if (header.crit !== undefined) {
    throw decryptionFailed('the encrypted token marks header parameters as critical; none are understood');
  }
  if (kid !== undefined && (typeof kid !== 'string' || kid.length > MAX_KID_LENGTH)) {
    throw malformed(`the encrypted token's "kid" must be a string of at most ${MAX_KID_LENGTH} characters`);
  }
  if (cty !== undefined && (typeof cty !== 'string' || cty.toUpperCase() !== 'JWT')) {
    // RFC 7519 §5.2: a nested JWT says `cty: JWT`; anything else is not a signed JWT.
    throw decryptionFailed(
      `the encrypted token's content type is ${describeValue(cty)}; only a nested signed JWT ("cty": "JWT") is accepted`,
    );
  }
  return header as JweHeader;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/**
 * What a decrypted token holds must be a compact JWS (a nested JWT, RFC 7519 §5.2), which is
 * then verified like any signed token: bare claims carry no issuer's signature, and a JWE
 * inside the JWE is refused rather than unwrapped again.
 */
export function nestedJws(plaintext: Uint8Array): string {
  let text: string;
  try {
    text = utf8.decode(plaintext);
  } catch {
    throw decryptionFailed('the encrypted token does not hold a signed JWT');
  }
  if (COMPACT_JWS.test(text)) return text;
  if (isCompactJwe(text))
    throw decryptionFailed('the encrypted token holds another encrypted token; only one layer is accepted');
  throw decryptionFailed(
    'the encrypted token does not hold a signed JWT (a compact JWS); bare claims are not accepted',
  );
}

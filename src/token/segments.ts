/** Token segments: strict base64url (RFC 7515 §2) and UTF-8, decoded once, the same on every runtime. */
import { JwtVerifyError } from '../errors.js';

const BASE64URL = /^[A-Za-z0-9_-]*$/;

/** An ERR_TOKEN_MALFORMED with this message. */
export function malformed(message: string, cause?: unknown): JwtVerifyError {
  return new JwtVerifyError('ERR_TOKEN_MALFORMED', message, { cause });
}

/**
 * Decodes base64url strictly (RFC 7515 §2): no padding, no `+`/`/`, no whitespace, and
 * no non-zero trailing bits, so that each byte string has exactly one encoding.
 */
export function decodeBase64Url(input: string, what: string): Uint8Array {
  return binaryToBytes(decodeBase64UrlToBinary(input, what));
}

function binaryToBytes(binary: string): Uint8Array {
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** Throws unless `input` is strict base64url (see {@link decodeBase64Url}), without decoding it. */
export function checkBase64Url(input: string, what: string): void {
  const remainder = input.length % 4;
  if (!BASE64URL.test(input) || remainder === 1) {
    throw malformed(`the ${what} is not base64url (unpadded, alphabet A-Z a-z 0-9 - _)`);
  }
  checkTrailingBits(input, what);
}

/** A strict segment's unused low bits are zero. */
function checkTrailingBits(input: string, what: string): void {
  const remainder = input.length % 4;
  if (remainder !== 0) {
    const last = input.charCodeAt(input.length - 1);
    const sextet = BASE64_VALUE[last] ?? 0;
    const unusedBits = remainder === 2 ? 0b1111 : 0b11;
    if ((sextet & unusedBits) !== 0) {
      throw malformed(`the ${what} is not canonical base64url (non-zero trailing bits)`);
    }
  }
}

/**
 * Throws the ERR_TOKEN_MALFORMED that {@link checkBase64Url} gives for a segment another
 * decoder found not to be strict base64url.
 */
function notBase64Url(input: string, what: string): never {
  checkBase64Url(input, what);
  throw malformed(`the ${what} is not base64url`);
}

/**
 * Checks a segment by what a lenient base64 decoder made of it. Such decoders (WHATWG
 * forgiving-base64 `atob`, Node's Buffer) take both alphabets and skip or stop at anything
 * else (whitespace, `=`, other characters), which leaves the result shorter than
 * `floor(3 * length / 4)` bytes. So a full-length result, a length ≠ 1 mod 4, no `+` or `/`
 * and zero trailing bits mean the segment is strict base64url, without a regular
 * expression over it.
 */
export function checkLenientDecode(input: string, decodedLength: number, what: string): void {
  if (
    input.length % 4 === 1 ||
    decodedLength !== Math.floor((input.length * 3) / 4) ||
    input.includes('+') ||
    input.includes('/')
  ) {
    notBase64Url(input, what);
  }
  checkTrailingBits(input, what);
}

/** Strict base64url to a binary string (one char per byte), as `atob` gives. */
function decodeBase64UrlToBinary(input: string, what: string): string {
  let binary = '';
  try {
    binary = atob(input.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    // refused: checkLenientDecode says why
  }
  checkLenientDecode(input, binary.length, what);
  return binary;
}

// Sextet values by character code; 0 for characters outside the alphabet (refused elsewhere).
const BASE64_VALUE = (() => {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const table = new Uint8Array(128);
  for (let i = 0; i < alphabet.length; i++) table[alphabet.charCodeAt(i)] = i;
  return table;
})();

const utf8 = new TextDecoder('utf-8', { fatal: true });
const NON_ASCII = /[^\x00-\x7f]/;

/** UTF-8 bytes to text, refusing invalid sequences (a leading BOM is dropped). */
function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8.decode(bytes);
  } catch (cause) {
    throw malformed(`the ${what} is not valid UTF-8 JSON`, cause);
  }
}

/**
 * How a runtime decodes the segments of a token. Both ways give the same result or the
 * same error for every input (test/token/signature/differential.test.ts).
 */
export interface SegmentDecoder {
  /** A header or payload segment as text: strict base64url, then UTF-8. */
  text(segment: string, what: string): string;
  /** Checks the signature segment as strictly; may hand back its bytes, so they are decoded once. */
  signature(segment: string): Uint8Array | undefined;
}

/** A header or payload decoder over `atob`, given a way to tell that a binary string is all ASCII. */
export function binaryTextDecoder(isAscii: (binary: string) => boolean): SegmentDecoder['text'] {
  return (segment, what) => {
    const binary = decodeBase64UrlToBinary(segment, what);
    // ASCII (nearly every JWT) reads the same as bytes and as UTF-8: skip the byte copy.
    return isAscii(binary) ? binary : decodeUtf8(binaryToBytes(binary), what);
  };
}

/** The decoder for every runtime: atob, and regular expressions for ASCII and the signature's alphabet. */
export const portableDecoder: SegmentDecoder = {
  text: binaryTextDecoder((binary) => !NON_ASCII.test(binary)),
  signature(segment) {
    checkBase64Url(segment, 'signature');
    return undefined;
  },
};

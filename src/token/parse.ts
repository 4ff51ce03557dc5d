import { JwtVerifyError } from '../errors.js';

/** The JOSE header of a signed JWT (RFC 7515 §4). */
export interface JwtHeader {
  alg: string;
  kid?: string;
  typ?: string;
  cty?: string;
  crit?: string[];
  [parameter: string]: unknown;
}

/** The registered claims (RFC 7519 §4.1, RFC 9068 §2.2), plus whatever else the issuer put in. */
export interface JwtPayload {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  nbf?: number;
  iat?: number;
  jti?: string;
  client_id?: string;
  scope?: string;
  scp?: string | string[];
  [claim: string]: unknown;
}

/** A compact JWS split into its parts, with header and payload decoded but not trusted. */
export interface ParsedToken {
  header: JwtHeader;
  payload: JwtPayload;
  /** `base64url(header) + '.' + base64url(payload)`: the bytes the signature covers. */
  signingInput: string;
  /** The third segment, still base64url-encoded. */
  encodedSignature: string;
  /** The decoded signature bytes. */
  signature: Uint8Array;
}

/** Tokens longer than this are refused before any decoding (characters). */
export const DEFAULT_MAX_TOKEN_LENGTH = 32 * 1024;
const MAX_KID_LENGTH = 1024;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

function malformed(message: string, cause?: unknown): JwtVerifyError {
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
function checkBase64Url(input: string, what: string): void {
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
 * same error for every input (test/perf/signature-differential.test.ts).
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

function decodeJsonObject(segment: string, what: string, decoder: SegmentDecoder): Record<string, unknown> {
  const text = decoder.text(segment, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw malformed(`the ${what} is not valid UTF-8 JSON`, cause);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`the ${what} is not a JSON object`);
  }
  const duplicate = hasDistinctMembers(text, Object.keys(value).length)
    ? undefined
    : duplicateMemberName(text);
  if (duplicate !== undefined) {
    throw malformed(`the ${what} has the member ${JSON.stringify(duplicate.slice(0, 60))} more than once`);
  }
  return value as Record<string, unknown>;
}

// Character codes the duplicate-member scan looks for.
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether an object text JSON.parse accepted, which gave `names` own properties, has each
 * member name once. It has at least `names` members and at most one more than it has commas,
 * so a text with `names - 1` commas in all (a flat payload) has no duplicate: a few
 * `indexOf` calls settle it. Otherwise the top-level members are counted.
 */
function hasDistinctMembers(text: string, names: number): boolean {
  let commas = 0;
  for (let at = text.indexOf(','); at !== -1 && commas < names; at = text.indexOf(',', at + 1)) commas++;
  return commas + 1 === names || topLevelMemberCount(text) === names;
}

/**
 * How many members the top level of a JSON object text has (text JSON.parse accepted).
 * JSON.parse makes one own property per distinct member name (`__proto__` included), so as
 * many members as own keys means no name occurred twice, escaped or not: a count of the
 * commas between members is all the common case needs, without collecting the names.
 */
function topLevelMemberCount(text: string): number {
  if (text.includes('\\')) return -1; // an escaped quote would end a string early: let the full scan decide
  let depth = 0;
  let commas = 0;
  let empty = true;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      empty = false;
      i = text.indexOf('"', i + 1);
      if (i === -1) return -1;
    } else if (char === COMMA) {
      if (depth === 1) commas++;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth++;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    }
  }
  return empty ? 0 : commas + 1;
}

/**
 * The first top-level member name of a JSON object text that occurs twice, after escapes
 * are decoded (`"\u0061lg"` is `"alg"`). RFC 7515 §5.2 and RFC 7519 §4 let a JWT parser
 * refuse duplicates; JSON.parse keeps the last one, and another parser may keep the first,
 * so refusing is the only reading every party agrees on. Expects text JSON.parse accepted.
 */
function duplicateMemberName(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      let end = i + 1;
      while (text.charCodeAt(end) !== QUOTE) end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      if (depth === 1 && expectName) {
        const raw = text.slice(i + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (seen.has(name)) return name;
        seen.add(name);
        expectName = false;
      }
      i = end;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth++;
      expectName = depth === 1;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    } else if (char === COMMA && depth === 1) {
      expectName = true;
    }
  }
  return undefined;
}

/** Rejects a missing token with ERR_TOKEN_MISSING and a non-string with ERR_TOKEN_MALFORMED. */
export function requireTokenString(token: unknown): string {
  if (token === undefined || token === null || token === '') {
    throw new JwtVerifyError('ERR_TOKEN_MISSING', 'no token was given');
  }
  if (typeof token !== 'string') {
    throw malformed(`the token must be a string, got a ${typeof token}`);
  }
  return token;
}

/**
 * Splits and decodes a compact JWS (RFC 7515 §7.1) without verifying it.
 * Refuses JWE, unknown `crit` parameters (RFC 7515 §4.1.11) and unencoded payloads (RFC 7797).
 */
export function parseToken(
  token: unknown,
  maxLength = DEFAULT_MAX_TOKEN_LENGTH,
  decoder: SegmentDecoder = portableDecoder,
): ParsedToken {
  const compact = requireTokenString(token);
  if (compact.length > maxLength) {
    throw malformed(`the token is ${compact.length} characters long, more than the ${maxLength} allowed`);
  }
  const headerEnd = compact.indexOf('.');
  const payloadEnd = headerEnd === -1 ? -1 : compact.indexOf('.', headerEnd + 1);
  if (payloadEnd === -1 || compact.includes('.', payloadEnd + 1)) {
    const count = compact.split('.').length;
    if (count === 5) throw malformed('the token is a JWE (encrypted); only signed JWTs are accepted');
    throw malformed(`a compact JWS has 3 dot-separated parts, this token has ${count}`);
  }
  const header = headerOf(compact.slice(0, headerEnd), decoder);
  const payload = decodeJsonObject(
    compact.slice(headerEnd + 1, payloadEnd),
    'payload',
    decoder,
  ) as JwtPayload;
  const encodedSignature = compact.slice(payloadEnd + 1);
  const signature = decoder.signature(encodedSignature);
  return new CompactJws(header, payload, compact.slice(0, payloadEnd), encodedSignature, signature);
}

class CompactJws implements ParsedToken {
  constructor(
    readonly header: JwtHeader,
    readonly payload: JwtPayload,
    readonly signingInput: string,
    readonly encodedSignature: string,
    private decodedSignature: Uint8Array | undefined,
  ) {}

  // Decoded on demand unless the decoder did it: jose reads `encodedSignature` itself.
  get signature(): Uint8Array {
    return (this.decodedSignature ??= decodeBase64Url(this.encodedSignature, 'signature'));
  }
}

// Every token of an issuer carries one of a few headers: keep the last few parsed, so the
// hot path decodes only the payload. Bounded, and only headers of plain values, handed out
// as copies: nothing a caller does to its result reaches the next token.
const MAX_CACHED_HEADERS = 32;
const parsedHeaders = new Map<string, JwtHeader>();
// The last one found: most tokens carry the header of the token before, and comparing the
// strings costs a fraction of hashing one for the Map.
let lastEncodedHeader: string | undefined;
let lastHeader: JwtHeader | undefined;

function headerOf(encoded: string, decoder: SegmentDecoder): JwtHeader {
  if (encoded === lastEncodedHeader) return { ...lastHeader! };
  const cached = parsedHeaders.get(encoded);
  if (cached !== undefined) {
    lastEncodedHeader = encoded;
    lastHeader = cached;
    return { ...cached };
  }
  const header = parseHeader(decodeJsonObject(encoded, 'header', decoder));
  if (Object.values(header).every((value) => value === null || typeof value !== 'object')) {
    if (parsedHeaders.size >= MAX_CACHED_HEADERS) parsedHeaders.delete(parsedHeaders.keys().next().value!);
    parsedHeaders.set(encoded, { ...header });
  }
  return header;
}

function parseHeader(header: Record<string, unknown>): JwtHeader {
  if (typeof header.alg !== 'string' || header.alg === '') {
    throw malformed('the header has no "alg" string');
  }
  if (header.kid !== undefined && (typeof header.kid !== 'string' || header.kid.length > MAX_KID_LENGTH)) {
    throw malformed(`the header's "kid" must be a string of at most ${MAX_KID_LENGTH} characters`);
  }
  if (header.typ !== undefined && typeof header.typ !== 'string') {
    throw malformed('the header\'s "typ" must be a string');
  }
  if (header.crit !== undefined) {
    const names = Array.isArray(header.crit) ? header.crit.map(String).join(', ') : String(header.crit);
    throw malformed(
      `the header marks parameters as critical that this verifier does not understand: ${names}`,
    );
  }
  if (header.b64 !== undefined && header.b64 !== true) {
    throw malformed('unencoded payloads ("b64": false, RFC 7797) are not accepted in JWTs');
  }
  return header as JwtHeader;
}

/**
 * Decodes a JWT's header and payload WITHOUT verifying anything. Never trust the result:
 * it is for routing (which issuer?) and for debugging output.
 */
export function decodeUnverified(token: unknown): { header: JwtHeader; payload: JwtPayload } {
  const { header, payload } = parseToken(token);
  return { header, payload };
}

/** Compact JWS parsing (RFC 7515 §7.1): split, decode, check the header; nothing is trusted yet. */
import { JwtVerifyError, describeValue } from '../errors.js';
import { duplicateMemberName, hasDistinctMembers } from './json-members.js';
import { type SegmentDecoder, decodeBase64Url, malformed, portableDecoder } from './segments.js';

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

/** Decodes a segment as a UTF-8 JSON object whose member names are distinct. */
export function decodeJsonObject(
  segment: string,
  what: string,
  decoder: SegmentDecoder,
): Record<string, unknown> {
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
  return parseCompact(token, maxLength, decoder, undefined);
}

/**
 * {@link parseToken}, with the header taken from `known` when its encoded text is
 * `known.encoded` (a caller's memo of headers it parsed before: a DPoP client's proofs all
 * carry the same header with its `jwk`). Every other check runs as in `parseToken`.
 */
export function parseTokenKnowingHeader(
  token: unknown,
  maxLength: number,
  decoder: SegmentDecoder,
  known: { encoded: string; header: JwtHeader } | undefined,
): ParsedToken {
  return parseCompact(token, maxLength, decoder, known);
}

function parseCompact(
  token: unknown,
  maxLength: number,
  decoder: SegmentDecoder,
  known: { encoded: string; header: JwtHeader } | undefined,
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
  const encodedHeader = compact.slice(0, headerEnd);
  const header =
    known !== undefined && known.encoded === encodedHeader ? known.header : headerOf(encodedHeader, decoder);
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
    // Described, not String()ed: `{ "toString": {} }` would throw, and a long list is cut.
    const names = [header.crit].flat().slice(0, 5).map(describeValue).join(', ');
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

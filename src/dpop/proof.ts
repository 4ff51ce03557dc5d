/**
 * dpop/: DPoP (RFC 9449) at the resource server: proofs, nonces, replay stores. This file
 * checks one proof JWT (§4.3): typ, alg, the embedded public key, the signature, htm, htu,
 * nonce, iat and ath; the signature through the same path as access tokens (node:crypto on
 * Node, jose elsewhere), jose for the RFC 7638 thumbprint.
 */
import { calculateJwkThumbprint } from 'jose';
import { JwtVerifyError, describeValue, errorReason, isJwtVerifyError } from '../errors.js';
import type { JwsAlgorithm } from '../token/algorithms.js';
import type { SignatureCheck } from '../token/signature/index.js';
import {
  type JwksKey,
  type PublicJwk,
  jwkUnusableReason,
  keyFitsAlgorithm,
  publicKeyMembers,
} from '../token/jwk.js';
import { type JwtHeader, type ParsedToken, parseTokenKnowingHeader } from '../token/parse.js';
import {
  checkSignature as checkJwsSignature,
  segmentDecoder,
  sha256Base64Url,
} from '../token/signature/index.js';
import { normalizeHtu } from '../request/normalize-url.js';

/** The JOSE header of a verified DPoP proof. */
export interface DpopProofHeader extends JwtHeader {
  typ: string;
  alg: JwsAlgorithm;
  /** The client's public key, which signed the proof. */
  jwk: PublicJwk;
}

/** The claims of a verified DPoP proof (RFC 9449 §4.2). */
export interface DpopProofPayload {
  /** Unique per proof: the replay check remembers it. */
  jti: string;
  /** The HTTP method the proof is for. */
  htm: string;
  /** The URL the proof is for, without query and fragment. */
  htu: string;
  /** When the client made it, in seconds since the epoch. */
  iat: number;
  /** base64url SHA-256 of the access token. */
  ath?: string;
  /** The server nonce, when the server asked for one. */
  nonce?: string;
  [claim: string]: unknown;
}

/** A proof that passed {@link checkProof}: what it said and the thumbprint of its key. */
export interface CheckedProof {
  header: DpopProofHeader;
  payload: DpopProofPayload;
  /** The RFC 7638 SHA-256 thumbprint of `header.jwk`: what a bound token's `cnf.jkt` names. */
  jkt: string;
}

/** The verifier's rules for proofs. */
export interface ProofRules {
  algorithms: ReadonlySet<JwsAlgorithm>;
  maxAgeSeconds: number;
  clockToleranceSeconds: number;
}

/** What this request says a proof must match. */
export interface ProofExpectations {
  method: string;
  /** The request's URL, normalised (see `normalizeHtu`). */
  url: string;
  /** The access token sent with the proof: `ath` must be its hash. None at a token endpoint (§5). */
  accessToken: string | undefined;
  nowSeconds: number;
  /** Checks the `nonce` claim (between htu and iat, RFC 9449 §4.3); throws to refuse. */
  checkNonce?: (nonce: unknown) => void | Promise<void>;
}

/** Proofs longer than this are refused before decoding (characters): an RSA-4096 proof is about 2 600. */
export const MAX_PROOF_LENGTH = 8192;
const MAX_JTI_LENGTH = 256;
const MAX_CACHED_KEYS = 256;
const MAX_KNOWN_HEADERS = 256;
// A header with an RSA-4096 jwk is about 1 000 characters: longer ones are checked each time.
const MAX_KNOWN_HEADER_LENGTH = 2048;

/** A proof's key as a JWKS entry and its RFC 7638 thumbprint. */
interface ProofKey {
  key: JwksKey;
  jkt: string;
}

/**
 * A proof header that passed every check of its own and whose key then verified a proof's
 * signature: the same text decodes to the same header and the same key, so a client's next
 * proofs skip decoding it, checking its `jwk`, and finding its key (whose node:crypto key
 * object the signature path keeps per entry). Only `alg` is checked again, against the
 * verifier's own `dpop.algorithms`. Holds public keys only.
 */
interface KnownHeader extends ProofKey {
  encoded: string;
  header: DpopProofHeader;
}

// Clients sign every request with the same key: keep the last ones seen (see proofKey).
const proofKeys = new Map<string, ProofKey>();
// And with the same header text (see KnownHeader). Both bounded, oldest out first.
const knownHeaders = new Map<string, KnownHeader>();

/** The memo of known proof headers, seen from outside: its size, and a way to empty it. For tests. */
export const knownProofHeaders = {
  get size(): number {
    return knownHeaders.size;
  },
  clear(): void {
    knownHeaders.clear();
    lastKnown = undefined;
  },
  /** The most it holds. */
  max: MAX_KNOWN_HEADERS,
} as const;

function invalid(message: string, cause?: unknown): JwtVerifyError {
  return new JwtVerifyError('ERR_DPOP_PROOF_INVALID', message, cause === undefined ? {} : { cause });
}

/** The base64url SHA-256 of an access token: a proof's `ath` (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string | Promise<string> {
  return sha256Base64Url(accessToken);
}

/** The proof's `alg`, when the verifier's `dpop.algorithms` allow it. */
function checkAlgorithm(header: JwtHeader, rules: ProofRules): JwsAlgorithm {
  const alg = header.alg as JwsAlgorithm;
  if (!rules.algorithms.has(alg)) {
    throw invalid(
      `the DPoP proof is signed with ${JSON.stringify(header.alg)}, which is not allowed; allowed: ${[...rules.algorithms].join(', ')}`,
    );
  }
  return alg;
}

function checkHeader(header: JwtHeader, rules: ProofRules): asserts header is DpopProofHeader {
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : header.typ;
  if (typ !== 'dpop+jwt' && typ !== 'application/dpop+jwt') {
    throw invalid(`the DPoP proof's typ must be "dpop+jwt", found ${describeValue(header.typ)}`);
  }
  const alg = checkAlgorithm(header, rules);
  const jwk = header.jwk;
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw invalid('the DPoP proof has no "jwk" header holding its public key');
  }
  const unusable = jwkUnusableReason(jwk);
  if (unusable !== undefined) throw invalid(`the DPoP proof's jwk cannot be used: ${unusable}`);
  if (!keyFitsAlgorithm(jwk as PublicJwk, alg)) {
    throw invalid(`the DPoP proof's jwk (kty ${describeValue((jwk as PublicJwk).kty)}) does not fit ${alg}`);
  }
}

/**
 * The proof's key as a JWKS entry, with its RFC 7638 thumbprint: a client sends the same key
 * with every proof, so both are kept (bounded), and the signature path's own per-key cache
 * (node:crypto key objects on Node) applies to proofs as to access tokens.
 */
function proofKey(jwk: PublicJwk): ProofKey | Promise<ProofKey> {
  const cacheKey = JSON.stringify(publicKeyMembers({ kid: undefined, jwk }));
  const cached = proofKeys.get(cacheKey);
  if (cached !== undefined) return cached;
  return calculateJwkThumbprint(jwk, 'sha256').then((jkt) => {
    const entry = { key: { kid: undefined, jwk }, jkt };
    if (proofKeys.size >= MAX_CACHED_KEYS) proofKeys.delete(proofKeys.keys().next().value!);
    proofKeys.set(cacheKey, entry);
    return entry;
  });
}

/** Refuses a proof whose signature did not verify with its own key. */
function checkSignatureResult(check: SignatureCheck, alg: JwsAlgorithm): void {
  if (check !== 'valid') throw invalid(`the DPoP proof's ${alg} signature does not verify with its jwk`);
}

// The last header found: most proofs come from the client of the proof before, and comparing
// the texts costs a fraction of hashing one for the Map.
let lastKnown: KnownHeader | undefined;

function knownHeader(encoded: string): KnownHeader | undefined {
  if (lastKnown !== undefined && lastKnown.encoded === encoded) return lastKnown;
  const known = knownHeaders.get(encoded);
  if (known !== undefined) lastKnown = known;
  return known;
}

/** Remembers a header whose key just verified a proof (see {@link KnownHeader}). */
function remember(encoded: string, header: DpopProofHeader, { key, jkt }: ProofKey): void {
  if (encoded.length > MAX_KNOWN_HEADER_LENGTH || knownHeaders.has(encoded)) return;
  if (knownHeaders.size >= MAX_KNOWN_HEADERS) {
    const oldest = knownHeaders.keys().next().value!;
    knownHeaders.delete(oldest);
    if (lastKnown?.encoded === oldest) lastKnown = undefined;
  }
  knownHeaders.set(encoded, { encoded, header: copyHeader(header), key, jkt });
}

/** A header of the caller's own: the memo's copy never leaves this module. */
function copyHeader(header: DpopProofHeader): DpopProofHeader {
  const { jwk } = header;
  return { ...header, jwk: { ...jwk, ...(Array.isArray(jwk.key_ops) ? { key_ops: [...jwk.key_ops] } : {}) } };
}

/**
 * The proof's signature checked with its own key, and the key's thumbprint. At once when
 * the header is known and the signature path answers at once (node:crypto on Node and Bun).
 */
function checkSignature(
  parsed: ParsedToken,
  header: DpopProofHeader,
  known: KnownHeader | undefined,
  encodedHeader: string,
): string | Promise<string> {
  if (known !== undefined) {
    let check;
    try {
      check = checkJwsSignature(parsed, known.key, header.alg);
    } catch (error) {
      throw invalid(`the DPoP proof's jwk cannot be used: ${errorReason(error)}`, error);
    }
    if (typeof check === 'string') {
      checkSignatureResult(check, header.alg);
      return known.jkt;
    }
    return check.then(
      (result) => {
        checkSignatureResult(result, header.alg);
        return known.jkt;
      },
      (error: unknown) => {
        throw invalid(`the DPoP proof's jwk cannot be used: ${errorReason(error)}`, error);
      },
    );
  }
  return (async () => {
    let key: ProofKey;
    let check: SignatureCheck;
    try {
      key = await proofKey(header.jwk);
      check = await checkJwsSignature(parsed, key.key, header.alg);
    } catch (error) {
      throw invalid(`the DPoP proof's jwk cannot be used: ${errorReason(error)}`, error);
    }
    checkSignatureResult(check, header.alg);
    remember(encodedHeader, header, key);
    return key.jkt;
  })();
}

function checkClaimTypes(payload: Record<string, unknown>): asserts payload is DpopProofPayload {
  const { jti, htm, htu, iat } = payload;
  if (typeof jti !== 'string' || jti === '' || jti.length > MAX_JTI_LENGTH) {
    throw invalid(
      `the DPoP proof's jti must be a string of 1 to ${MAX_JTI_LENGTH} characters, found ${describeValue(jti)}`,
    );
  }
  if (typeof htm !== 'string')
    throw invalid(`the DPoP proof's htm must be a string, found ${describeValue(htm)}`);
  if (typeof htu !== 'string')
    throw invalid(`the DPoP proof's htu must be a string, found ${describeValue(htu)}`);
  if (typeof iat !== 'number' || !Number.isFinite(iat)) {
    throw invalid(`the DPoP proof's iat must be a number, found ${describeValue(iat)}`);
  }
}

function checkIat(iat: number, expected: ProofExpectations, rules: ProofRules): void {
  const { nowSeconds } = expected;
  const { maxAgeSeconds, clockToleranceSeconds } = rules;
  if (iat > nowSeconds + clockToleranceSeconds) {
    throw invalid(`the DPoP proof was issued in the future: iat ${iat}, now ${nowSeconds}`);
  }
  if (iat < nowSeconds - maxAgeSeconds - clockToleranceSeconds) {
    throw invalid(
      `the DPoP proof is too old: issued ${nowSeconds - iat} s ago, at most ${maxAgeSeconds} s are accepted`,
    );
  }
}

/**
 * Checks a DPoP proof for a request, in RFC 9449 §4.3 order; refuses with
 * `ERR_DPOP_PROOF_INVALID` (or what `checkNonce` throws). Not checked here: the replay
 * (§11.1) and the token's `cnf.jkt` (§7.1), which need the verified token. Answers at once
 * when it can (a known header, a signature path that answers at once, no nonce to await)
 * and throws its refusal then; else a promise.
 */
export function checkProof(
  proof: string,
  expected: ProofExpectations,
  rules: ProofRules,
): CheckedProof | Promise<CheckedProof> {
  const headerEnd = typeof proof === 'string' ? proof.indexOf('.') : -1;
  const encodedHeader = headerEnd === -1 ? '' : proof.slice(0, headerEnd);
  const known = knownHeader(encodedHeader);
  let parsed;
  try {
    parsed = parseTokenKnowingHeader(proof, MAX_PROOF_LENGTH, segmentDecoder, known);
  } catch (error) {
    if (!isJwtVerifyError(error)) throw error;
    throw invalid(`the DPoP proof is not a valid compact JWS: ${error.message}`, error);
  }
  const { header: parsedHeader, payload } = parsed;
  let header: DpopProofHeader;
  if (known === undefined) {
    checkHeader(parsedHeader, rules);
    header = parsedHeader;
  } else {
    checkAlgorithm(known.header, rules);
    header = copyHeader(known.header);
  }
  checkClaimTypes(payload);
  const jkt = checkSignature(parsed, header, known, encodedHeader);
  if (typeof jkt === 'string') return checkAfterSignature(header, payload, jkt, expected, rules);
  return jkt.then((thumbprint) => checkAfterSignature(header, payload, thumbprint, expected, rules));
}

/** The checks after the signature, in RFC 9449 §4.3 order: htm, htu, nonce, iat, ath. */
function checkAfterSignature(
  header: DpopProofHeader,
  payload: DpopProofPayload,
  jkt: string,
  expected: ProofExpectations,
  rules: ProofRules,
): CheckedProof | Promise<CheckedProof> {
  if (payload.htm !== expected.method) {
    throw invalid(
      `the DPoP proof is for method ${describeValue(payload.htm)}, the request is ${expected.method}`,
    );
  }
  if (normalizeHtu(payload.htu) !== expected.url) {
    throw invalid(`the DPoP proof is for ${describeValue(payload.htu)}, the request went to ${expected.url}`);
  }
  const nonceChecked = expected.checkNonce?.(payload.nonce);
  const rest = (): CheckedProof | Promise<CheckedProof> => {
    checkIat(payload.iat, expected, rules);
    const { accessToken } = expected;
    if (accessToken === undefined) return { header, payload, jkt };
    if (typeof payload.ath !== 'string') {
      throw invalid(
        'the DPoP proof has no "ath" (the access token hash, required with a token: RFC 9449 section 4.2)',
      );
    }
    const hash = accessTokenHash(accessToken);
    if (typeof hash === 'string') return checkAth(payload.ath, hash, { header, payload, jkt });
    return hash.then((text) => checkAth(payload.ath!, text, { header, payload, jkt }));
  };
  return nonceChecked instanceof Promise ? nonceChecked.then(rest) : rest();
}

function checkAth(ath: string, hash: string, proof: CheckedProof): CheckedProof {
  if (ath !== hash) {
    throw invalid("the DPoP proof's ath is not the hash of this access token: it was made for another token");
  }
  return proof;
}

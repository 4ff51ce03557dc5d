/**
 * dpop/: DPoP (RFC 9449) at the resource server: proofs, nonces, replay stores. This file
 * checks one proof JWT (§4.3): typ, alg, the embedded public key, the signature, htm, htu,
 * nonce, iat and ath; the signature through the same path as access tokens (node:crypto on
 * Node, jose elsewhere), jose for the RFC 7638 thumbprint.
 */
import { calculateJwkThumbprint } from 'jose';
import { JwtVerifyError, describeValue, errorReason, isJwtVerifyError } from '../errors.js';
import type { JwsAlgorithm } from '../token/algorithms.js';
import {
  type JwksKey,
  type PublicJwk,
  jwkUnusableReason,
  keyFitsAlgorithm,
  publicKeyMembers,
} from '../token/jwk.js';
import { type JwtHeader, type ParsedToken, parseToken } from '../token/parse.js';
import { checkSignature as checkJwsSignature, sha256Base64Url } from '../token/signature/index.js';
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

// Clients sign every request with the same key: keep the last ones seen (see proofKey).
const proofKeys = new Map<string, { key: JwksKey; jkt: string }>();

function invalid(message: string, cause?: unknown): JwtVerifyError {
  return new JwtVerifyError('ERR_DPOP_PROOF_INVALID', message, cause === undefined ? {} : { cause });
}

/** The base64url SHA-256 of an access token: a proof's `ath` (RFC 9449 §4.2). */
export function accessTokenHash(accessToken: string): string | Promise<string> {
  return sha256Base64Url(accessToken);
}

function checkHeader(header: JwtHeader, rules: ProofRules): asserts header is DpopProofHeader {
  const typ = typeof header.typ === 'string' ? header.typ.toLowerCase() : header.typ;
  if (typ !== 'dpop+jwt' && typ !== 'application/dpop+jwt') {
    throw invalid(`the DPoP proof's typ must be "dpop+jwt", found ${describeValue(header.typ)}`);
  }
  const alg = header.alg as JwsAlgorithm;
  if (!rules.algorithms.has(alg)) {
    throw invalid(
      `the DPoP proof is signed with ${JSON.stringify(header.alg)}, which is not allowed; allowed: ${[...rules.algorithms].join(', ')}`,
    );
  }
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
async function proofKey(jwk: PublicJwk): Promise<{ key: JwksKey; jkt: string }> {
  const cacheKey = JSON.stringify(publicKeyMembers({ kid: undefined, jwk }));
  const cached = proofKeys.get(cacheKey);
  if (cached !== undefined) return cached;
  const entry = { key: { kid: undefined, jwk }, jkt: await calculateJwkThumbprint(jwk, 'sha256') };
  if (proofKeys.size >= MAX_CACHED_KEYS) proofKeys.delete(proofKeys.keys().next().value!);
  proofKeys.set(cacheKey, entry);
  return entry;
}

async function checkSignature(parsed: ParsedToken, header: DpopProofHeader): Promise<string> {
  let check;
  let jkt: string;
  try {
    const { key, jkt: thumbprint } = await proofKey(header.jwk);
    jkt = thumbprint;
    check = await checkJwsSignature(parsed, key, header.alg);
  } catch (error) {
    throw invalid(`the DPoP proof's jwk cannot be used: ${errorReason(error)}`, error);
  }
  if (check !== 'valid') {
    throw invalid(`the DPoP proof's ${header.alg} signature does not verify with its jwk`);
  }
  return jkt;
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
 * Checks a DPoP proof for a request, in RFC 9449 §4.3 order; rejects with
 * `ERR_DPOP_PROOF_INVALID` (or what `checkNonce` throws). Not checked here: the replay
 * (§11.1) and the token's `cnf.jkt` (§7.1), which need the verified token.
 */
export async function checkProof(
  proof: string,
  expected: ProofExpectations,
  rules: ProofRules,
): Promise<CheckedProof> {
  let parsed;
  try {
    parsed = parseToken(proof, MAX_PROOF_LENGTH);
  } catch (error) {
    if (!isJwtVerifyError(error)) throw error;
    throw invalid(`the DPoP proof is not a valid compact JWS: ${error.message}`, error);
  }
  const { header, payload } = parsed;
  checkHeader(header, rules);
  checkClaimTypes(payload);
  const jkt = await checkSignature(parsed, header);
  if (payload.htm !== expected.method) {
    throw invalid(
      `the DPoP proof is for method ${describeValue(payload.htm)}, the request is ${expected.method}`,
    );
  }
  if (normalizeHtu(payload.htu) !== expected.url) {
    throw invalid(`the DPoP proof is for ${describeValue(payload.htu)}, the request went to ${expected.url}`);
  }
  await expected.checkNonce?.(payload.nonce);
  checkIat(payload.iat, expected, rules);
  if (expected.accessToken !== undefined) {
    if (typeof payload.ath !== 'string') {
      throw invalid(
        'the DPoP proof has no "ath" (the access token hash, required with a token: RFC 9449 section 4.2)',
      );
    }
    if (payload.ath !== (await accessTokenHash(expected.accessToken))) {
      throw invalid(
        "the DPoP proof's ath is not the hash of this access token: it was made for another token",
      );
    }
  }
  return { header, payload, jkt };
}

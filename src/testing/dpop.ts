// DPoP proofs and key thumbprints for tests (RFC 9449): createDpopProof, dpopThumbprint.
import { type CryptoKey, type JWK, calculateJwkThumbprint, exportJWK } from 'jose';
import { invalidArgument } from '../errors.js';
import { accessTokenHash } from '../dpop/proof.js';
import { algorithmOf, signCompact } from './jws.js';
import { randomToken } from './random.js';

/** A client's DPoP key pair: jose's `generateKeyPair('ES256')`, or Web Crypto's `generateKey`. */
export interface DpopKeyPair {
  privateKey: CryptoKey;
  publicKey: CryptoKey;
}

/** Options of {@link createDpopProof}. */
export interface DpopProofOptions {
  /** The client's key pair: the private key signs, the public key goes in the `jwk` header. */
  key: DpopKeyPair;
  /** The HTTP method of the request (`htm`), e.g. `'GET'`. */
  method: string;
  /** The URL of the request (`htu`); its query and fragment are dropped (RFC 9449 §4.2). */
  url: string | URL;
  /** The access token sent with the proof: sets `ath` to its hash. Default: no `ath` (a token request). */
  accessToken?: string;
  /** The server's nonce (from `DPoP-Nonce`). Default: none. */
  nonce?: string;
  /** `iat`, in seconds since the epoch. Default: now. */
  iat?: number;
  /** `jti`. Default: 16 random bytes, base64url. */
  jti?: string;
  /** Claims set last: override any, or set one to `undefined` to leave it out (for refusal tests). */
  claims?: Record<string, unknown>;
  /** Header fields set last (`typ`, `alg`, `jwk`, …); `undefined` removes one. */
  header?: Record<string, unknown>;
  /** The clock for `iat`, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
}

function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

function publicMembers(jwk: JWK): JWK {
  const { kty, crv, x, y, n, e } = jwk;
  return withoutUndefined({ kty, crv, x, y, n, e }) as JWK;
}

function checkKeyPair(key: unknown): asserts key is DpopKeyPair {
  const pair = key as Partial<DpopKeyPair> | null;
  if (typeof pair?.privateKey !== 'object' || typeof pair.publicKey !== 'object') {
    throw invalidArgument(
      'key must be a key pair { privateKey, publicKey } (jose generateKeyPair, Web Crypto generateKey)',
    );
  }
}

/**
 * The RFC 7638 SHA-256 thumbprint of a DPoP key: what `cnf.jkt` holds, for
 * `issuer.sign(claims, { dpopJkt })`.
 *
 * @example
 * const key = await generateKeyPair('ES256');
 * const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: await dpopThumbprint(key) });
 * @see https://www.rfc-editor.org/rfc/rfc7638
 */
export async function dpopThumbprint(key: DpopKeyPair | CryptoKey | JWK): Promise<string> {
  const publicKey = (key as DpopKeyPair).publicKey ?? (key as CryptoKey | JWK);
  const jwk = 'kty' in publicKey ? (publicKey as JWK) : await exportJWK(publicKey);
  return calculateJwkThumbprint(publicMembers(jwk), 'sha256');
}

/**
 * Makes a DPoP proof JWT (RFC 9449 §4.2), as a client would, for testing an API that
 * accepts DPoP: header `{ typ: 'dpop+jwt', alg, jwk }`, claims `jti`, `htm`, `htu`, `iat`,
 * and `ath` / `nonce` when given. `claims` and `header` override anything, so tests can
 * make the proofs a server must refuse (stale, for another URL, without `ath`, …).
 *
 * @example
 * import { generateKeyPair } from 'jose';
 * const key = await generateKeyPair('ES256');
 * const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: await dpopThumbprint(key) });
 * const proof = await createDpopProof({ key, method: 'GET', url: 'https://api.test/orders', accessToken: token });
 * await fetch('https://api.test/orders', { headers: { authorization: `DPoP ${token}`, dpop: proof } });
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4.2
 */
export async function createDpopProof(options: DpopProofOptions): Promise<string> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('createDpopProof needs options');
  const { key, method, url, accessToken, nonce } = options;
  checkKeyPair(key);
  if (typeof method !== 'string' || method === '')
    throw invalidArgument('method must be an HTTP method, e.g. GET');
  let htu: URL;
  try {
    htu = new URL(url);
  } catch {
    throw invalidArgument(`url must be an absolute URL, got ${String(url)}`);
  }
  htu.search = '';
  htu.hash = '';
  const now = options.now ?? (() => Date.now());
  const header = withoutUndefined({
    typ: 'dpop+jwt',
    alg: algorithmOf(key.privateKey),
    jwk: publicMembers(await exportJWK(key.publicKey)),
    ...options.header,
  });
  const payload = withoutUndefined({
    jti: options.jti ?? randomToken(16),
    htm: method,
    htu: htu.href,
    iat: options.iat ?? Math.floor(now() / 1000),
    ath: accessToken === undefined ? undefined : await accessTokenHash(accessToken),
    nonce,
    ...options.claims,
  });
  return signCompact(header, payload, key.privateKey);
}

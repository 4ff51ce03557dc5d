// DPoP in the SPA (RFC 9449): the key handle that signs proofs and follows server nonces.
import { invalidArgument } from '../../errors.js';
import { base64url, randomToken, sha256Base64url, subtle } from '../pkce.js';
import { type DpopAlgorithm, algorithmOf, webCryptoParams } from './key-pair.js';
import type { DpopStore } from './store.js';

/** Options of {@link createDpopHandle}. */
export interface DpopHandleOptions {
  /**
   * Keeps the key pair (saved when the handle is created) and the nonces across reloads,
   * e.g. {@link createIndexedDbDpopStore}. Default: none (nonces in memory only).
   */
  store?: DpopStore;
}

/** Options of {@link DpopHandle.proof}. */
export interface DpopProofOptions {
  /** The access token the request carries: adds `ath` (BASE64URL(SHA-256(token))), for resource servers. */
  accessToken?: string;
  /** Default: the last `DPoP-Nonce` the URL's origin sent, if any. */
  nonce?: string;
}

/** What {@link DpopHandle.withProof} needs of an answer: a Fetch `Response` qualifies. */
export interface DpopAnswer {
  status: number;
  headers: Headers;
  /** The parsed JSON body of a token-endpoint answer (for its `error`); anything else is ignored. */
  body?: unknown;
}

/**
 * A DPoP key in use: its thumbprint, proofs, and the servers' nonces (the last `DPoP-Nonce`
 * of each origin, for at most 32 origins). Pass it as the `dpop` option of
 * `buildAuthorizationUrl` and the token helpers, and to {@link fetchWithDpop}.
 */
export interface DpopHandle {
  /** The RFC 7638 JWK thumbprint of the public key: what `dpop_jkt` and a bound token's `cnf.jkt` hold. */
  readonly jkt: string;
  /** The proofs' JWS `alg`, from the key. */
  readonly alg: DpopAlgorithm;
  /**
   * A DPoP proof JWT for one request: header `typ: 'dpop+jwt'`, `alg` and the public `jwk`;
   * claims `jti` (random), `htm`, `htu` (the URL without query and fragment), `iat`, and
   * `ath` and `nonce` when there are.
   */
  proof(method: string, url: string | URL, options?: DpopProofOptions): Promise<string>;
  /**
   * Runs `send` with a proof (its `DPoP` header value), remembers the answer's
   * `DPoP-Nonce`, and when the answer asks for that nonce (`use_dpop_nonce`: a token
   * endpoint's error body, or a 401 with `WWW-Authenticate: DPoP error="use_dpop_nonce"`)
   * runs it once more with a new proof carrying it. For transports of your own.
   */
  withProof<Answer extends DpopAnswer>(
    method: string,
    url: string | URL,
    send: (proof: string) => Promise<Answer>,
    accessToken?: string,
  ): Promise<Answer>;
}

/** Origins whose nonce is kept; the least recently updated goes first. */
const MAX_NONCES = 32;
/** RFC 9449 §8.1: nonce = 1*NQCHAR; longer than this is not a nonce worth keeping. */
const NONCE = /^[!#-[\]-~]{1,512}$/;
const encode = (value: unknown) => base64url(new TextEncoder().encode(JSON.stringify(value)));
const urlOf = (url: string | URL) => {
  try {
    return new URL(url);
  } catch {
    throw invalidArgument('url must be an absolute URL');
  }
};

/**
 * Creates the handle of a DPoP key pair: computes its thumbprint, loads the nonces from
 * `store` and saves the key pair there.
 *
 * @param keyPair From {@link createDpopKeyPair}, or `store.get('keyPair')` after a reload.
 * @param options `store`: default none (nothing kept across reloads).
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` (as a rejection) when `keyPair` is not
 *   an ECDSA signing key pair of Web Crypto, or `store` is not a {@link DpopStore}.
 * @example
 * const store = createIndexedDbDpopStore();
 * const dpop = await createDpopHandle((await store.get('keyPair')) ?? (await createDpopKeyPair()), { store });
 * const request = await buildAuthorizationUrl(metadata, { clientId, redirectUri, dpop });
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-4
 * @see https://www.rfc-editor.org/rfc/rfc7638#section-3
 */
export async function createDpopHandle(
  keyPair: CryptoKeyPair,
  options: DpopHandleOptions = {},
): Promise<DpopHandle> {
  const { privateKey, publicKey } = keyPair ?? {};
  const alg = privateKey?.type === 'private' && privateKey.usages.includes('sign') && algorithmOf(privateKey);
  if (!alg || publicKey?.type !== 'public')
    throw invalidArgument('keyPair must come from createDpopKeyPair()');
  const { store } = options;
  if (store !== undefined && typeof store?.set !== 'function')
    throw invalidArgument('store must be a DpopStore');
  // RFC 7638 §3.2: the required members in lexicographic order, which is also the whole
  // public key the proofs carry (no key_ops, ext or private members).
  const { crv, kty, x, y } = await subtle().exportKey('jwk', publicKey);
  const jwk = { crv, kty, x, y };
  const jkt = await sha256Base64url(JSON.stringify(jwk));
  const nonces = new Map<string, string>();
  const remember = (origin: string, nonce: unknown) => {
    if (typeof nonce !== 'string' || !NONCE.test(nonce) || nonces.get(origin) === nonce) return false;
    nonces.delete(origin);
    nonces.set(origin, nonce);
    if (nonces.size > MAX_NONCES) nonces.delete(nonces.keys().next().value!);
    return true;
  };
  if (store) {
    const saved: unknown = await store.get('nonces');
    for (const entry of Array.isArray(saved) ? saved : []) remember(entry?.[0], entry?.[1]);
    await store.set('keyPair', keyPair);
  }

  const proof: DpopHandle['proof'] = async (method, url, { accessToken, nonce } = {}) => {
    const htu = urlOf(url);
    if (typeof method !== 'string' || !method) throw invalidArgument('method must be a non-empty string');
    nonce ??= nonces.get(htu.origin);
    htu.search = htu.hash = '';
    const input = `${encode({ typ: 'dpop+jwt', alg, jwk })}.${encode({
      jti: randomToken(),
      htm: method,
      htu: htu.href,
      iat: Math.floor(Date.now() / 1000),
      ath: accessToken ? await sha256Base64url(accessToken) : undefined,
      nonce,
    })}`;
    const signature = await crypto.subtle.sign(
      webCryptoParams(alg),
      privateKey,
      new TextEncoder().encode(input),
    );
    return `${input}.${base64url(new Uint8Array(signature))}`;
  };

  const withProof: DpopHandle['withProof'] = async (method, url, send, accessToken) => {
    const { origin } = urlOf(url);
    for (let retried = false; ; retried = true) {
      const sent = nonces.get(origin);
      const answer = await send(await proof(method, url, { accessToken, nonce: sent }));
      const { status, headers, body } = answer;
      const nonce = headers.get('dpop-nonce');
      if (remember(origin, nonce) && store) {
        try {
          await store.set('nonces', [...nonces]);
        } catch {
          // A nonce that is not kept costs one more round trip after a reload, nothing else.
        }
      }
      // A token endpoint's error body (§8), or a resource server's challenge (§9).
      const challenged =
        status > 399 &&
        status < 500 &&
        ((body as { error?: unknown } | null)?.error === 'use_dpop_nonce' ||
          /(^|,)\s*dpop\s.*use_dpop_nonce/i.test(headers.get('www-authenticate') ?? ''));
      // One retry, and only with a new nonce (the one just sent would fail again).
      if (retried || !challenged || nonce === sent || !NONCE.test(nonce ?? '')) return answer;
    }
  };

  return { jkt, alg, proof, withProof };
}

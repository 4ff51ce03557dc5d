/** The DPoP key pair of the SPA: a non-extractable Web Crypto ECDSA key and its public JWK. */
import { invalidArgument } from '../../errors.js';
import { subtle } from '../pkce.js';

/**
 * The JWS algorithms of DPoP keys made here: ECDSA over P-256, P-384 or P-521 (RFC 7518
 * §3.4). Servers list theirs in `dpop_signing_alg_values_supported`; `ES256` is the one
 * every DPoP server accepts.
 */
export type DpopAlgorithm = 'ES256' | 'ES384' | 'ES512';

/** Options of {@link createDpopKeyPair}. */
export interface DpopKeyPairOptions {
  /** Default `'ES256'` (ECDSA P-256 with SHA-256), the algorithm every DPoP server supports. */
  alg?: DpopAlgorithm;
}

const ALGORITHM = /^ES(256|384|512)$/;

/**
 * One Web Crypto parameter object for both generateKey and sign: each operation reads the
 * dictionary members it defines (`namedCurve`, `hash`) and ignores the other (WebIDL).
 */
export function webCryptoParams(alg: DpopAlgorithm): EcKeyGenParams & EcdsaParams {
  const bits = alg.slice(2);
  return { name: 'ECDSA', namedCurve: `P-${bits === '512' ? 521 : bits}`, hash: `SHA-${bits}` };
}

/** The JWS algorithm of a Web Crypto key, or undefined when it is not an ECDSA key made here. */
export function algorithmOf(key: CryptoKey): DpopAlgorithm | undefined {
  const { name, namedCurve } = key.algorithm as EcKeyAlgorithm;
  const alg = `ES${namedCurve?.slice(2).replace('521', '512')}`;
  return name === 'ECDSA' && ALGORITHM.test(alg) ? (alg as DpopAlgorithm) : undefined;
}

/**
 * Creates an ECDSA key pair for DPoP proofs with Web Crypto. The private key is
 * non-extractable: script (an XSS payload included) can sign with it while the page runs
 * but can never read it out, and {@link createIndexedDbDpopStore} keeps the `CryptoKey`
 * object itself, not its bytes.
 *
 * @param options `alg`: default `'ES256'`; `'ES384'` or `'ES512'` when the server's
 *   `dpop_signing_alg_values_supported` asks for them.
 * @returns A `CryptoKeyPair` for {@link createDpopHandle}.
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` (as a rejection) for another `alg`,
 *   or without `crypto.subtle` (a page that is not a secure context).
 * @example
 * const store = createIndexedDbDpopStore();
 * const keyPair = (await store.get('keyPair')) ?? (await createDpopKeyPair());
 * const dpop = await createDpopHandle(keyPair, { store });
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-2
 */
export async function createDpopKeyPair(options: DpopKeyPairOptions = {}): Promise<CryptoKeyPair> {
  const { alg = 'ES256' } = options;
  if (!ALGORITHM.test(alg)) throw invalidArgument(`alg must be ES256, ES384 or ES512, got ${String(alg)}`);
  return subtle().generateKey(webCryptoParams(alg), false, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

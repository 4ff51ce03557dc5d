/**
 * The Deno path (`#signature` under the `deno` condition). RSA and EdDSA go through
 * `node:crypto` synchronously while few verifications are in flight, where Deno's native
 * code beats its Web Crypto (1.5× for RS256, 2× for EdDSA, one at a time), and through Web
 * Crypto (`signature-web`: keys imported by jose, then `crypto.subtle.verify`, which runs on
 * Deno's threads) once `offload.threshold` are: Deno's `node:crypto` callback form costs
 * about 2 ms a call, so it is never used. ECDSA always goes through Web Crypto: Deno's
 * `node:crypto` is the slower one there and decides an off-curve key differently from jose.
 * ML-DSA too: Deno has it in Web Crypto only. See docs/performance.md.
 */
import type { JwsAlgorithm } from '../algorithms.js';
import type { JwksKey } from '../jwk.js';
import type { ParsedToken } from '../parse.js';
import * as node from './node.js';
import { offload } from './offload.js';
import type { SignatureCheck } from './types.js';
import * as web from './web.js';

export const segmentDecoder = node.segmentDecoder;
export const sha256Base64Url = node.sha256Base64Url;
/** Deno has ML-DSA in Web Crypto only, so it is probed (and verified) there. */
export const mlDsaUnavailable = web.mlDsaUnavailable;

/** Checks a token's signature with one JWKS key: node:crypto at once, or Web Crypto (see above). */
export function checkSignature(
  token: ParsedToken,
  key: JwksKey,
  alg: JwsAlgorithm,
  inFlight = 1,
): SignatureCheck | Promise<SignatureCheck> {
  if (alg.startsWith('ES') || alg.startsWith('ML') || inFlight >= offload.threshold) {
    return web.checkSignature(token, key, alg);
  }
  return node.checkSignature(token, key, alg, 1);
}

/** The signature of an RFC 9701 introspection answer (a signed JWT), checked with the issuer's JWKS. */
import type { JwksCache } from '../keys/jwks-cache.js';
import { KeyTrial } from '../keys/key-trial.js';
import type { JwsAlgorithm } from '../token/algorithms.js';
import { type ParsedToken, parseToken } from '../token/parse.js';
import { segmentDecoder } from '../token/signature/index.js';

const handBack = (_context: undefined, parsed: ParsedToken): ParsedToken => parsed;

/**
 * Checks the signature of an RFC 9701 introspection answer with the issuer's JWKS (the
 * verifier's own key cache: an unknown `kid` refetches it, as for access tokens), through
 * the same key trial as access tokens. The claims (`typ`, `iss`, `aud` = the client, `iat`)
 * are the caller's to check.
 * @see https://www.rfc-editor.org/rfc/rfc9701#section-5
 */
export async function verifyAnswerSignature(
  jwt: string,
  jwks: JwksCache,
  algorithms: ReadonlySet<JwsAlgorithm>,
  maxLength: number,
): Promise<ParsedToken> {
  const parsed = parseToken(jwt, maxLength, segmentDecoder);
  const trial = new KeyTrial(jwks, algorithms, handBack, 'answer');
  return trial.check(undefined, parsed, trial.allowedAlgorithm(parsed.header.alg));
}

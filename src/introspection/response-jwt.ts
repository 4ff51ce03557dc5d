import { JwtVerifyError } from '../errors.js';
import type { JwksCache } from '../keys/jwks-cache.js';
import { type JwsAlgorithm, isSupportedAlgorithm } from '../token/algorithms.js';
import { type ParsedToken, parseToken } from '../token/parse.js';
import { checkSignature, segmentDecoder } from '../token/signature/index.js';

/**
 * Checks the signature of an RFC 9701 introspection answer with the issuer's JWKS (the
 * verifier's own key cache: an unknown `kid` refetches it, as for access tokens). The claims
 * (`typ`, `iss`, `aud` = the client, `iat`) are the caller's to check.
 * @see https://www.rfc-editor.org/rfc/rfc9701#section-5
 */
export async function verifyAnswerSignature(
  jwt: string,
  jwks: JwksCache,
  algorithms: ReadonlySet<JwsAlgorithm>,
  maxLength: number,
): Promise<ParsedToken> {
  const parsed = parseToken(jwt, maxLength, segmentDecoder);
  const { alg, kid } = parsed.header;
  if (!isSupportedAlgorithm(alg) || !algorithms.has(alg)) {
    throw new JwtVerifyError(
      'ERR_ALG_NOT_ALLOWED',
      `the answer is signed with ${JSON.stringify(alg)}, which is not allowed; allowed: ${[...algorithms].join(', ')}`,
    );
  }
  for (const key of await jwks.keysFor(kid, alg)) {
    if ((await checkSignature(parsed, key, alg)) === 'valid') return parsed;
  }
  throw new JwtVerifyError('ERR_SIGNATURE_INVALID', `the ${alg} signature of the answer does not verify`);
}

// The DPoP floor: exactly the work a DPoP request needs, done with raw node:crypto and
// nothing else. Both JWTs parsed (split, base64url, JSON.parse of header and payload), the
// proof's signature and the access token's signature verified (key objects made once, as
// our own path keeps them), the token's SHA-256 compared with the proof's `ath`, and the
// SHA-256 of the replay key. No claim, URL, nonce or binding checks and no replay store:
// a bound no verifier can beat. Shared by bench/dpop.mjs and bench/instructions.mjs.
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { RAW } from './contenders.mjs';

function parse(jws) {
  const headerEnd = jws.indexOf('.');
  const payloadEnd = jws.indexOf('.', headerEnd + 1);
  return {
    header: JSON.parse(Buffer.from(jws.slice(0, headerEnd), 'base64url').toString()),
    payload: JSON.parse(Buffer.from(jws.slice(headerEnd + 1, payloadEnd), 'base64url').toString()),
    signingInput: Buffer.from(jws.slice(0, payloadEnd)),
    signature: Buffer.from(jws.slice(payloadEnd + 1), 'base64url'),
  };
}

/**
 * `(token, proof) => replay key` for tokens signed with `tokenJwk` (`tokenAlg`) and proofs
 * signed with `proofJwk` (`proofAlg`), whose thumbprint is `jkt`. Throws when a signature
 * or the `ath` does not match, so a floor that skipped its work would show.
 */
export function createDpopFloor({ tokenJwk, tokenAlg, proofJwk, proofAlg, jkt }) {
  const [tokenDigest, tokenInput] = RAW[tokenAlg](createPublicKey({ key: tokenJwk, format: 'jwk' }));
  const [proofDigest, proofInput] = RAW[proofAlg](createPublicKey({ key: proofJwk, format: 'jwk' }));
  return (token, proof) => {
    const parsedProof = parse(proof);
    const parsedToken = parse(token);
    if (!cryptoVerify(proofDigest, parsedProof.signingInput, proofInput, parsedProof.signature)) {
      throw new Error('the floor: the proof did not verify');
    }
    if (!cryptoVerify(tokenDigest, parsedToken.signingInput, tokenInput, parsedToken.signature)) {
      throw new Error('the floor: the token did not verify');
    }
    const { htm, htu, jti, ath } = parsedProof.payload;
    if (createHash('sha256').update(token).digest('base64url') !== ath) {
      throw new Error('the floor: ath is not the hash of the token');
    }
    return createHash('sha256')
      .update(JSON.stringify([jkt, htm, htu, jti]))
      .digest('base64url');
  };
}

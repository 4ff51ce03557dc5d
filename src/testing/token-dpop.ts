// DPoP at the stub issuer's token endpoint: proofs, nonces, replay (RFC 9449).
import { isJwtVerifyError } from '../errors.js';
import { normalizeHtu } from '../request/normalize-url.js';
import { DpopNonces } from '../dpop/nonce.js';
import { checkProof } from '../dpop/proof.js';
import { type DpopReplayStore, createMemoryDpopReplayStore } from '../dpop/replay-store.js';
import { CLASSIC_ALGORITHMS } from '../token/algorithms.js';
import { oauthError } from './responses.js';

/** What the token endpoint checks DPoP proofs with (RFC 9449 §5). */
export interface TokenEndpointDpop {
  /** Set when the issuer requires nonces at its token endpoint (§8). */
  nonces: DpopNonces | undefined;
  replay: DpopReplayStore;
  now(): number;
}

/** The proofs the test issuer accepts: as a verifier's defaults. */
const RULES = { algorithms: new Set(CLASSIC_ALGORITHMS), maxAgeSeconds: 300, clockToleranceSeconds: 5 };

export function createTokenEndpointDpop(requireNonce: boolean, now: () => number): TokenEndpointDpop {
  const secret = crypto.getRandomValues(new Uint8Array(32));
  return {
    nonces: requireNonce ? new DpopNonces(secret, 300, now) : undefined,
    replay: createMemoryDpopReplayStore({ max: 10_000, now }),
    now,
  };
}

/**
 * The key thumbprint a token request proves with its `DPoP` header: `undefined` without
 * one; an RFC 9449 §5 / §8 error response (`invalid_dpop_proof`, `use_dpop_nonce` with
 * `DPoP-Nonce`) for a proof that does not hold.
 */
export async function tokenRequestJkt(
  dpop: TokenEndpointDpop,
  request: Request,
): Promise<string | undefined | Response> {
  const proof = request.headers.get('dpop');
  if (proof === null) return undefined;
  const { nonces } = dpop;
  let nonceAsked: string | undefined;
  try {
    const checked = await checkProof(
      proof,
      {
        method: request.method,
        url: normalizeHtu(request.url)!,
        accessToken: undefined,
        nowSeconds: Math.floor(dpop.now() / 1000),
        checkNonce:
          nonces &&
          (async (nonce) => {
            if ((await nonces.check(nonce)) !== 'invalid') return;
            nonceAsked = await nonces.current();
            throw new Error(
              nonce === undefined
                ? 'the token endpoint requires a DPoP nonce'
                : 'the DPoP nonce is not current',
            );
          }),
      },
      RULES,
    );
    const { jkt, payload } = checked;
    const expiresAtMs = (payload.iat + RULES.maxAgeSeconds + RULES.clockToleranceSeconds) * 1000;
    if (!(await dpop.replay.remember(JSON.stringify([jkt, payload.jti]), expiresAtMs))) {
      return oauthError(400, 'invalid_dpop_proof', 'the DPoP proof was used before');
    }
    return jkt;
  } catch (error) {
    if (nonceAsked !== undefined) {
      return oauthError(400, 'use_dpop_nonce', (error as Error).message, { 'dpop-nonce': nonceAsked });
    }
    if (!isJwtVerifyError(error)) throw error;
    return oauthError(400, 'invalid_dpop_proof', error.message);
  }
}

/** The runtime gate for algorithms not every runtime can verify (ML-DSA, RFC 9964). */
import { JwtVerifyError } from '../errors.js';
import type { MlDsaAlgorithm } from '../token/algorithms.js';
import { mlDsaUnavailable } from '../token/signature/index.js';

function refuse(alg: MlDsaAlgorithm, reason: string): never {
  throw new JwtVerifyError(
    'ERR_ALG_NOT_ALLOWED',
    `the token is signed with ${alg}, which this runtime cannot verify: ${reason}`,
  );
}

/**
 * Refuses an ML-DSA token with `ERR_ALG_NOT_ALLOWED` where the runtime cannot verify it,
 * with a message naming what the runtime lacks. Synchronous on Node and Bun (node:crypto is
 * probed once), a promise elsewhere (Web Crypto is probed once, asynchronously).
 */
export function requireRuntimeSupport(alg: MlDsaAlgorithm): void | Promise<void> {
  // Typed as every #signature implementation answers: the source resolves to the Node one.
  const lacking = mlDsaUnavailable(alg) as string | undefined | Promise<string | undefined>;
  if (typeof lacking === 'string') refuse(alg, lacking);
  if (lacking instanceof Promise) {
    return lacking.then((reason) => {
      if (reason !== undefined) refuse(alg, reason);
    });
  }
}

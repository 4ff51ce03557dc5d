/** The key trial: a signed JWT's algorithm, its candidate keys from the JWKS, and the signature with each in turn. */
import { JwtVerifyError } from '../errors.js';
import { type JwsAlgorithm, isMlDsaAlgorithm, isSupportedAlgorithm } from '../token/algorithms.js';
import type { JwksKey } from '../token/jwk.js';
import type { ParsedToken } from '../token/parse.js';
import { checkSignature } from '../token/signature/index.js';
import { countCall, inFlight, offload } from '../token/signature/offload.js';
import { requireRuntimeSupport } from './algorithm-support.js';
import type { JwksCache } from './jwks-cache.js';

/**
 * What happens once a key verified the signature: the access token's claims, or an RFC 9701
 * answer handed back. `context` is the caller's own value, passed through untouched, so that
 * one function made once serves every call (the warm path allocates no closure).
 */
export type AcceptKey<Context, Result> = (
  context: Context,
  parsed: ParsedToken,
  alg: JwsAlgorithm,
  key: JwksKey,
) => Result | Promise<Result>;

/**
 * Tries the JWKS keys that fit a JWT's `kid` and `alg` until one verifies its signature,
 * refetching the set for an unknown `kid` (through {@link JwksCache.keysFor}), and keeps the
 * process-wide thread-pool account (`offload`) of what is in flight. Used by `JwtVerifier`
 * for access and ID tokens, and by the introspection verifier for RFC 9701 answers.
 */
export class KeyTrial<Context, Result> {
  readonly #jwks: JwksCache;
  readonly #algorithms: ReadonlySet<JwsAlgorithm>;
  readonly #accept: AcceptKey<Context, Result>;
  /** How messages name the JWT: `token` or `answer`. */
  readonly #subject: string;

  constructor(
    jwks: JwksCache,
    algorithms: ReadonlySet<JwsAlgorithm>,
    accept: AcceptKey<Context, Result>,
    subject = 'token',
  ) {
    this.#jwks = jwks;
    this.#algorithms = algorithms;
    this.#accept = accept;
    this.#subject = subject;
  }

  /** The header's `alg` when it is one of the allowed algorithms; else `ERR_ALG_NOT_ALLOWED`. */
  allowedAlgorithm(alg: string): JwsAlgorithm {
    if (isSupportedAlgorithm(alg) && this.#algorithms.has(alg)) return alg;
    throw new JwtVerifyError(
      'ERR_ALG_NOT_ALLOWED',
      `the ${this.#subject} is signed with ${JSON.stringify(alg)}, which is not allowed; allowed: ${[...this.#algorithms].join(', ')}`,
    );
  }

  /**
   * The signature, with the first key of the cached JWKS that verifies it, then `accept`.
   * Answers at once (no promise) when a fresh key set is in hand and the signature path
   * answers synchronously: the warm path. An ML-DSA JWT is first refused with
   * `ERR_ALG_NOT_ALLOWED` where the runtime cannot verify it (a promise on Web runtimes,
   * whose Web Crypto is probed asynchronously, once).
   */
  check(context: Context, parsed: ParsedToken, alg: JwsAlgorithm): Result | Promise<Result> {
    if (isMlDsaAlgorithm(alg)) {
      const gate = requireRuntimeSupport(alg);
      if (gate !== undefined) return gate.then(() => this.#checkKeys(context, parsed, alg));
    }
    return this.#checkKeys(context, parsed, alg);
  }

  #checkKeys(context: Context, parsed: ParsedToken, alg: JwsAlgorithm): Result | Promise<Result> {
    const candidates = this.#jwks.freshKeysFor(parsed.header.kid, alg);
    if (candidates === undefined) return this.#checkWithFetchedKeys(context, parsed, alg);
    countCall();
    return this.#checkCandidates(context, parsed, alg, candidates, 0, false);
  }

  async #checkWithFetchedKeys(context: Context, parsed: ParsedToken, alg: JwsAlgorithm): Promise<Result> {
    offload.waiting++;
    try {
      const candidates = await this.#jwks.keysFor(parsed.header.kid, alg);
      return await this.#checkCandidates(context, parsed, alg, candidates, 0, false);
    } finally {
      offload.waiting--;
    }
  }

  /**
   * Tries the keys from `from` on, synchronously for as long as the signature path answers
   * so. A thread-pool check is counted as waiting until it answers, and one `.then` on it
   * goes on to `accept` or the next key: one promise per pooled verify besides the pool's.
   */
  #checkCandidates(
    context: Context,
    parsed: ParsedToken,
    alg: JwsAlgorithm,
    candidates: readonly JwksKey[],
    from: number,
    imported: boolean,
  ): Result | Promise<Result> {
    for (let i = from; i < candidates.length; i++) {
      const key = candidates[i]!;
      const result = checkSignature(parsed, key, alg, inFlight());
      if (typeof result !== 'string') {
        offload.waiting++;
        return result.then((check) => {
          offload.waiting--;
          if (check === 'valid') return this.#accept(context, parsed, alg, key);
          return this.#checkCandidates(
            context,
            parsed,
            alg,
            candidates,
            i + 1,
            imported || check === 'invalid',
          );
        });
      }
      if (result === 'valid') return this.#accept(context, parsed, alg, key);
      if (result === 'invalid') imported = true;
    }
    const kid =
      parsed.header.kid === undefined ? 'the only fitting key' : `kid ${JSON.stringify(parsed.header.kid)}`;
    if (!imported) {
      throw new JwtVerifyError('ERR_KEY_NOT_FOUND', `the JWKS key (${kid}) could not be imported for ${alg}`);
    }
    const signature = this.#subject === 'token' ? 'signature' : `signature of the ${this.#subject}`;
    throw new JwtVerifyError('ERR_SIGNATURE_INVALID', `the ${alg} ${signature} does not verify with ${kid}`);
  }
}

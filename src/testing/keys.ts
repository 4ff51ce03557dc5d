import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import { invalidArgument } from '../errors.js';
import type { TestIssuerAlgorithm, TestIssuerKey } from './types.js';

type KeyPair = Omit<TestIssuerKey, 'active'>;

/**
 * A fresh key pair for `alg`. Asynchronous on purpose: on Node 20 exporting a
 * `generateKeyPairSync` key as a JWK can hang the process if GC runs at that moment.
 * The `kid` is the RFC 7638 thumbprint, so it is unique and never changes for this key.
 */
async function createKeyPair(alg: TestIssuerAlgorithm): Promise<KeyPair> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true }).catch((cause) => {
    if (!alg.startsWith('ML-DSA-')) throw cause;
    throw invalidArgument(
      `createTestIssuer: cannot create ${alg} keys here: this runtime's Web Crypto has no ML-DSA (Node.js 24.7 or later, Deno and Bun have it)`,
    );
  });
  const jwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(jwk);
  return { kid, alg, publicJwk: { ...jwk, kid, alg, use: 'sig' }, publicKey, privateKey };
}

/** The issuer's keys: which are published in the JWKS and which one signs per algorithm. */
export class KeyRing {
  readonly #algorithms: readonly TestIssuerAlgorithm[];
  #published: KeyPair[] = [];
  readonly #active = new Map<string, KeyPair>();
  readonly #unpublished = new Map<string, Promise<KeyPair>>();

  private constructor(algorithms: readonly TestIssuerAlgorithm[]) {
    this.#algorithms = algorithms;
  }

  static async create(algorithms: readonly TestIssuerAlgorithm[]): Promise<KeyRing> {
    const ring = new KeyRing(algorithms);
    await ring.rotate(true);
    return ring;
  }

  /** The published keys, oldest first, each marked `active` when it is the one that signs. */
  list(): TestIssuerKey[] {
    return this.#published.map((key) => ({ ...key, active: this.#active.get(key.alg) === key }));
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.#published.map((key) => ({ ...key.publicJwk })) };
  }

  /** The key that signs for `alg` (default: the first configured algorithm). */
  signing(alg: string = this.#algorithms[0]!): KeyPair {
    const key = this.#active.get(alg);
    if (!key) {
      throw invalidArgument(
        `this test issuer has no ${alg} key; create it with algorithms: [${this.#algorithms
          .concat(alg as TestIssuerAlgorithm)
          .map((a) => `'${a}'`)
          .join(', ')}]`,
      );
    }
    return key;
  }

  find(kid: string): KeyPair {
    const key = this.#published.find((candidate) => candidate.kid === kid);
    if (!key) {
      throw invalidArgument(`this test issuer publishes no key with kid ${JSON.stringify(kid)}`);
    }
    return key;
  }

  /** A key of `alg` that is not (and never will be) in the JWKS; one per algorithm, reused. */
  unpublished(alg: string = this.#algorithms[0]!): Promise<KeyPair> {
    let key = this.#unpublished.get(alg);
    if (!key) {
      key = createKeyPair(alg as TestIssuerAlgorithm);
      this.#unpublished.set(alg, key);
    }
    return key;
  }

  /** New signing keys, one per algorithm; older keys stay published when `keepPrevious`. */
  async rotate(keepPrevious: boolean): Promise<TestIssuerKey[]> {
    const fresh = await Promise.all(this.#algorithms.map(createKeyPair));
    this.#published = keepPrevious ? [...this.#published, ...fresh] : fresh;
    for (const key of fresh) this.#active.set(key.alg, key);
    return fresh.map((key) => ({ ...key, active: true }));
  }
}

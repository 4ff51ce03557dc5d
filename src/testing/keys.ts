// The stub issuer's signing keys: creation, rotation, the JWKS it publishes.
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { CryptoKey, JWK } from 'jose';
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

/** JWK members that hold private key material (RSA, EC/OKP, AKP). */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'priv'];

/** A key pair from a given private JWK (the `keys` option), its `kid` kept or computed. */
async function importKeyPair(given: JWK): Promise<KeyPair> {
  const alg = given.alg as TestIssuerAlgorithm;
  const jwk: Record<string, unknown> = {};
  const material: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (['kid', 'alg', 'use', 'key_ops', 'ext'].includes(name)) continue;
    material[name] = value;
    if (!PRIVATE_MEMBERS.includes(name)) jwk[name] = value;
  }
  try {
    const [privateKey, publicKey] = await Promise.all([
      importJWK(material as JWK, alg, { extractable: true }),
      importJWK(jwk as JWK, alg, { extractable: true }),
    ]);
    const kid = given.kid ?? (await calculateJwkThumbprint(jwk as JWK));
    return {
      kid,
      alg,
      publicJwk: { ...jwk, kid, alg, use: 'sig' },
      publicKey: publicKey as CryptoKey,
      privateKey: privateKey as CryptoKey,
    };
  } catch (error) {
    throw invalidArgument(
      `createTestIssuer: keys: the ${alg} key ${given.kid ?? ''} cannot be imported (${(error as Error).message})`,
    );
  }
}

/** A 32-bit FNV-1a hash in hex: enough to tell key sets apart in a stub. */
function fnv1a(text: string): string {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/** The issuer's keys: which are published in the JWKS and which one signs per algorithm. */
export class KeyRing {
  readonly #algorithms: readonly TestIssuerAlgorithm[];
  #published: KeyPair[] = [];
  readonly #active = new Map<string, KeyPair>();
  readonly #unpublished = new Map<string, Promise<KeyPair>>();
  /** The JWKS as served, made once per key set (the JWKS endpoint answers many requests). */
  #serialized: { text: string; etag: string } | undefined;

  private constructor(algorithms: readonly TestIssuerAlgorithm[]) {
    this.#algorithms = algorithms;
  }

  /** Fresh keys, one per algorithm; or the `given` private JWKs (the last of each algorithm signs) and fresh ones for the rest. */
  static async create(
    algorithms: readonly TestIssuerAlgorithm[],
    given: readonly JWK[] = [],
  ): Promise<KeyRing> {
    const ring = new KeyRing(algorithms);
    ring.#published = await Promise.all(given.map(importKeyPair));
    for (const key of ring.#published) ring.#active.set(key.alg, key);
    const missing = algorithms.filter((alg) => !ring.#active.has(alg));
    const fresh = await Promise.all(missing.map(createKeyPair));
    ring.#published.push(...fresh);
    for (const key of fresh) ring.#active.set(key.alg, key);
    return ring;
  }

  /** The published keys, oldest first, each marked `active` when it is the one that signs. */
  list(): TestIssuerKey[] {
    return this.#published.map((key) => ({ ...key, active: this.#active.get(key.alg) === key }));
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.#published.map((key) => ({ ...key.publicJwk })) };
  }

  /** The JWKS as JSON text, with an `ETag` that changes with the key set. */
  serializedJwks(): { text: string; etag: string } {
    if (!this.#serialized) {
      const text = JSON.stringify(this.jwks());
      this.#serialized = { text, etag: `"${fnv1a(text)}"` };
    }
    return this.#serialized;
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
    this.#serialized = undefined;
    for (const key of fresh) this.#active.set(key.alg, key);
    return fresh.map((key) => ({ ...key, active: true }));
  }
}

/** Where the SPA keeps its DPoP key and nonces: in memory, or in IndexedDB across reloads. */
import { invalidArgument } from '../../errors.js';

/**
 * Where a {@link createDpopHandle} keeps its key pair and the servers' last nonces, so that
 * a reload keeps the binding of the tokens issued to that key: two entries, `'keyPair'`
 * (the `CryptoKeyPair` itself) and `'nonces'` (`[origin, nonce]` pairs, at most 32).
 * Implement it to keep them elsewhere: values must be stored as they are (structured
 * clone), never serialized, since a non-extractable key cannot be exported.
 */
export interface DpopStore {
  /** The key pair saved before, or undefined. */
  get(key: 'keyPair'): Promise<CryptoKeyPair | undefined>;
  /** The nonces saved before, as `[origin, nonce]` pairs, or undefined. */
  get(key: 'nonces'): Promise<[string, string][] | undefined>;
  /** Keeps the key pair. */
  set(key: 'keyPair', value: CryptoKeyPair): Promise<void>;
  /** Keeps the nonces (the handle's bounded list, replacing the one saved before). */
  set(key: 'nonces', value: [string, string][]): Promise<void>;
  /** Forgets the key pair and the nonces (on logout: tokens bound to the key become useless). */
  clear(): Promise<void>;
}

/** Options of {@link createIndexedDbDpopStore}. */
export interface IndexedDbDpopStoreOptions {
  /** The IndexedDB database name. Default `'oauth-jwt-verify-dpop'`; one per key (e.g. per client). */
  name?: string;
}

/**
 * A {@link DpopStore} in memory: for tests, or for an app that wants a new key on every load.
 *
 * @example
 * const store = createMemoryDpopStore();
 * const dpop = await createDpopHandle(await createDpopKeyPair(), { store });
 * (await store.get('keyPair')) !== undefined; // true
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-2
 */
export function createMemoryDpopStore(): DpopStore {
  const values = new Map<string, unknown>();
  return {
    get: async (key: string) => values.get(key),
    set: async (key: string, value: unknown) => void values.set(key, value),
    clear: async () => values.clear(),
  } as DpopStore;
}

const OBJECT_STORE = 'dpop';

/**
 * A {@link DpopStore} in IndexedDB, where the browser keeps the `CryptoKey` objects by
 * structured clone: the non-extractable private key is stored without ever being
 * exported, so a reload (or another tab of the same origin) signs with the same key and
 * the tokens bound to it keep working. The database opens on first use; a write resolves
 * once committed. A failure (storage disabled, quota) rejects with the browser's `DOMException`.
 *
 * @param options `name`: default `'oauth-jwt-verify-dpop'`.
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` for a bad `name`; as a rejection of the
 *   first use on a runtime without `indexedDB`.
 * @example
 * const store = createIndexedDbDpopStore();
 * const keyPair = (await store.get('keyPair')) ?? (await createDpopKeyPair());
 * const dpop = await createDpopHandle(keyPair, { store });
 * // on logout: await store.clear();
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-2
 * @see https://w3c.github.io/webcrypto/#cryptokey-interface-clone
 */
export function createIndexedDbDpopStore(options: IndexedDbDpopStoreOptions = {}): DpopStore {
  const { name = 'oauth-jwt-verify-dpop' } = options;
  if (typeof name !== 'string' || !name) throw invalidArgument('name must be a non-empty string');
  let database: Promise<IDBDatabase> | undefined;
  const open = () =>
    new Promise<IDBDatabase>((resolve, reject) => {
      if (!globalThis.indexedDB) throw invalidArgument('no indexedDB here: use createMemoryDpopStore()');
      const request = indexedDB.open(name, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(OBJECT_STORE);
      request.onsuccess = () => {
        // Another tab deleting or upgrading the database must not wait on this one.
        request.result.onversionchange = () => (request.result.close(), (database = undefined));
        resolve(request.result);
      };
      request.onerror = () => ((database = undefined), reject(request.error));
    });
  // Settles when the transaction has committed, so a reload right after sees the write.
  const run = async (mode: IDBTransactionMode, operation: (store: IDBObjectStore) => IDBRequest) => {
    const transaction = (await (database ??= open())).transaction(OBJECT_STORE, mode);
    const request = operation(transaction.objectStore(OBJECT_STORE));
    return new Promise((resolve, reject) => {
      transaction.oncomplete = () => resolve(request.result);
      transaction.onerror = transaction.onabort = () => reject(transaction.error ?? request.error);
    });
  };
  return {
    get: (key: string) => run('readonly', (store) => store.get(key)),
    set: async (key: string, value: unknown) =>
      void (await run('readwrite', (store) => store.put(value, key))),
    clear: async () => void (await run('readwrite', (store) => store.clear())),
  } as DpopStore;
}

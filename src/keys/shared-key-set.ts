/** A key set loaded through a fleet's shared store, kept under its JWKS URL. */
import { type SharedLoadOptions, loadShared } from '../fleet/shared-load.js';
import { type KeySet, type LoadedKeySet, decodeKeySet, encodeKeySet, kidsOf } from './key-set.js';

/** {@link loadShared} for a key set, stored under its JWKS URL. */
export function loadKeySetThroughStore(
  options: Omit<SharedLoadOptions<KeySet>, 'key' | 'decode' | 'encode' | 'taken'> & {
    uri: string;
    maxAgeMs: number;
    allowInsecureHttp: boolean;
  },
): Promise<LoadedKeySet> {
  const { uri } = options;
  return loadShared<KeySet>({
    ...options,
    key: uri,
    decode: (parsed) => {
      const decoded = decodeKeySet(parsed, { ...options, now: options.now() });
      return 'reason' in decoded
        ? decoded
        : { value: decoded.set, fetchedAt: decoded.fetchedAt, freshUntil: decoded.freshUntil };
    },
    encode: (entry) => encodeKeySet(entry.value, entry.fetchedAt, entry.freshUntil),
    taken: (set, freshForMs) =>
      options.emit({ type: 'jwks_loaded', url: uri, source: 'store', kids: kidsOf(set), freshForMs }),
    // Validators of a set from another URL (the issuer moved its JWKS) would be meaningless.
    fetch: (validators) => options.fetch(validators?.uri === uri ? validators : undefined),
  });
}

/** The verifier's events (`onEvent`): what it fetched, rotated, refused or could not reach. */
import type { JwtVerifyError } from './errors.js';

/**
 * What a verifier reports through `onEvent`: where it discovered the issuer, each JWKS
 * fetch, revalidation and failure, rotations, and keys it had to skip.
 */
export type VerifierEvent =
  | { type: 'discovery'; issuer: string; url: string; kind: 'oauth' | 'oidc'; jwksUri: string | undefined }
  | { type: 'discovery_failed'; issuer: string; error: JwtVerifyError; servingStale: boolean }
  | { type: 'jwks_fetched'; url: string; kids: string[]; freshForMs: number }
  | { type: 'jwks_revalidated'; url: string; freshForMs: number }
  | { type: 'jwks_failed'; error: JwtVerifyError; servingStale: boolean }
  | { type: 'key_rotated'; added: string[]; removed: string[] }
  | { type: 'key_skipped'; url: string; kid: string | undefined; reason: string }
  /** A key set taken from a shared `cache.store` or a `cache.snapshot` instead of the issuer. */
  | { type: 'jwks_loaded'; url: string; source: 'store' | 'snapshot'; kids: string[]; freshForMs: number }
  /** Discovery metadata taken from a shared `cache.store` or a `cache.snapshot` instead of the issuer. */
  | { type: 'metadata_loaded'; issuer: string; url: string; source: 'store' | 'snapshot' }
  /**
   * A `cache.store` call failed or returned an unusable value; the verifier fetched by itself.
   * `key` is the JWKS URL, or `discovery:<mode>:<issuer>` for metadata.
   */
  | { type: 'store_failed'; key: string; operation: 'get' | 'set' | 'acquire' | 'read'; reason: string }
  /** A `cache.snapshot` was not used (wrong issuer, bad shape, stale); the verifier starts cold. */
  | { type: 'snapshot_ignored'; reason: string };

/** The `type` of each {@link VerifierEvent}. */
export type VerifierEventType = VerifierEvent['type'];

/** Wraps a user's `onEvent` so that a throwing listener cannot break verification. */
export function createEmitter(listener: ((event: VerifierEvent) => void) | undefined) {
  return (event: VerifierEvent): void => {
    if (!listener) return;
    try {
      listener(event);
    } catch {
      // An observer's failure is not the verifier's failure.
    }
  };
}

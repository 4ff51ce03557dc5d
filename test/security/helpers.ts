import type { JWK } from 'jose';
import type { VerifierEvent } from '../../src/events.js';
import type { TestIssuer, TestIssuerOptions } from '../../src/testing/index.js';
import { JwtVerifier } from '../../src/verify/verifier.js';
import { type JwtVerifierOptions } from '../../src/verify/options.js';
import { useTestIssuer } from '../support/fixture.js';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'https://api.test';
export const JWKS_URI = 'https://issuer.test/jwks';

/** The stub issuer of a test file: {@link ISSUER}, for {@link AUDIENCE}, signing with `algorithms`. */
export function useSecurityIssuer(
  algorithms: TestIssuerOptions['algorithms'],
  options: TestIssuerOptions = {},
): TestIssuer {
  return useTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms, ...options });
}

/** A fetch that serves one JWKS document, and remembers every URL asked for. */
export function jwksFetch(jwks: () => { keys: JWK[] } | unknown): {
  fetch: (input: string | URL | Request) => Promise<Response>;
  urls: string[];
} {
  const urls: string[] = [];
  return {
    urls,
    fetch: async (input) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      urls.push(url);
      if (url !== JWKS_URI) return new Response('not found', { status: 404 });
      return Response.json(jwks());
    },
  };
}

/** A verifier with its events recorded and a clock the test can move forward. */
export interface ObservedVerifier {
  verifier: JwtVerifier;
  events: VerifierEvent[];
  /** Added to `Date.now()` by the verifier's `now` option. */
  clock: { offsetMs: number };
  ofType: (type: VerifierEvent['type']) => VerifierEvent[];
}

export function observedVerifier(options: JwtVerifierOptions): ObservedVerifier {
  const events: VerifierEvent[] = [];
  const clock = { offsetMs: 0 };
  const verifier = new JwtVerifier({
    now: () => Date.now() + clock.offsetMs,
    onEvent: (event) => events.push(event),
    ...options,
  });
  return { verifier, events, clock, ofType: (type) => events.filter((event) => event.type === type) };
}

/**
 * A verifier for {@link ISSUER} that reads its keys from `jwks` at {@link JWKS_URI} (no
 * discovery), with the events it emitted and the URLs it fetched.
 */
export function verifierWithJwks(
  jwks: () => { keys: JWK[] } | unknown,
  options: Partial<JwtVerifierOptions> = {},
): ObservedVerifier & { urls: string[] } {
  const served = jwksFetch(jwks);
  const observed = observedVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: JWKS_URI,
    fetch: served.fetch,
    ...options,
  });
  return { ...observed, urls: served.urls };
}

/**
 * Re-encodes an IEEE P1363 ECDSA signature (r ‖ s, RFC 7518 §3.4) as ASN.1 DER
 * (`SEQUENCE { INTEGER r, INTEGER s }`), the form JWS forbids.
 */
export function p1363ToDer(signature: Uint8Array): Uint8Array {
  const half = signature.length / 2;
  const integer = (bytes: Uint8Array): number[] => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const body = [...bytes.slice(start)];
    if (body[0]! & 0x80) body.unshift(0);
    return [0x02, body.length, ...body];
  };
  const content = [...integer(signature.slice(0, half)), ...integer(signature.slice(half))];
  return new Uint8Array([0x30, content.length, ...content]);
}

/** Collects unhandled rejections while a test file runs. */
export function trackUnhandledRejections(): { reasons: unknown[]; stop: () => void } {
  const reasons: unknown[] = [];
  const listener = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', listener);
  return { reasons, stop: () => process.off('unhandledRejection', listener) };
}

/** PKCE pairs (RFC 7636) and random tokens, from Web Crypto. */
import { invalidArgument } from '../errors.js';

/** A PKCE code verifier with its S256 challenge. */
export interface PkcePair {
  /** 43–128 unreserved characters; the secret sent later to the token endpoint. */
  codeVerifier: string;
  /** BASE64URL(SHA-256(codeVerifier)), sent in the authorization request. */
  codeChallenge: string;
  /** Always `'S256'`: `plain` is never used (RFC 9700 §2.1.1). */
  codeChallengeMethod: 'S256';
}

/** Unpadded base64url (RFC 4648 §5). */
export function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (c) =>
    c === '+' ? '-' : c === '/' ? '_' : '',
  );
}

/** Web Crypto, which a browser offers only in a secure context (`https:` or `http://localhost`). */
export function subtle(): SubtleCrypto {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw invalidArgument('no crypto.subtle: serve the page over https:');
  return subtle;
}

/** BASE64URL(SHA-256(UTF-8 text)): PKCE S256 challenges, DPoP `ath` and thumbprints. */
export async function sha256Base64url(text: string): Promise<string> {
  return base64url(new Uint8Array(await subtle().digest('SHA-256', new TextEncoder().encode(text))));
}

/** 32 bytes from the Web Crypto CSPRNG as 43 base64url characters (256 bits). */
export function randomToken(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Creates a PKCE code verifier (32 random bytes from `crypto.getRandomValues`, as 43
 * base64url characters) and its S256 challenge. Given a verifier, checks it (43–128
 * characters of `A-Z a-z 0-9 - . _ ~`) and derives its challenge: for test vectors, or for
 * a verifier kept from an earlier step.
 *
 * Needs Web Crypto: in a browser the page must be a secure context (`https:` or
 * `http://localhost`), else `crypto.subtle` is missing and this throws a `TypeError`.
 *
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` for a malformed verifier.
 * @example
 * const { codeVerifier, codeChallenge } = await createPkcePair();
 * const vector = await createPkcePair('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk');
 * vector.codeChallenge; // 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' (RFC 7636 Appendix B)
 * @see https://www.rfc-editor.org/rfc/rfc7636#section-4.1
 */
export async function createPkcePair(existingVerifier?: string): Promise<PkcePair> {
  subtle();
  const codeVerifier = existingVerifier ?? randomToken();
  // RFC 7636 §4.1: code-verifier = 43*128unreserved. The verifier itself is never echoed.
  if (typeof codeVerifier !== 'string' || !/^[\w.~-]{43,128}$/.test(codeVerifier)) {
    throw invalidArgument(
      `codeVerifier must be 43 to 128 characters [A-Za-z0-9-._~] (RFC 7636), got ${
        typeof codeVerifier !== 'string'
          ? `a ${typeof codeVerifier}`
          : /^[\w.~-]*$/.test(codeVerifier)
            ? `${codeVerifier.length} characters`
            : 'a character outside that set'
      }`,
    );
  }
  return { codeVerifier, codeChallenge: await sha256Base64url(codeVerifier), codeChallengeMethod: 'S256' };
}

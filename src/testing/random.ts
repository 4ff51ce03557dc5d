// Random identifiers for codes, tokens and sessions.
import { base64url } from 'jose';

/** An unguessable base64url string (`bytes` random bytes): codes, refresh tokens, `jti`. */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** Unpadded base64url (RFC 4648 §5), of bytes: Web APIs only, for every entry. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes)).replace(/[+/=]/g, (c) =>
    c === '+' ? '-' : c === '/' ? '_' : '',
  );
}

/** The SHA-2 digest of text (as UTF-8) or bytes, with Web Crypto. */
export async function sha2(
  hash: 'SHA-256' | 'SHA-384' | 'SHA-512',
  data: string | Uint8Array,
): Promise<Uint8Array> {
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  return new Uint8Array(await crypto.subtle.digest(hash, bytes as Uint8Array<ArrayBuffer>));
}

// The contenders that need Web APIs only (fetch, crypto.subtle, jose), so that the browser
// bench (bench/browser-child.mjs) runs the same ones as Node, Bun and Deno
// (bench/contenders.mjs takes them from here).

/** Algorithms as Web Crypto imports a key for each and verifies with it. */
const WEB = {
  RS256: [{ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, { name: 'RSASSA-PKCS1-v1_5' }],
  PS256: [
    { name: 'RSA-PSS', hash: 'SHA-256' },
    { name: 'RSA-PSS', saltLength: 32 },
  ],
  ES256: [
    { name: 'ECDSA', namedCurve: 'P-256' },
    { name: 'ECDSA', hash: 'SHA-256' },
  ],
  EdDSA: [{ name: 'Ed25519' }, { name: 'Ed25519' }],
  'ML-DSA-65': [{ name: 'ML-DSA-65' }, { name: 'ML-DSA-65' }],
};

export async function fetchJwks(jwksUri) {
  const response = await fetch(jwksUri);
  return response.json();
}

/** The issuer's newest key for `alg`. */
export const jwkFor = (jwks, alg) => jwks.keys.filter((key) => key.alg === alg).at(-1);

const encoder = new TextEncoder();
/** base64url to bytes the quickest way the runtime has: Buffer where there is one (not in browsers). */
const decodeBase64Url = globalThis.Buffer
  ? (text) => globalThis.Buffer.from(text, 'base64url')
  : (text) => Uint8Array.from(atob(text.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));

export const WEB_CONTENDERS = {
  'jose-floor': {
    label: 'jose jwtVerify, key imported once (the floor)',
    async create({ issuer, audience, jwksUri, alg }) {
      const { importJWK, jwtVerify } = await import('jose');
      const key = await importJWK(jwkFor(await fetchJwks(jwksUri), alg), alg);
      return (token) => jwtVerify(token, key, { issuer, audience, algorithms: [alg] });
    },
  },
  'raw-webcrypto': {
    label: 'Web Crypto crypto.subtle.verify, key imported once (signature only)',
    async create({ jwksUri, alg }) {
      const [importParams, verifyParams] = WEB[alg];
      const jwk = jwkFor(await fetchJwks(jwksUri), alg);
      const key = await crypto.subtle.importKey('jwk', jwk, importParams, false, ['verify']);
      return async (token) => {
        const dot = token.lastIndexOf('.');
        const signature = decodeBase64Url(token.slice(dot + 1));
        const ok = await crypto.subtle.verify(
          verifyParams,
          key,
          signature,
          encoder.encode(token.slice(0, dot)),
        );
        if (!ok) throw new Error('invalid signature');
      };
    },
  },
};

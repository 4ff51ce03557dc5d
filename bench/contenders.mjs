// The verifiers the benchmark compares. Each factory gets the issuer under test and the
// algorithm, and resolves to `verify(token)` (a promise or a value; throws when rejected),
// or `undefined` when the library cannot verify that algorithm. Loads on Node, Bun and Deno
// (bench/runtime-child.mjs); the built-ins are imported, not taken as Node's globals.
import { Buffer } from 'node:buffer';
import { constants, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { WEB_CONTENDERS, fetchJwks, jwkFor } from './web-contenders.mjs';

/** Algorithms and how `node:crypto` verifies each (what a hand-written verifier would do). */
/** `node:crypto` `verify`'s digest and key input for each algorithm, from a KeyObject. */
export const RAW = {
  RS256: (key) => ['sha256', { key }],
  PS256: (key) => [
    'sha256',
    { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
  ],
  ES256: (key) => ['sha256', { key, dsaEncoding: 'ieee-p1363' }],
  EdDSA: (key) => [null, { key }],
  // Pure ML-DSA signs the message itself (RFC 9964); Node.js 24.7+ and Bun.
  'ML-DSA-65': (key) => [null, { key }],
};

function publicKeyFor(jwks, alg) {
  const jwk = jwkFor(jwks, alg);
  return { jwk, keyObject: createPublicKey({ key: jwk, format: 'jwk' }) };
}

/** Our warm verifier from the built package in `packageDir` (the package itself without one). */
async function createOurs({ issuer, audience }, options, packageDir) {
  const entry = packageDir ? pathToFileURL(join(packageDir, 'dist/index.js')).href : 'oauth-jwt-verify';
  const { JwtVerifier } = await import(entry);
  const verifier = new JwtVerifier({ issuer, audience, ...options });
  return (token) => verifier.verify(token);
}

/** name → { label, create(context) }, in table order. The first two are ours. */
export const CONTENDERS = {
  ours: {
    label: 'oauth-jwt-verify JwtVerifier (warm)',
    async create(context, options = {}) {
      // run.mjs copies the built package aside (see there).
      return createOurs(context, options, process.env.BENCH_PACKAGE_DIR);
    },
  },
  'ours-cached': {
    label: 'oauth-jwt-verify with cache.verifiedTokens: 10000',
    async create({ issuer, audience }) {
      return CONTENDERS.ours.create({ issuer, audience }, { cache: { verifiedTokens: 10_000 } });
    },
  },
  // Another build of this package, to compare two builds in one run (a refactor's before and
  // after): `BENCH_BASELINE_DIR=<folder with dist/ and package.json> npm run bench`.
  ...(process.env.BENCH_BASELINE_DIR
    ? {
        'ours-baseline': {
          label: `oauth-jwt-verify, the build in ${process.env.BENCH_BASELINE_DIR}`,
          create: (context) => createOurs(context, {}, process.env.BENCH_BASELINE_DIR),
        },
      }
    : {}),
  'jose-floor': WEB_CONTENDERS['jose-floor'],
  'jose-remote': {
    label: 'jose jwtVerify + createRemoteJWKSet',
    async create({ issuer, audience, jwksUri, alg }) {
      const { createRemoteJWKSet, jwtVerify } = await import('jose');
      const jwks = createRemoteJWKSet(new URL(jwksUri));
      return (token) => jwtVerify(token, jwks, { issuer, audience, algorithms: [alg] });
    },
  },
  aws: {
    label: 'aws-jwt-verify JwtVerifier (jwksUri)',
    async create({ issuer, audience, jwksUri, alg }) {
      if (alg === 'PS256') return undefined; // not among aws-jwt-verify's algorithms
      const { JwtVerifier } = await import('aws-jwt-verify');
      const { SimpleJwksCache } = await import('aws-jwt-verify/jwk');
      // Its default fetcher speaks HTTPS only; this one reaches the same loopback issuer over HTTP.
      const fetcher = { fetch: async (uri) => (await fetch(uri)).arrayBuffer() };
      const verifier = JwtVerifier.create(
        { issuer, audience, jwksUri },
        { jwksCache: new SimpleJwksCache({ fetcher }) },
      );
      return (token) => verifier.verify(token);
    },
  },
  'fast-jwt': {
    label: 'fast-jwt createVerifier + JWKS fetcher (PEM per kid, shared fetch)',
    async create({ issuer, audience, jwksUri, alg }) {
      const { createVerifier } = await import('fast-jwt');
      const pems = new Map();
      let fetching;
      const refresh = () =>
        (fetching ??= fetchJwks(jwksUri)
          .then((jwks) => {
            for (const jwk of jwks.keys) {
              pems.set(
                jwk.kid,
                createPublicKey({ key: jwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' }),
              );
            }
          })
          .finally(() => (fetching = undefined)));
      const verifier = createVerifier({
        algorithms: [alg],
        allowedIss: issuer,
        allowedAud: audience,
        key: async ({ header }) => {
          if (!pems.has(header.kid)) await refresh();
          const pem = pems.get(header.kid);
          if (!pem) throw new Error('unknown kid');
          return pem;
        },
      });
      return (token) => verifier(token);
    },
  },
  jsonwebtoken: {
    label: 'jsonwebtoken + jwks-rsa',
    async create({ issuer, audience, jwksUri, alg }) {
      if (alg === 'EdDSA') return undefined; // jsonwebtoken has no EdDSA
      const { default: jwt } = await import('jsonwebtoken');
      const { default: jwksRsa } = await import('jwks-rsa');
      const client = jwksRsa({ jwksUri, cache: true });
      const getKey = (header, callback) =>
        client.getSigningKey(header.kid, (error, key) => callback(error, key?.getPublicKey()));
      const options = { algorithms: [alg], issuer, audience };
      return (token) =>
        new Promise((resolve, reject) =>
          jwt.verify(token, getKey, options, (error, payload) => (error ? reject(error) : resolve(payload))),
        );
    },
  },
  'raw-sync': {
    label: 'node:crypto verify, synchronous (signature only)',
    async create({ jwksUri, alg }) {
      const [digest, input] = RAW[alg](publicKeyFor(await fetchJwks(jwksUri), alg).keyObject);
      return (token) => {
        const dot = token.lastIndexOf('.');
        const ok = cryptoVerify(
          digest,
          Buffer.from(token.slice(0, dot)),
          input,
          Buffer.from(token.slice(dot + 1), 'base64url'),
        );
        if (!ok) throw new Error('invalid signature');
      };
    },
  },
  'raw-pool': {
    label: 'node:crypto verify, callback (thread pool, signature only)',
    async create({ jwksUri, alg }) {
      const [digest, input] = RAW[alg](publicKeyFor(await fetchJwks(jwksUri), alg).keyObject);
      return (token) =>
        new Promise((resolve, reject) => {
          const dot = token.lastIndexOf('.');
          cryptoVerify(
            digest,
            Buffer.from(token.slice(0, dot)),
            input,
            Buffer.from(token.slice(dot + 1), 'base64url'),
            (error, ok) => (error || !ok ? reject(error ?? new Error('invalid signature')) : resolve()),
          );
        });
    },
  },
  'raw-webcrypto': WEB_CONTENDERS['raw-webcrypto'],
};

/**
 * Ours with `#signature` forced to one path whatever the runtime's conditions, from the
 * copies bench/runtimes.mjs makes: what a runtime would get from the other path (Deno
 * through node:crypto, Bun through Web Crypto). Only in the per-runtime bench.
 */
export const PATH_CONTENDERS = {
  'ours-node-path': {
    label: 'oauth-jwt-verify with #signature forced to signature-node.js (node:crypto)',
    create: (context) => createOurs(context, {}, process.env.BENCH_PACKAGE_NODE_PATH),
  },
  'ours-web-path': {
    label: 'oauth-jwt-verify with #signature forced to signature-web.js (jose, Web Crypto)',
    create: (context) => createOurs(context, {}, process.env.BENCH_PACKAGE_WEB_PATH),
  },
};

/** Contenders that fetch keys over HTTP (the others get them handed over). */
export const NETWORKED = [
  'ours',
  'ours-cached',
  'ours-baseline',
  'jose-remote',
  'aws',
  'fast-jwt',
  'jsonwebtoken',
];

/**
 * The differential cases for the signature paths (node:crypto, and Web Crypto with keys
 * imported by jose): the same tokens through each must get jose's own decision (jose
 * `compactVerify`, the reference), on the Web Crypto path both while its key is being
 * imported and once it is (the segment decoders: segment-cases.ts).
 * Runtime-neutral (node:crypto, node:assert, jose, fast-check; no vitest), so the same
 * cases run under vitest on Node (signature-differential.test.ts) and, against the built
 * dist, on Bun and Deno (test/runtimes/signature-differential.ts).
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { KeyObject, constants, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import {
  CompactSign,
  type CryptoKey,
  type JWK,
  compactVerify,
  exportJWK,
  generateKeyPair,
  importJWK,
} from 'jose';
import {
  CLASSIC_ALGORITHMS,
  type JwsAlgorithm,
  ML_DSA_SIZES,
  type MlDsaAlgorithm,
} from '../../../src/token/algorithms.js';
import { type JwksKey, publicKeyMembers } from '../../../src/token/jwk.js';
import { type ParsedToken, parseToken } from '../../../src/token/parse.js';
import type { SegmentDecoder } from '../../../src/token/segments.js';
import type { SignatureCheck } from '../../../src/token/signature/types.js';
import { ML_DSA_FIXTURE_KEY, ML_DSA_FIXTURE_TOKEN } from '../../support/ml-dsa-fixture.js';
import { weakRsaKeyPair } from '../../support/tokens.js';

/** What a signature module exports: src/token/signature/{node,web}.ts, or dist/signature-{node,web}.js. */
export interface SignaturePath {
  checkSignature(
    token: ParsedToken,
    key: JwksKey,
    alg: JwsAlgorithm,
    inFlight?: number,
  ): SignatureCheck | Promise<SignatureCheck>;
  segmentDecoder: SegmentDecoder;
  /** Why the path cannot verify an ML-DSA algorithm here, or `undefined`. */
  mlDsaUnavailable(alg: MlDsaAlgorithm): string | undefined | Promise<string | undefined>;
}

/** The node:crypto path and the Web Crypto path under test. */
export interface SignaturePaths {
  node: SignaturePath;
  web: SignaturePath;
}

interface Pair {
  privateKey: CryptoKey;
  key: JwksKey;
}

/** The paths, a key pair per algorithm and another to check against, and the comparison. */
export interface Differential {
  paths: SignaturePaths;
  pairs: Map<string, Pair>;
  others: Map<string, Pair>;
  /** Whether both paths can verify ML-DSA on this runtime (then `pairs` has ML-DSA keys). */
  mlDsa: boolean;
  /** Throws (node:assert) when a path's answer differs from jose's, or jose's from `expected`. */
  expectSameDecision(
    token: string,
    key: JwksKey,
    alg: JwsAlgorithm,
    expected?: SignatureCheck,
  ): Promise<SignatureCheck>;
}

/** One named check; `name` reads as "every signature path and jose <name>" or "segment decoders agree <name>". */
export interface NamedCheck<Context> {
  name: string;
  run(context: Context): Promise<void> | void;
}

// Ed25519 is EdDSA under its fully-specified name (RFC 9864): one check of its own below.
// ML-DSA, which not every runtime has, has checks of its own too.
const ALGORITHMS = CLASSIC_ALGORITHMS.filter((alg) => alg !== 'Ed25519');
const ML_DSA = ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const;

async function makePair(alg: string, kid: string): Promise<Pair> {
  const generated = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true });
  const jwk = (await exportJWK(generated.publicKey)) as JWK & { kty: string };
  return { privateKey: generated.privateKey, key: { kid, jwk: { ...jwk, kid } } };
}

/** Generates the keys (asynchronously, see STYLE.md) and binds the comparison to `paths`. */
export async function createDifferential(paths: SignaturePaths): Promise<Differential> {
  const pairs = new Map<string, Pair>();
  const others = new Map<string, Pair>();
  for (const alg of ALGORITHMS) {
    pairs.set(alg, await makePair(alg, `${alg}-main`));
    others.set(alg, await makePair(alg, `${alg}-other`));
  }
  const lacking = await Promise.all([
    paths.node.mlDsaUnavailable('ML-DSA-65'),
    paths.web.mlDsaUnavailable('ML-DSA-65'),
  ]);
  assert.equal(
    lacking[0] === undefined,
    lacking[1] === undefined,
    `the paths disagree on ML-DSA: node:crypto ${lacking[0] ?? 'has it'}, jose ${lacking[1] ?? 'has it'}`,
  );
  const mlDsa = lacking[0] === undefined;
  if (mlDsa) {
    for (const alg of ML_DSA) {
      pairs.set(alg, await makePair(alg, `${alg}-main`));
      others.set(alg, await makePair(alg, `${alg}-other`));
    }
  }
  return {
    paths,
    pairs,
    others,
    mlDsa,
    async expectSameDecision(token, key, alg, expected) {
      // Each path parses as the verifier does where it runs: with that path's segment decoder.
      const forWeb = parseToken(token, undefined, paths.web.segmentDecoder);
      const forNode = parseToken(token, undefined, paths.node.segmentDecoder);
      const jose = await joseDecision(token, key, alg);
      const answers = {
        // The first check of a key waits for its import; the next is crypto.subtle.verify at once.
        'Web Crypto': await paths.web.checkSignature(forWeb, key, alg),
        'Web Crypto, key imported': await paths.web.checkSignature(forWeb, key, alg),
        'node:crypto (sync)': await paths.node.checkSignature(forNode, key, alg, 1),
        'node:crypto (callback)': await paths.node.checkSignature(forNode, key, alg, 1000),
      };
      for (const [path, answer] of Object.entries(answers)) {
        assert.equal(answer, jose, `${path} said ${answer}, jose said ${jose}, for ${alg}`);
      }
      if (expected) assert.equal(jose, expected, `all said ${jose} for ${alg}, expected ${expected}`);
      return jose;
    },
  };
}

function expect(actual: number, expected: number): void {
  assert.equal(actual, expected, `a signature of ${actual} bytes, expected ${expected}`);
}

/** jose alone, the reference: the key imported by `importJWK`, the token through `compactVerify`. */
async function joseDecision(token: string, key: JwksKey, alg: JwsAlgorithm): Promise<SignatureCheck> {
  let cryptoKey;
  try {
    cryptoKey = await importJWK(publicKeyMembers(key), alg);
  } catch {
    return 'unusable';
  }
  try {
    await compactVerify(token, cryptoKey, { algorithms: [alg] });
    return 'valid';
  } catch {
    return 'invalid';
  }
}

async function signCompact(
  pair: Pair,
  alg: string,
  payload: object = { sub: 'differential' },
): Promise<string> {
  return new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg, kid: pair.key.kid })
    .sign(pair.privateKey);
}

/** Signs with node:crypto directly, for signatures jose would never make. */
function signRaw(pair: Pair, alg: string, options: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ alg, kid: pair.key.kid })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ sub: 'raw' })).toString('base64url');
  const input = `${header}.${payload}`;
  const signature = nodeSign(`sha${alg.slice(2)}`, Buffer.from(input), {
    key: KeyObject.from(pair.privateKey),
    ...options,
  });
  return `${input}.${signature.toString('base64url')}`;
}

function withSignature(token: string, signature: Uint8Array): string {
  return `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from(signature).toString('base64url')}`;
}

function signatureOf(token: string): Buffer {
  return Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
}

const CURVE_ORDERS: Record<string, bigint> = {
  ES256: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
  ES384: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
  ES512:
    0x01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
};
const ED25519_ORDER = 2n ** 252n + 27742317777372353535851937790883648493n;

const toBigInt = (bytes: Uint8Array) => BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
function toBytes(value: bigint, length: number): Buffer {
  return Buffer.from(value.toString(16).padStart(length * 2, '0'), 'hex');
}

/** An ECDSA signature in DER (ASN.1) form instead of the JWS r || s form. */
function derSignature(p1363: Buffer): Buffer {
  const half = p1363.length / 2;
  const integer = (bytes: Buffer) => {
    let i = 0;
    while (i < bytes.length - 1 && bytes[i] === 0) i++;
    let trimmed = bytes.subarray(i);
    if (trimmed[0]! & 0x80) trimmed = Buffer.concat([Buffer.from([0]), trimmed]);
    return Buffer.concat([Buffer.from([0x02, trimmed.length]), trimmed]);
  };
  const body = Buffer.concat([integer(p1363.subarray(0, half)), integer(p1363.subarray(half))]);
  const length = body.length < 128 ? Buffer.from([body.length]) : Buffer.from([0x81, body.length]);
  return Buffer.concat([Buffer.from([0x30]), length, body]);
}

/** The same ECDSA signature with s replaced by n - s (the "high-S" twin). */
function highS(alg: string, p1363: Buffer): Buffer {
  const half = p1363.length / 2;
  const s = toBigInt(p1363.subarray(half));
  return Buffer.concat([p1363.subarray(0, half), toBytes(CURVE_ORDERS[alg]! - s, half)]);
}

/** An Ed25519 signature with S + L: the same equation, a non-canonical encoding. */
function nonCanonicalEd25519(signature: Buffer): Buffer {
  const s = toBigInt(Buffer.from(signature.subarray(32)).reverse()) + ED25519_ORDER;
  return Buffer.concat([signature.subarray(0, 32), toBytes(s, 32).reverse()]);
}

const EC_ALGORITHMS = ['ES256', 'ES384', 'ES512'] as const;
const PSS_ALGORITHMS = ['PS256', 'PS384', 'PS512'] as const;

/** Valid, tampered and hostile tokens through both paths. */
export const SIGNATURE_CHECKS: readonly NamedCheck<Differential>[] = [
  ...ALGORITHMS.map((alg) => ({
    name: `accept a valid ${alg} token`,
    async run(d: Differential) {
      const pair = d.pairs.get(alg)!;
      await d.expectSameDecision(await signCompact(pair, alg), pair.key, alg, 'valid');
    },
  })),
  {
    name: 'accept Ed25519, the fully-specified name for EdDSA',
    async run(d) {
      const pair = d.pairs.get('EdDSA')!;
      await d.expectSameDecision(await signCompact(pair, 'Ed25519'), pair.key, 'Ed25519', 'valid');
    },
  },
  ...ALGORITHMS.map((alg) => ({
    name: `refuse a ${alg} token whose payload was changed`,
    async run(d: Differential) {
      const pair = d.pairs.get(alg)!;
      const token = await signCompact(pair, alg, { sub: 'alice' });
      const [header, , signature] = token.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url')}.${signature}`;
      await d.expectSameDecision(forged, pair.key, alg, 'invalid');
    },
  })),
  ...ALGORITHMS.map((alg) => ({
    name: `refuse a ${alg} token checked with another key`,
    async run(d: Differential) {
      const token = await signCompact(d.pairs.get(alg)!, alg);
      await d.expectSameDecision(token, d.others.get(alg)!.key, alg, 'invalid');
    },
  })),
  ...ALGORITHMS.map((alg) => ({
    name: `refuse a ${alg} token with a flipped signature bit, a truncated, an extended and an empty signature`,
    async run(d: Differential) {
      const pair = d.pairs.get(alg)!;
      const token = await signCompact(pair, alg);
      const signature = signatureOf(token);
      const flipped = Buffer.from(signature);
      flipped[flipped.length >> 1]! ^= 0x01;
      for (const variant of [
        flipped,
        signature.subarray(0, signature.length - 1),
        signature.subarray(0, signature.length >> 1),
        Buffer.concat([signature, Buffer.from([0])]),
        Buffer.alloc(0),
      ]) {
        await d.expectSameDecision(withSignature(token, variant), pair.key, alg, 'invalid');
      }
    },
  })),
  ...EC_ALGORITHMS.map((alg) => ({
    name: `refuse a ${alg} signature in DER form, and all-zero r and s`,
    async run(d: Differential) {
      const pair = d.pairs.get(alg)!;
      const token = await signCompact(pair, alg);
      const signature = signatureOf(token);
      await d.expectSameDecision(withSignature(token, derSignature(signature)), pair.key, alg, 'invalid');
      await d.expectSameDecision(
        withSignature(token, Buffer.alloc(signature.length)),
        pair.key,
        alg,
        'invalid',
      );
    },
  })),
  ...EC_ALGORITHMS.map((alg) => ({
    name: `decide the same on a high-S ${alg} signature`,
    async run(d: Differential) {
      const pair = d.pairs.get(alg)!;
      const token = await signCompact(pair, alg);
      await d.expectSameDecision(withSignature(token, highS(alg, signatureOf(token))), pair.key, alg);
    },
  })),
  {
    name: 'refuse a non-canonical Ed25519 signature (S + L)',
    async run(d) {
      const pair = d.pairs.get('EdDSA')!;
      const token = await signCompact(pair, 'EdDSA');
      const variant = withSignature(token, nonCanonicalEd25519(signatureOf(token)));
      await d.expectSameDecision(variant, pair.key, 'EdDSA', 'invalid');
    },
  },
  ...PSS_ALGORITHMS.map((alg) => ({
    name: `accept ${alg} only with a salt as long as the hash`,
    async run(d: Differential) {
      const pair = d.pairs.get(alg)!;
      const pss = (saltLength: number) =>
        signRaw(pair, alg, { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      await d.expectSameDecision(pss(Number(alg.slice(2)) / 8), pair.key, alg, 'valid');
      for (const saltLength of [0, 20, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
        await d.expectSameDecision(pss(saltLength), pair.key, alg, 'invalid');
      }
    },
  })),
  {
    name: 'refuse an RS256 signature presented as PS256 and the other way round',
    async run(d) {
      const rsa = d.pairs.get('RS256')!;
      const pkcs1 = signRaw(rsa, 'PS256', { padding: constants.RSA_PKCS1_PADDING });
      await d.expectSameDecision(pkcs1, rsa.key, 'PS256', 'invalid');
      const pss = signRaw(rsa, 'RS256', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
      await d.expectSameDecision(pss, rsa.key, 'RS256', 'invalid');
    },
  },
  {
    name: 'find keys of the wrong type or curve unusable',
    async run(d) {
      const cases: [JwsAlgorithm, string][] = [
        ['ES256', 'RS256'],
        ['ES256', 'ES384'],
        ['ES256', 'EdDSA'],
        ['RS256', 'ES256'],
        ['PS256', 'EdDSA'],
        ['EdDSA', 'ES256'],
        ['EdDSA', 'RS256'],
      ];
      for (const [alg, keyAlg] of cases) {
        const token = await signCompact(d.pairs.get(keyAlg)!, keyAlg);
        const retyped = `${Buffer.from(JSON.stringify({ alg, kid: 'x' })).toString('base64url')}.${token.split('.').slice(1).join('.')}`;
        await d.expectSameDecision(retyped, d.pairs.get(keyAlg)!.key, alg, 'unusable');
      }
    },
  },
  {
    name: 'find an EC key whose point is not on the curve unusable',
    async run(d) {
      const pair = d.pairs.get('ES256')!;
      const token = await signCompact(pair, 'ES256');
      const y = Buffer.from(pair.key.jwk.y as string, 'base64url');
      y[y.length - 1]! ^= 0x01;
      const offCurve: JwksKey = { kid: 'off', jwk: { ...pair.key.jwk, y: y.toString('base64url') } };
      // jose refuses the key at import on Node and Bun (unusable); Deno's Web Crypto takes it
      // and the check fails (invalid). Refused either way, and both paths of a runtime agree.
      const expected = (globalThis as { Deno?: unknown }).Deno ? 'invalid' : 'unusable';
      await d.expectSameDecision(token, offCurve, 'ES256', expected);
    },
  },
  {
    name: 'refuse signatures by RSA keys under 2048 bits',
    async run(d) {
      const generated = await weakRsaKeyPair();
      const jwk = (await exportJWK(generated.publicKey)) as JWK & { kty: string };
      const weak: Pair = {
        privateKey: generated.privateKey,
        key: { kid: 'weak', jwk: { ...jwk, kid: 'weak' } },
      };
      await d.expectSameDecision(signRaw(weak, 'RS256', {}), weak.key, 'RS256', 'invalid');
    },
  },
  ...ML_DSA.map((alg) => ({
    name: `decide the same on ${alg}: valid, changed payload, another key, hostile signatures, a key of another parameter set (or, where the runtime has no ML-DSA, find its key unusable)`,
    async run(d: Differential) {
      if (!d.mlDsa) {
        const fixtureKey: JwksKey = { kid: ML_DSA_FIXTURE_KEY.kid, jwk: ML_DSA_FIXTURE_KEY };
        await d.expectSameDecision(ML_DSA_FIXTURE_TOKEN, fixtureKey, 'ML-DSA-65', 'unusable');
        return;
      }
      const pair = d.pairs.get(alg)!;
      const token = await signCompact(pair, alg, { sub: 'alice' });
      await d.expectSameDecision(token, pair.key, alg, 'valid');
      const [header, , encoded] = token.split('.');
      const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url')}.${encoded}`;
      await d.expectSameDecision(forged, pair.key, alg, 'invalid');
      await d.expectSameDecision(token, d.others.get(alg)!.key, alg, 'invalid');
      const signature = signatureOf(token);
      expect(signature.length, ML_DSA_SIZES[alg].signature);
      const flipped = Buffer.from(signature);
      flipped[flipped.length >> 1]! ^= 0x01;
      const otherLength = ML_DSA_SIZES[alg === 'ML-DSA-44' ? 'ML-DSA-65' : 'ML-DSA-44'].signature;
      for (const variant of [
        flipped,
        signature.subarray(0, signature.length - 1),
        Buffer.concat([signature, Buffer.from([0])]),
        Buffer.alloc(signature.length),
        Buffer.alloc(otherLength, 1),
        Buffer.alloc(0),
      ]) {
        await d.expectSameDecision(withSignature(token, variant), pair.key, alg, 'invalid');
      }
      // A key of another parameter set, presented with a token that names this one.
      const other = ML_DSA.find((candidate) => candidate !== alg)!;
      await d.expectSameDecision(token, d.pairs.get(other)!.key, alg, 'unusable');
    },
  })),
  {
    name: 'agree on randomly corrupted tokens',
    async run(d) {
      const samples = await Promise.all(
        (['RS256', 'PS256', 'ES256', 'EdDSA'] as const).map(async (alg) => ({
          alg,
          token: await signCompact(d.pairs.get(alg)!, alg),
        })),
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...samples),
          fc.nat(),
          fc.integer({ min: 1, max: 255 }),
          fc.boolean(),
          async ({ alg, token }, position, mask, inSignature) => {
            const dot = token.lastIndexOf('.');
            let variant: string;
            if (inSignature) {
              const signature = signatureOf(token);
              signature[position % signature.length]! ^= mask;
              variant = withSignature(token, signature);
            } else {
              const payload = Buffer.from(token.slice(token.indexOf('.') + 1, dot), 'base64url');
              payload[position % payload.length]! ^= mask;
              variant = `${token.slice(0, token.indexOf('.'))}.${Buffer.from(payload).toString('base64url')}.${token.slice(dot + 1)}`;
            }
            let parses = true;
            try {
              parseToken(variant);
            } catch {
              parses = false; // both paths only ever see tokens that parse
            }
            if (parses) await d.expectSameDecision(variant, d.pairs.get(alg)!.key, alg, 'invalid');
          },
        ),
        { numRuns: 60 },
      );
    },
  },
];

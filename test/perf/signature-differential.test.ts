import { KeyObject, constants, sign as nodeSign } from 'node:crypto';
import fc from 'fast-check';
import { CompactSign, type CryptoKey, type JWK, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type JwsAlgorithm, SUPPORTED_ALGORITHMS } from '../../src/token/algorithms.js';
import type { JwksKey } from '../../src/token/jwk.js';
import {
  checkSignature as checkWithNode,
  segmentDecoder as nodeDecoder,
} from '../../src/token/signature/node.js';
import type { SignatureCheck } from '../../src/token/signature/types.js';
import { checkSignature as checkWithJose } from '../../src/token/signature/web.js';
import { type SegmentDecoder, decodeBase64Url, portableDecoder } from '../../src/token/segments.js';
import { parseToken } from '../../src/token/parse.js';

// The same tokens through both signature paths (node:crypto on Node, jose elsewhere) must
// get the same decision, whether the node path answers synchronously or on the thread pool.

interface Pair {
  privateKey: CryptoKey;
  key: JwksKey;
}

// Ed25519 is EdDSA under its fully-specified JOSE name: the same keys and signatures.
const ALGORITHMS: JwsAlgorithm[] = SUPPORTED_ALGORITHMS.filter((alg) => alg !== 'Ed25519');
const pairs = new Map<string, Pair>();
const others = new Map<string, Pair>();

async function makePair(alg: string, kid: string): Promise<Pair> {
  const generated = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true });
  const jwk = (await exportJWK(generated.publicKey)) as JWK & { kty: string };
  return { privateKey: generated.privateKey, key: { kid, jwk: { ...jwk, kid } } };
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

async function decisions(token: string, key: JwksKey, alg: JwsAlgorithm) {
  const parsed = parseToken(token);
  // As the verifier on Node parses: the signature bytes come decoded from Node's decoder.
  const parsedOnNode = parseToken(token, undefined, nodeDecoder);
  const jose: SignatureCheck = await checkWithJose(parsed, key, alg);
  const nodeSync = await checkWithNode(parsedOnNode, key, alg, 1);
  const nodePool = await checkWithNode(parsedOnNode, key, alg, 1000);
  return { jose, nodeSync, nodePool };
}

async function expectSameDecision(token: string, key: JwksKey, alg: JwsAlgorithm, expected?: SignatureCheck) {
  const got = await decisions(token, key, alg);
  expect(got.nodeSync, `node (sync) vs jose for ${alg}`).toBe(got.jose);
  expect(got.nodePool, `node (thread pool) vs jose for ${alg}`).toBe(got.jose);
  if (expected) expect(got.jose).toBe(expected);
  return got.jose;
}

beforeAll(async () => {
  for (const alg of ALGORITHMS) {
    pairs.set(alg, await makePair(alg, `${alg}-main`));
    others.set(alg, await makePair(alg, `${alg}-other`));
  }
});

describe('node:crypto and jose signature paths agree', () => {
  it.each(ALGORITHMS)('accept a valid %s token', async (alg) => {
    const pair = pairs.get(alg)!;
    await expectSameDecision(await signCompact(pair, alg), pair.key, alg, 'valid');
  });

  it('accept Ed25519, the fully-specified name for EdDSA', async () => {
    const pair = pairs.get('EdDSA')!;
    const token = await signCompact(pair, 'Ed25519');
    await expectSameDecision(token, pair.key, 'Ed25519', 'valid');
  });

  it.each(ALGORITHMS)('refuse a %s token whose payload was changed', async (alg) => {
    const pair = pairs.get(alg)!;
    const token = await signCompact(pair, alg, { sub: 'alice' });
    const [header, , signature] = token.split('.');
    const forged = `${header}.${Buffer.from(JSON.stringify({ sub: 'mallory' })).toString('base64url')}.${signature}`;
    await expectSameDecision(forged, pair.key, alg, 'invalid');
  });

  it.each(ALGORITHMS)('refuse a %s token checked with another key', async (alg) => {
    await expectSameDecision(await signCompact(pairs.get(alg)!, alg), others.get(alg)!.key, alg, 'invalid');
  });

  it.each(ALGORITHMS)(
    'refuse a %s token with a flipped signature bit, a truncated, an extended and an empty signature',
    async (alg) => {
      const pair = pairs.get(alg)!;
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
        await expectSameDecision(withSignature(token, variant), pair.key, alg, 'invalid');
      }
    },
  );

  it.each(['ES256', 'ES384', 'ES512'] as const)(
    'refuse a %s signature in DER form, and all-zero r and s',
    async (alg) => {
      const pair = pairs.get(alg)!;
      const token = await signCompact(pair, alg);
      const signature = signatureOf(token);
      await expectSameDecision(withSignature(token, derSignature(signature)), pair.key, alg, 'invalid');
      await expectSameDecision(
        withSignature(token, Buffer.alloc(signature.length)),
        pair.key,
        alg,
        'invalid',
      );
    },
  );

  it.each(['ES256', 'ES384', 'ES512'] as const)('decide the same on a high-S %s signature', async (alg) => {
    const pair = pairs.get(alg)!;
    const token = await signCompact(pair, alg);
    await expectSameDecision(withSignature(token, highS(alg, signatureOf(token))), pair.key, alg);
  });

  it('refuse a non-canonical Ed25519 signature (S + L)', async () => {
    const pair = pairs.get('EdDSA')!;
    const token = await signCompact(pair, 'EdDSA');
    await expectSameDecision(
      withSignature(token, nonCanonicalEd25519(signatureOf(token))),
      pair.key,
      'EdDSA',
      'invalid',
    );
  });

  it.each(['PS256', 'PS384', 'PS512'] as const)(
    'accept %s only with a salt as long as the hash',
    async (alg) => {
      const pair = pairs.get(alg)!;
      const pss = (saltLength: number) =>
        signRaw(pair, alg, { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
      await expectSameDecision(pss(Number(alg.slice(2)) / 8), pair.key, alg, 'valid');
      for (const saltLength of [0, 20, constants.RSA_PSS_SALTLEN_MAX_SIGN]) {
        await expectSameDecision(pss(saltLength), pair.key, alg, 'invalid');
      }
    },
  );

  it('refuse an RS256 signature presented as PS256 and the other way round', async () => {
    const rsa = pairs.get('RS256')!;
    const pkcs1 = signRaw(rsa, 'PS256', { padding: constants.RSA_PKCS1_PADDING });
    await expectSameDecision(pkcs1, rsa.key, 'PS256', 'invalid');
    const pss = signRaw(rsa, 'RS256', { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
    await expectSameDecision(pss, rsa.key, 'RS256', 'invalid');
  });

  it('find keys of the wrong type or curve unusable', async () => {
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
      const token = await signCompact(pairs.get(keyAlg)!, keyAlg);
      const retyped = `${Buffer.from(JSON.stringify({ alg, kid: 'x' })).toString('base64url')}.${token.split('.').slice(1).join('.')}`;
      await expectSameDecision(retyped, pairs.get(keyAlg)!.key, alg, 'unusable');
    }
  });

  it('find an EC key whose point is not on the curve unusable', async () => {
    const pair = pairs.get('ES256')!;
    const token = await signCompact(pair, 'ES256');
    const y = Buffer.from(pair.key.jwk.y as string, 'base64url');
    y[y.length - 1]! ^= 0x01;
    const offCurve: JwksKey = { kid: 'off', jwk: { ...pair.key.jwk, y: y.toString('base64url') } };
    await expectSameDecision(token, offCurve, 'ES256', 'unusable');
  });

  it('refuse signatures by RSA keys under 2048 bits', async () => {
    // jose will not generate one; Web Crypto will.
    const generated = await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 1024,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      true,
      ['sign', 'verify'],
    );
    const jwk = (await exportJWK(generated.publicKey)) as JWK & { kty: string };
    const weak: Pair = {
      privateKey: generated.privateKey,
      key: { kid: 'weak', jwk: { ...jwk, kid: 'weak' } },
    };
    await expectSameDecision(signRaw(weak, 'RS256', {}), weak.key, 'RS256', 'invalid');
  });

  it('agree on randomly corrupted tokens', async () => {
    const samples = await Promise.all(
      (['RS256', 'PS256', 'ES256', 'EdDSA'] as const).map(async (alg) => ({
        alg,
        token: await signCompact(pairs.get(alg)!, alg),
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
          if (parses) await expectSameDecision(variant, pairs.get(alg)!.key, alg, 'invalid');
        },
      ),
      { numRuns: 60 },
    );
  });
});

/** What a decoder makes of a segment: its text or bytes, or the error's code and message. */
function outcome(decode: () => unknown): unknown {
  try {
    const value = decode();
    return value instanceof Uint8Array ? { bytes: Buffer.from(value).toString('hex') } : { value };
  } catch (error) {
    return { code: (error as { code?: string }).code, message: (error as Error).message };
  }
}

/** The regular-expression check the decoders must match (RFC 7515 §2), with the messages they give. */
function referenceText(segment: string): unknown {
  const last = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(
    segment.at(-1) ?? 'A',
  );
  const unusedBits = segment.length % 4 === 2 ? 0b1111 : segment.length % 4 === 3 ? 0b11 : 0;
  if (!/^[A-Za-z0-9_-]*$/.test(segment) || segment.length % 4 === 1) {
    return {
      code: 'ERR_TOKEN_MALFORMED',
      message: 'the payload is not base64url (unpadded, alphabet A-Z a-z 0-9 - _)',
    };
  }
  if ((last & unusedBits) !== 0) {
    return {
      code: 'ERR_TOKEN_MALFORMED',
      message: 'the payload is not canonical base64url (non-zero trailing bits)',
    };
  }
  try {
    return { value: new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(segment, 'base64url')) };
  } catch {
    return { code: 'ERR_TOKEN_MALFORMED', message: 'the payload is not valid UTF-8 JSON' };
  }
}

function expectSameSegmentOutcome(segment: string): void {
  const decoders: [string, SegmentDecoder][] = [
    ['portable', portableDecoder],
    ['node', nodeDecoder],
  ];
  const [portable, node] = decoders.map(([, decoder]) => ({
    text: outcome(() => decoder.text(segment, 'payload')),
    signature: outcome(() => decoder.signature(segment) ?? decodeBase64Url(segment, 'signature')),
  }));
  expect(node, JSON.stringify(segment)).toEqual(portable);
  expect(portable!.text, JSON.stringify(segment)).toEqual(referenceText(segment));
}

const segmentOf = (bytes: number[] | string) =>
  Buffer.from(typeof bytes === 'string' ? bytes : Uint8Array.from(bytes)).toString('base64url');

describe('Node and portable segment decoders agree, and with the strict rule', () => {
  it('on canonical, padded, non-canonical and foreign-alphabet base64url', () => {
    const segments = [
      '',
      'A',
      'AA',
      'AAAA ',
      ' AAAA',
      'AAAA=',
      'AAAA\n',
      'AAAAAA=',
      'AB',
      'AAA',
      'AAB',
      'AAAA',
      'AAAAA',
      'AA==',
      'AA=',
      'AAA=',
      '=AA',
      'A=A',
      '====',
      'A A',
      ' AA',
      'AA\n',
      'AA\t',
      'AA\r\n',
      '+/',
      '-_',
      'a+b/',
      '+',
      '/w',
      'AA.A',
      'AA%',
      'é',
      'AAé',
      '\u0000',
      'QQ\u0000',
      'e30',
      'eyJhIjoxfQ',
      'eyJhIjoxfR',
      'eyJhIjoxfQ==',
      'eyJhIjoxfQ=',
      ' eyJhIjoxfQ',
      'eyJhIjox fQ',
      'eyJhIjoxfQ\u00a0',
    ];
    for (const segment of segments) expectSameSegmentOutcome(segment);
  });

  it('on bytes that are not UTF-8, a byte-order mark, NUL and non-ASCII text', () => {
    const byteStrings = [
      [0xff],
      [0xfe, 0xff],
      [0x80],
      [0xc0, 0xaf],
      [0xe0, 0x80, 0x80],
      [0xed, 0xa0, 0x80],
      [0xf4, 0x90, 0x80, 0x80],
      [0xef, 0xbb, 0xbf, 0x7b, 0x7d],
      [0xef, 0xbb, 0xbf],
      [0x00],
      [0x7b, 0x00, 0x7d],
      [0xc3, 0xbc],
      [0xef, 0xbf, 0xbd],
      [0xf0, 0x9f, 0x98, 0x80],
      [0x7f, 0x80],
    ];
    for (const bytes of byteStrings) expectSameSegmentOutcome(segmentOf(bytes));
    expectSameSegmentOutcome(segmentOf('{"name":"Jürgen \u2713 😀"}'));
  });

  it('on random strings and random bytes (property)', () => {
    const char = fc.constantFrom(
      ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \t\né\u0000',
    );
    fc.assert(
      fc.property(fc.array(char, { maxLength: 24 }), (chars) => expectSameSegmentOutcome(chars.join(''))),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.nat(),
        fc.constantFrom('', '=', '==', ' ', '+', '/', 'A', 'B'),
        (bytes, at, insert) => {
          const segment = segmentOf([...bytes]);
          const position = segment.length === 0 ? 0 : at % (segment.length + 1);
          expectSameSegmentOutcome(segment);
          expectSameSegmentOutcome(segment.slice(0, position) + insert + segment.slice(position));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('parse whole tokens the same, hostile ones included', () => {
    const header = segmentOf('{"alg":"ES256","kid":"k"}');
    const payloads = [
      '{"sub":"a","sub":"b"}',
      '{"s\\u0075b":"a","sub":"b"}',
      '{"a":"x,y","b":[1,{"c":2}]}',
      '[1]',
      '"x"',
      '{',
      '\ufeff{"a":1}',
      '{"a":"\u00fc"}',
    ];
    for (const payload of payloads) {
      for (const signature of ['c2ln', 'c2ln=', 'c2lu', '', '+/8']) {
        const token = `${header}.${segmentOf(payload)}.${signature}`;
        const parse = (decoder: SegmentDecoder) =>
          outcome(() => {
            const {
              header: h,
              payload: p,
              signingInput,
              signature: bytes,
            } = parseToken(token, undefined, decoder);
            return JSON.stringify({ h, p, signingInput, bytes: Buffer.from(bytes).toString('hex') });
          });
        expect(parse(nodeDecoder), token).toEqual(parse(portableDecoder));
      }
    }
  });
});

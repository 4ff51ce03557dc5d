/**
 * The segment-decoder half of the differential: the node (Buffer) and portable (atob)
 * decoders must give the same text, bytes or error as each other and as the strict
 * regular-expression rule (RFC 7515 §2). Runtime-neutral, like signature-cases.ts.
 */
import assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import fc from 'fast-check';
import { parseToken } from '../../src/token/parse.js';
import { type SegmentDecoder, decodeBase64Url } from '../../src/token/segments.js';
import type { NamedCheck, SignaturePaths } from './signature/cases.js';

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

function expectSameSegmentOutcome(paths: SignaturePaths, segment: string): void {
  const [portable, node] = [paths.web.segmentDecoder, paths.node.segmentDecoder].map((decoder) => ({
    text: outcome(() => decoder.text(segment, 'payload')),
    signature: outcome(() => decoder.signature(segment) ?? decodeBase64Url(segment, 'signature')),
  }));
  assert.deepStrictEqual(node, portable, `node and portable decoders differ on ${JSON.stringify(segment)}`);
  assert.deepStrictEqual(
    portable!.text,
    referenceText(segment),
    `the portable decoder differs from the strict rule on ${JSON.stringify(segment)}`,
  );
}

const segmentOf = (bytes: number[] | string) =>
  Buffer.from(typeof bytes === 'string' ? bytes : Uint8Array.from(bytes)).toString('base64url');

const HOSTILE_SEGMENTS = [
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

const HOSTILE_BYTES = [
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

/** The node (Buffer) and portable (atob) segment decoders against each other and the strict rule. */
export const SEGMENT_CHECKS: readonly NamedCheck<SignaturePaths>[] = [
  {
    name: 'on canonical, padded, non-canonical and foreign-alphabet base64url',
    run(paths) {
      for (const segment of HOSTILE_SEGMENTS) expectSameSegmentOutcome(paths, segment);
    },
  },
  {
    name: 'on bytes that are not UTF-8, a byte-order mark, NUL and non-ASCII text',
    run(paths) {
      for (const bytes of HOSTILE_BYTES) expectSameSegmentOutcome(paths, segmentOf(bytes));
      expectSameSegmentOutcome(paths, segmentOf('{"name":"Jürgen \u2713 😀"}'));
    },
  },
  {
    name: 'on random strings and random bytes (property)',
    run(paths) {
      const char = fc.constantFrom(
        ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_+/=. \t\né\u0000',
      );
      fc.assert(
        fc.property(fc.array(char, { maxLength: 24 }), (chars) =>
          expectSameSegmentOutcome(paths, chars.join('')),
        ),
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
            expectSameSegmentOutcome(paths, segment);
            expectSameSegmentOutcome(paths, segment.slice(0, position) + insert + segment.slice(position));
          },
        ),
        { numRuns: 2000 },
      );
    },
  },
  {
    name: 'parse whole tokens the same, hostile ones included',
    run(paths) {
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
      const parse = (token: string, decoder: SegmentDecoder) =>
        outcome(() => {
          const { header: h, payload: p, signingInput, signature } = parseToken(token, undefined, decoder);
          return JSON.stringify({ h, p, signingInput, bytes: Buffer.from(signature).toString('hex') });
        });
      for (const payload of payloads) {
        for (const signature of ['c2ln', 'c2ln=', 'c2lu', '', '+/8']) {
          const token = `${header}.${segmentOf(payload)}.${signature}`;
          assert.deepStrictEqual(
            parse(token, paths.node.segmentDecoder),
            parse(token, paths.web.segmentDecoder),
            `node and portable parses differ on ${token}`,
          );
        }
      }
    },
  },
];

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeBase64Url } from '../../src/token/segments.js';
import { decodeUnverified, parseToken } from '../../src/token/parse.js';
import { thrownCode } from '../support/rejections.js';
import { rawSegment, segment } from '../support/tokens.js';

const token = (header: unknown, payload: unknown, signature = 'c2ln') =>
  `${segment(header)}.${segment(payload)}.${signature}`;

describe('parseToken', () => {
  it('splits a compact JWS into header, payload, signing input and signature', () => {
    const parsed = parseToken(token({ alg: 'RS256', kid: 'k1' }, { sub: 'u' }));
    expect(parsed.header).toEqual({ alg: 'RS256', kid: 'k1' });
    expect(parsed.payload).toEqual({ sub: 'u' });
    expect(parsed.signingInput.split('.')).toHaveLength(2);
    expect(new TextDecoder().decode(parsed.signature)).toBe('sig');
  });

  it('hands out a fresh header each time: a caller changing one does not change the next parse', () => {
    const compact = token({ alg: 'RS256', kid: 'shared' }, { sub: 'u' });
    const first = parseToken(compact);
    first.header.kid = 'tampered';
    first.header.extra = true;
    expect(parseToken(compact).header).toEqual({ alg: 'RS256', kid: 'shared' });
    expect(parseToken(compact).header).not.toBe(parseToken(compact).header);
  });

  it('never shares nested header values between parses', () => {
    const compact = token({ alg: 'RS256', kid: 'k', x5c: ['cert'] }, { sub: 'u' });
    (parseToken(compact).header.x5c as string[]).push('injected');
    expect(parseToken(compact).header.x5c).toEqual(['cert']);
  });

  it('still refuses a bad header it has seen before', () => {
    const compact = token({ alg: 'RS256', crit: ['exp'] }, { sub: 'u' });
    expect(thrownCode(() => parseToken(compact))).toBe('ERR_TOKEN_MALFORMED');
    expect(thrownCode(() => parseToken(compact))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('calls a missing token ERR_TOKEN_MISSING and a non-string ERR_TOKEN_MALFORMED', () => {
    expect(thrownCode(() => parseToken(undefined))).toBe('ERR_TOKEN_MISSING');
    expect(thrownCode(() => parseToken(''))).toBe('ERR_TOKEN_MISSING');
    expect(thrownCode(() => parseToken(42))).toBe('ERR_TOKEN_MALFORMED');
    expect(thrownCode(() => parseToken({}))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('refuses the wrong number of parts, and names JWE', () => {
    expect(thrownCode(() => parseToken('a.b'))).toBe('ERR_TOKEN_MALFORMED');
    expect(() => parseToken('a.b.c.d.e')).toThrow(/JWE/);
  });

  it.each([
    ['padding', (t: string) => t.replace(/\.([^.]*)$/, '.c2ln==')],
    ['plus', (t: string) => `+${t}`],
    ['slash', (t: string) => t.replace('.', '/.')],
    ['whitespace', (t: string) => t.replace('.', ' .')],
  ])('decodes base64url strictly: %s is refused', (_name, mutate) => {
    expect(thrownCode(() => parseToken(mutate(token({ alg: 'RS256' }, { a: 1 }))))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('refuses non-canonical base64url (non-zero trailing bits)', () => {
    expect(decodeBase64Url('AA', 'x')).toEqual(new Uint8Array([0]));
    expect(thrownCode(() => decodeBase64Url('AB', 'x'))).toBe('ERR_TOKEN_MALFORMED');
    expect(thrownCode(() => decodeBase64Url('A', 'x'))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('refuses headers and payloads that are not JSON objects', () => {
    expect(thrownCode(() => parseToken(`${segment([1])}.${segment({})}.c2ln`))).toBe('ERR_TOKEN_MALFORMED');
    expect(thrownCode(() => parseToken(`${segment({ alg: 'RS256' })}.${segment('x')}.c2ln`))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
    expect(
      thrownCode(() => parseToken(`${Buffer.from('{no').toString('base64url')}.${segment({})}.c2ln`)),
    ).toBe('ERR_TOKEN_MALFORMED');
    expect(
      thrownCode(() => parseToken(`${Buffer.from([0xff, 0xfe]).toString('base64url')}.${segment({})}.c2ln`)),
    ).toBe('ERR_TOKEN_MALFORMED');
  });

  it('refuses a header without alg, a non-string kid or typ, crit and b64:false', () => {
    expect(thrownCode(() => parseToken(token({}, {})))).toBe('ERR_TOKEN_MALFORMED');
    expect(thrownCode(() => parseToken(token({ alg: 'RS256', kid: 7 }, {})))).toBe('ERR_TOKEN_MALFORMED');
    expect(thrownCode(() => parseToken(token({ alg: 'RS256', typ: 1 }, {})))).toBe('ERR_TOKEN_MALFORMED');
    expect(() => parseToken(token({ alg: 'RS256', crit: ['exp'] }, {}))).toThrow(/critical/);
    expect(thrownCode(() => parseToken(token({ alg: 'RS256', b64: false }, {})))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('refuses tokens longer than the limit before decoding them', () => {
    const long = token({ alg: 'RS256' }, { pad: 'x'.repeat(200) });
    expect(thrownCode(() => parseToken(long, 100))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('never puts the token into an error message', () => {
    const secretish = token({ alg: 'RS256' }, { secret: 'hunter2' }).replace(/\.[^.]*$/, '.!!!');
    try {
      parseToken(secretish);
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).not.toContain(secretish.split('.')[1]);
    }
  });

  it('refuses an empty part count and extra dots anywhere', () => {
    const good = token({ alg: 'RS256' }, { a: 1 });
    for (const bad of ['.', '..', `${good}.`, `.${good}`, good.replace('.', '..'), `${good}.x.y`]) {
      expect(
        thrownCode(() => parseToken(bad)),
        bad,
      ).toBe('ERR_TOKEN_MALFORMED');
    }
  });

  it.each([
    ['a plain duplicate', '{"a":1,"b":2,"a":3}'],
    ['a duplicate through an escape', '{"a":1,"\\u0061":2}'],
    ['a duplicate after an escaped quote in a value', '{"a":"x\\"y","a":1}'],
    ['__proto__ twice', '{"__proto__":1,"__proto__":2}'],
    ['a duplicate with whitespace around', '{ "a" : 1 ,\n "a" : [1, {"b": 2}] }'],
    [
      'a duplicate after values holding commas, quotes and brackets',
      '{"s":"a,b}]{[","t":[1,2,{"u":"v,w"}],"s":0}',
    ],
  ])('refuses a payload with %s', (_name, text) => {
    expect(thrownCode(() => parseToken(`${segment({ alg: 'RS256' })}.${rawSegment(text)}.c2ln`))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('accepts duplicates nested in claim values and names that recur as values', () => {
    const text = '{"a":{"x":1,"x":2},"b":[{"x":1},{"x":2}],"c":"a","d":"\\"a\\"","e":"\\u0061"}';
    expect(parseToken(`${segment({ alg: 'RS256' })}.${rawSegment(text)}.c2ln`).payload).toEqual(
      JSON.parse(text),
    );
  });

  it('refuses exactly the payloads that repeat a top-level member name (property)', () => {
    const name = fc.constantFrom('a', 'b', '__proto__', '\\u0061', 'a\\"', ',', '}', 'x y');
    const value = fc.constantFrom(
      '1',
      '"a"',
      '"a,b"',
      '"\\\\"',
      '{"a":1,"a":2}',
      '[1,{"b":"}"}]',
      'null',
      '"\\""',
    );
    const member = fc.tuple(name, value, fc.constantFrom('', ' ', '\n'));
    fc.assert(
      fc.property(fc.array(member, { maxLength: 6 }), (members) => {
        const text = `{${members.map(([n, v, space]) => `${space}"${n}"${space}:${space}${v}`).join(',')}}`;
        const names = members.map(([n]) => JSON.parse(`"${n}"`) as string);
        const repeats = new Set(names).size !== names.length;
        const code = thrownCode(() => parseToken(`${segment({ alg: 'RS256' })}.${rawSegment(text)}.c2ln`));
        expect(code, text).toBe(repeats ? 'ERR_TOKEN_MALFORMED' : 'ok');
      }),
      { numRuns: 500 },
    );
  });

  it('decodeUnverified returns header and payload', () => {
    expect(decodeUnverified(token({ alg: 'ES256' }, { iss: 'i' })).payload.iss).toBe('i');
  });
});

import { base64url } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { useSecurityIssuer, verifierWithJwks } from './helpers.js';
import { rejectionCode } from '../support/rejections.js';
import { segment } from '../support/tokens.js';

const issuer = useSecurityIssuer(['ES256', 'RS256', 'EdDSA']);
let token: string;
let other: string;

beforeAll(async () => {
  token = await issuer.sign({ sub: 'user-1', scope: 'read' }, { alg: 'ES256' });
  other = await issuer.sign({ sub: 'admin', scope: 'read write admin' }, { alg: 'ES256' });
});

function parts(jwt: string): [string, string, string] {
  return jwt.split('.') as [string, string, string];
}

function decoded(encoded: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64url.decode(encoded))) as Record<string, unknown>;
}

function verifier() {
  return verifierWithJwks(() => issuer.jwks(), { cache: { cooldownMs: 0 } }).verifier;
}

describe('tampered tokens', () => {
  it('verifies the untouched token (control)', async () => {
    await expect(verifier().verify(token)).resolves.toMatchObject({ payload: { sub: 'user-1' } });
  });

  it.each([
    [
      'the payload re-encoded with another sub',
      (h: string, p: string, s: string) => `${h}.${segment({ ...decoded(p), sub: 'admin' })}.${s}`,
    ],
    [
      'the payload re-encoded with more scope',
      (h: string, p: string, s: string) =>
        `${h}.${segment({ ...decoded(p), scope: 'read write admin' })}.${s}`,
    ],
    [
      'the payload re-encoded with a later exp',
      (h: string, p: string, s: string) =>
        `${h}.${segment({ ...decoded(p), exp: (decoded(p).exp as number) + 86_400 })}.${s}`,
    ],
    ['the payload of another token', (h: string, _p: string, s: string) => `${h}.${parts(other)[1]}.${s}`],
    [
      'the header re-encoded with another typ',
      (h: string, p: string, s: string) => `${segment({ ...decoded(h), typ: 'at+jwt' })}.${p}.${s}`,
    ],
    [
      'the header re-encoded with an extra member',
      (h: string, p: string, s: string) => `${segment({ ...decoded(h), x: 1 })}.${p}.${s}`,
    ],
    [
      'the header re-encoded with its members reordered',
      (h: string, p: string, s: string) =>
        `${segment(Object.fromEntries(Object.entries(decoded(h)).reverse()))}.${p}.${s}`,
    ],
    ['the signature of another token', (h: string, p: string) => `${h}.${p}.${parts(other)[2]}`],
    [
      'one signature bit flipped',
      (h: string, p: string, s: string) => {
        const bytes = base64url.decode(s);
        bytes[10]! ^= 0x80;
        return `${h}.${p}.${base64url.encode(bytes)}`;
      },
    ],
    ['the signature emptied', (h: string, p: string) => `${h}.${p}.`],
    [
      'the signature truncated by one byte',
      (h: string, p: string, s: string) => `${h}.${p}.${base64url.encode(base64url.decode(s).slice(0, -1))}`,
    ],
    [
      'the signature extended by one byte',
      (h: string, p: string, s: string) =>
        `${h}.${p}.${base64url.encode(new Uint8Array([...base64url.decode(s), 0]))}`,
    ],
  ])('refuses %s with ERR_SIGNATURE_INVALID', async (_name, tamper) => {
    const [h, p, s] = parts(token);
    expect(await rejectionCode(verifier().verify(tamper(h, p, s)))).toBe('ERR_SIGNATURE_INVALID');
  });

  it.each([
    [
      'header alg switched to RS256 (kid is an EC key)',
      (h: string, p: string, s: string) => `${segment({ ...decoded(h), alg: 'RS256' })}.${p}.${s}`,
    ],
    [
      'header alg switched to EdDSA',
      (h: string, p: string, s: string) => `${segment({ ...decoded(h), alg: 'EdDSA' })}.${p}.${s}`,
    ],
    [
      'header kid switched to another published key',
      (h: string, p: string, s: string) =>
        `${segment({ ...decoded(h), kid: issuer.keys.find((k) => k.alg === 'RS256')!.kid })}.${p}.${s}`,
    ],
  ])('refuses %s with ERR_KEY_NOT_FOUND', async (_name, tamper) => {
    const [h, p, s] = parts(token);
    expect(await rejectionCode(verifier().verify(tamper(h, p, s)))).toBe('ERR_KEY_NOT_FOUND');
  });

  it.each([
    ['the payload and signature swapped', (h: string, p: string, s: string) => `${h}.${s}.${p}`],
    ['the header and payload swapped', (h: string, p: string, s: string) => `${p}.${h}.${s}`],
    ['a padded signature', (h: string, p: string, s: string) => `${h}.${p}.${s}==`],
    [
      'the signature in standard base64',
      (h: string, p: string, s: string) => `${h}.${p}.${Buffer.from(base64url.decode(s)).toString('base64')}`,
    ],
    [
      'a space inside the payload',
      (h: string, p: string, s: string) => `${h}.${p.slice(0, 5)} ${p.slice(5)}.${s}`,
    ],
    ['an extra dot', (h: string, p: string, s: string) => `${h}..${p}.${s}`],
  ])('refuses %s with ERR_TOKEN_MALFORMED', async (_name, tamper) => {
    const [h, p, s] = parts(token);
    expect(await rejectionCode(verifier().verify(tamper(h, p, s)))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('refuses a signature with non-zero trailing bits (a second encoding of the same bytes)', async () => {
    const [h, p, s] = parts(token);
    // 64 signature bytes: 86 characters whose last one carries 4 unused bits.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1)!);
    const twin = `${s.slice(0, -1)}${alphabet[last | 0b0001]}`;
    expect(twin).not.toBe(s);
    expect(base64url.decode(twin)).toEqual(base64url.decode(s));
    expect(await rejectionCode(verifier().verify(`${h}.${p}.${twin}`))).toBe('ERR_TOKEN_MALFORMED');
  });
});

import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { createPkcePair } from '../../src/pkce/index.js';
import { RFC7636_CHALLENGE, RFC7636_VERIFIER } from './fixtures.js';
import { caught } from '../support/rejections.js';

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~';

describe('createPkcePair', () => {
  it('derives the RFC 7636 Appendix B challenge from its verifier', async () => {
    const pair = await createPkcePair(RFC7636_VERIFIER);
    expect(pair).toEqual({
      codeVerifier: RFC7636_VERIFIER,
      codeChallenge: RFC7636_CHALLENGE,
      codeChallengeMethod: 'S256',
    });
  });

  it('creates a 43-character base64url verifier and its S256 challenge', async () => {
    const pair = await createPkcePair();
    expect(pair.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(pair.codeChallengeMethod).toBe('S256');
    expect(pair.codeChallenge).toBe(createHash('sha256').update(pair.codeVerifier).digest('base64url'));
  });

  it('takes the verifier bytes from crypto.getRandomValues', async () => {
    const spy = vi.spyOn(globalThis.crypto, 'getRandomValues');
    const pair = await createPkcePair();
    expect(spy).toHaveBeenCalledTimes(1);
    const bytes = spy.mock.results[0]!.value as Uint8Array;
    expect(bytes.byteLength).toBe(32);
    expect(Buffer.from(bytes).toString('base64url')).toBe(pair.codeVerifier);
  });

  it('creates a different verifier every time', async () => {
    const verifiers = new Set(
      await Promise.all(Array.from({ length: 50 }, async () => (await createPkcePair()).codeVerifier)),
    );
    expect(verifiers.size).toBe(50);
  });

  it('derives the SHA-256 base64url challenge of any valid verifier', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ unit: fc.constantFrom(...UNRESERVED), minLength: 43, maxLength: 128 }),
        async (verifier) => {
          const pair = await createPkcePair(verifier);
          expect(pair.codeChallenge).toBe(createHash('sha256').update(verifier).digest('base64url'));
          expect(pair.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
        },
      ),
      { numRuns: 200 },
    );
  });

  it.each([
    ['42 characters', 'a'.repeat(42), /got 42 characters/],
    ['129 characters', 'a'.repeat(129), /got 129 characters/],
    ['a "+"', `${'a'.repeat(42)}+`, /outside that set/],
    ['a "/"', `${'a'.repeat(42)}/`, /outside that set/],
    ['padding', `${'a'.repeat(42)}=`, /outside that set/],
    ['a space', `${'a'.repeat(42)} `, /outside that set/],
    ['a non-ASCII letter', `${'a'.repeat(42)}é`, /outside that set/],
    ['the empty string', '', /got 0 characters/],
  ])('refuses a verifier with %s', async (_label, verifier, message) => {
    const error = await caught(() => createPkcePair(verifier));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/43 to 128 characters .*RFC 7636/);
    expect(error.message).toMatch(message);
  });

  it('never echoes a refused verifier', async () => {
    const verifier = `${'s3cret'.repeat(8)}!`;
    const error = await caught(() => createPkcePair(verifier));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).not.toContain('s3cret');
  });

  it('accepts the 43 and 128 character bounds', async () => {
    await expect(createPkcePair('~'.repeat(43))).resolves.toMatchObject({ codeVerifier: '~'.repeat(43) });
    await expect(createPkcePair('.'.repeat(128))).resolves.toMatchObject({ codeVerifier: '.'.repeat(128) });
  });

  it('explains a missing crypto.subtle (insecure browser context)', async () => {
    vi.stubGlobal('crypto', { getRandomValues: globalThis.crypto.getRandomValues.bind(globalThis.crypto) });
    const error = await caught(() => createPkcePair());
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toMatch(/crypto\.subtle.*https:/);
  });
});

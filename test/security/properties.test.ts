import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { base64url } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { discoveryUrls } from '../../src/issuer/discovery.js';
import { createPkcePair } from '../../src/pkce/pkce.js';
import { createTestIssuer } from '../../src/testing/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import type { JwtVerifier } from '../../src/verify/verifier.js';
import { AUDIENCE, ISSUER, verifierWithJwks } from './helpers.js';
import { rejectionCode } from '../support/rejections.js';
import { segment } from '../support/tokens.js';

// Modest run counts: the whole suite shares two cores. A failure prints its seed for replay.
const RUNS = 100;

let issuer: TestIssuer;
let token: string;
let verifier: JwtVerifier;

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256', 'EdDSA'] });
  token = await issuer.sign({ sub: 'user-1', scope: 'read' }, { alg: 'ES256' });
  verifier = verifierWithJwks(() => issuer.jwks(), { cache: { cooldownMs: 0 } }).verifier;
  await verifier.verify(token);
});

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const TOKEN_CHARS = `${BASE64URL}.=+/ `;

/** One edit of a token: replace, insert or delete a character, or cut it short. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('replace' as const), at: fc.nat(), char: fc.constantFrom(...TOKEN_CHARS) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), char: fc.constantFrom(...TOKEN_CHARS) }),
  fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
);

type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(input: string, edits: Mutation[]): string {
  let result = input;
  for (const edit of edits) {
    const at = edit.at % (result.length + 1);
    if (edit.kind === 'replace') result = result.slice(0, at) + edit.char + result.slice(at + 1);
    else if (edit.kind === 'insert') result = result.slice(0, at) + edit.char + result.slice(at);
    else if (edit.kind === 'delete') result = result.slice(0, at) + result.slice(at + 1);
    else result = result.slice(0, at);
  }
  return result;
}

describe('property: random mutations of a valid token never verify', () => {
  it('any one to three edits anywhere in the token are refused with a contract code', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (edits) => {
        const mutated = mutate(token, edits);
        fc.pre(mutated !== token);
        const code = await rejectionCode(verifier.verify(mutated));
        expect(code).not.toBe('resolved');
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('any single flipped bit in the decoded header, payload or signature is refused', async () => {
    const parts = token.split('.');
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 2 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (part, at, bit) => {
          const bytes = base64url.decode(parts[part]!);
          bytes[at % bytes.length]! ^= 1 << bit;
          const edited = [...parts];
          edited[part] = base64url.encode(bytes);
          const code = await rejectionCode(verifier.verify(edited.join('.')));
          expect(code).not.toBe('resolved');
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('any re-encoded payload with one claim changed is refused with ERR_SIGNATURE_INVALID', async () => {
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload))) as Record<string, unknown>;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('sub', 'scope', 'aud', 'jti', 'role'),
        fc.string({ minLength: 1 }),
        async (name, value) => {
          fc.pre(claims[name] !== value);
          const forged = `${header}.${segment({ ...claims, [name]: value })}.${signature}`;
          expect(await rejectionCode(verifier.verify(forged))).toBe('ERR_SIGNATURE_INVALID');
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe('property: arbitrary input only ever rejects with a JwtVerifyError', () => {
  it('random strings', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 300 }), async (input) => {
        expect(await rejectionCode(verifier.verify(input))).not.toBe('resolved');
        expect(await rejectionCode(verifier.verifyAuthorizationHeader(`Bearer ${input}`))).not.toBe(
          'resolved',
        );
      }),
      { numRuns: RUNS },
    );
  });

  it('random bytes, as base64url segments and as latin-1 text', async () => {
    const bytes = fc.uint8Array({ maxLength: 200 });
    await fc.assert(
      fc.asyncProperty(bytes, bytes, bytes, async (a, b, c) => {
        const segments = [a, b, c].map((part) => base64url.encode(part)).join('.');
        expect(await rejectionCode(verifier.verify(segments))).not.toBe('resolved');
        expect(await rejectionCode(verifier.verify(Buffer.from(a).toString('latin1')))).not.toBe('resolved');
      }),
      { numRuns: RUNS },
    );
  });

  it('random JSON headers and payloads with a random signature', async () => {
    const header = fc.record(
      {
        alg: fc.oneof(fc.constantFrom('ES256', 'EdDSA', 'RS256', 'none', 'HS256'), fc.jsonValue()),
        kid: fc.oneof(fc.constant(issuer.keys[0]!.kid), fc.jsonValue()),
        typ: fc.jsonValue(),
        crit: fc.jsonValue(),
        b64: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    const payload = fc.dictionary(
      fc.constantFrom('iss', 'aud', 'exp', 'nbf', 'iat', 'sub', 'scope', 'scp', '__proto__', 'constructor'),
      fc.jsonValue(),
    );
    await fc.assert(
      fc.asyncProperty(header, payload, fc.uint8Array({ maxLength: 80 }), async (h, p, signature) => {
        const forged = `${segment(h)}.${segment(p)}.${base64url.encode(signature)}`;
        expect(await rejectionCode(verifier.verify(forged))).not.toBe('resolved');
      }),
      { numRuns: RUNS },
    );
  });

  it('non-string values', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (value) => {
        fc.pre(typeof value !== 'string');
        expect(await rejectionCode(verifier.verify(value as string))).not.toBe('resolved');
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: discovery URLs round-trip (RFC 8414 §3.1, OpenID Connect Discovery §4)', () => {
  const WELL_KNOWN = '/.well-known/oauth-authorization-server';
  const issuers = fc
    .tuple(
      fc.domain(),
      fc.option(fc.integer({ min: 1, max: 65_535 }), { nil: undefined }),
      fc.array(fc.webSegment(), { maxLength: 4 }),
      fc.boolean(),
    )
    .map(([host, port, segments, trailingSlash]) => {
      const href = new URL(`https://${host}${port ? `:${port}` : ''}/${segments.join('/')}`).href;
      // The URL parser writes an empty path as "/"; issuers have no path, a path, or end in "/".
      return trailingSlash ? href : href.replace(/\/$/, '');
    });

  it('puts the RFC 8414 well-known segment between host and path, and removing it gives the issuer back', () => {
    fc.assert(
      fc.property(issuers, (issuer) => {
        const [oauth] = discoveryUrls(issuer, 'oauth');
        const url = new URL(oauth!.url);
        const expected = new URL(issuer);
        expect(oauth!.kind).toBe('oauth');
        expect(url.origin).toBe(expected.origin);
        expect(url.pathname.startsWith(WELL_KNOWN)).toBe(true);
        expect(url.search).toBe('');
        const back = `${url.origin}${url.pathname.slice(WELL_KNOWN.length)}`;
        // RFC 8414 §3.1: a terminating "/" of the issuer is removed before the insertion.
        expect(back).toBe(issuer.replace(/\/+$/, ''));
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('appends the OpenID Connect well-known segment to the issuer, after the RFC 8414 one in auto mode', () => {
    fc.assert(
      fc.property(issuers, (issuer) => {
        const candidates = discoveryUrls(issuer, 'auto');
        const [oauth] = candidates;
        const oidc = candidates.at(-1);
        const path = new URL(issuer).pathname.replace(/\/+$/, '');
        expect(oauth!.kind).toBe('oauth');
        expect(oidc!.kind).toBe('oidc');
        expect(oidc!.url).toBe(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`);
        expect(new URL(oidc!.url).origin).toBe(new URL(issuer).origin);
        // With a path, the MCP order puts the OIDC document inserted RFC 8414-style between.
        expect(candidates.slice(1, -1)).toEqual(
          path
            ? [{ kind: 'oidc', url: `${new URL(issuer).origin}/.well-known/openid-configuration${path}` }]
            : [],
        );
      }),
      { numRuns: RUNS * 2 },
    );
  });
});

describe('property: PKCE verifiers satisfy RFC 7636 §4.1–4.2', () => {
  const UNRESERVED = /^[A-Za-z0-9\-._~]{43,128}$/;
  const s256 = (verifier: string) => createHash('sha256').update(verifier, 'ascii').digest('base64url');

  it('every generated verifier is 43–128 unreserved characters and its challenge is BASE64URL(SHA-256)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constant(null), async () => {
        const pair = await createPkcePair();
        expect(pair.codeVerifier).toMatch(UNRESERVED);
        expect(pair.codeChallengeMethod).toBe('S256');
        expect(pair.codeChallenge).toBe(s256(pair.codeVerifier));
        expect(pair.codeChallenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
      }),
      { numRuns: RUNS },
    );
  });

  it('any given valid verifier keeps its value and gets the S256 challenge', async () => {
    const verifiers = fc.string({
      unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'),
      minLength: 43,
      maxLength: 128,
    });
    await fc.assert(
      fc.asyncProperty(verifiers, async (verifier) => {
        const pair = await createPkcePair(verifier);
        expect(pair.codeVerifier).toBe(verifier);
        expect(pair.codeChallenge).toBe(s256(verifier));
      }),
      { numRuns: RUNS },
    );
  });

  it('any verifier of the wrong length or with another character is refused with a coded TypeError', async () => {
    const tooShortOrLong = fc.oneof(
      fc.string({ maxLength: 42 }),
      fc.string({ minLength: 129, maxLength: 200 }),
    );
    const badCharacter = fc
      .tuple(
        fc.string({ minLength: 43, maxLength: 127 }),
        fc.constantFrom('+', '/', '=', ' ', '%', 'é', '\u0000'),
      )
      .map(([text, bad]) => `${bad}${text}`.slice(0, 128));
    await fc.assert(
      fc.asyncProperty(fc.oneof(tooShortOrLong, badCharacter), async (verifier) => {
        fc.pre(!UNRESERVED.test(verifier));
        await expect(createPkcePair(verifier)).rejects.toMatchObject({
          name: 'TypeError',
          code: 'ERR_INVALID_ARGUMENT',
        });
      }),
      { numRuns: RUNS },
    );
  });
});

// Attacks on a DPoP API (RFC 9449 §11): a thief holding a stolen DPoP-bound token, a captured
// proof, forged proofs (keys, algorithms, headers), floods meant to fill the replay store,
// and random edits of a valid proof. Each refused with its code; controls accept the genuine
// request. The stub issuer is reached through its in-process fetch.
import fc from 'fast-check';
import { type GenerateKeyPairResult, exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type DpopReplayStore,
  JwtVerifier,
  type JwtVerifierOptions,
  createMemoryDpopReplayStore,
} from '../../src/index.js';
import {
  type TestIssuer,
  createDpopProof,
  createTestIssuer,
  dpopThumbprint,
} from '../../src/testing/index.js';
import { AUDIENCE } from './helpers.js';
import { rejectionCode } from '../support/rejections.js';
import { segment, signSegments, weakRsaKeyPair } from '../support/tokens.js';

const URL_ = `${AUDIENCE}/orders`;

let issuer: TestIssuer;
let key: GenerateKeyPairResult;
let thief: GenerateKeyPairResult;
let token: string;

beforeAll(async () => {
  [issuer, key, thief] = await Promise.all([
    createTestIssuer({ audience: AUDIENCE }),
    generateKeyPair('ES256', { extractable: true }),
    generateKeyPair('ES256', { extractable: true }),
  ]);
  token = await issuer.sign({ sub: 'victim' }, { dpopJkt: await dpopThumbprint(key) });
});

function verifier(options: Partial<JwtVerifierOptions> = {}): JwtVerifier {
  return new JwtVerifier({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    fetch: issuer.fetch,
    dpop: {},
    ...options,
  });
}

const proofWith = (options: Partial<Parameters<typeof createDpopProof>[0]> = {}) =>
  createDpopProof({ key, method: 'GET', url: URL_, accessToken: token, ...options });

function request(proof: string | undefined, { url = URL_, method = 'GET', scheme = 'DPoP' } = {}): Request {
  const headers: Record<string, string> = { authorization: `${scheme} ${token}` };
  if (proof !== undefined) headers.dpop = proof;
  return new Request(url, { method, headers });
}

describe('a thief with a stolen DPoP-bound token', () => {
  it('is refused when it sends the token as Bearer', async () => {
    expect(await rejectionCode(verifier().verifyRequest(request(undefined, { scheme: 'Bearer' })))).toBe(
      'ERR_DPOP_BINDING',
    );
  });

  it('is refused when it signs a proof with its own key', async () => {
    expect(await rejectionCode(verifier().verifyRequest(request(await proofWith({ key: thief }))))).toBe(
      'ERR_DPOP_BINDING',
    );
  });

  it('is refused when it puts the victim’s public key in the header of a proof it signed', async () => {
    const proof = await proofWith({ key: thief, header: { jwk: await exportJWK(key.publicKey) } });
    expect(await rejectionCode(verifier().verifyRequest(request(proof)))).toBe('ERR_DPOP_PROOF_INVALID');
  });

  it('verifies the genuine request (control)', async () => {
    expect((await verifier().verifyRequest(request(await proofWith()))).payload.sub).toBe('victim');
  });
});

describe('a captured proof', () => {
  it('is refused when replayed to the same URL', async () => {
    const v = verifier();
    const proof = await proofWith();
    await v.verifyRequest(request(proof));
    expect(await rejectionCode(v.verifyRequest(request(proof)))).toBe('ERR_DPOP_PROOF_INVALID');
  });

  it.each([
    ['another route', { url: `${AUDIENCE}/admin` }],
    ['another host', { url: 'https://other.test/orders' }],
    ['another scheme', { url: 'http://api.test/orders' }],
    ['another port', { url: 'https://api.test:8443/orders' }],
    ['another method', { method: 'DELETE' }],
  ])('is refused when replayed to %s', async (_, target) => {
    const proof = await proofWith();
    expect(await rejectionCode(verifier().verifyRequest(request(proof, target)))).toBe(
      'ERR_DPOP_PROOF_INVALID',
    );
  });

  it('is refused once its iat window has passed', async () => {
    const proof = await proofWith();
    const later = verifier({ now: () => Date.now() + 306_000 });
    expect(await rejectionCode(later.verifyRequest(request(proof)))).toBe('ERR_DPOP_PROOF_INVALID');
  });

  it('made for another token is refused with this one (ath)', async () => {
    const other = await issuer.sign({ sub: 'victim', scope: 'more' }, { dpopJkt: await dpopThumbprint(key) });
    const proof = await proofWith({ accessToken: other });
    expect(await rejectionCode(verifier().verifyRequest(request(proof)))).toBe('ERR_DPOP_PROOF_INVALID');
  });
});

describe('forged proofs', () => {
  it.each([
    ['alg none, no signature', async () => proofWith({ header: { alg: 'none' } })],
    [
      'HS256 keyed with the public JWK',
      async () => {
        const jwk = JSON.stringify(await exportJWK(key.publicKey));
        const hmac = await crypto.subtle.importKey(
          'raw',
          new TextEncoder().encode(jwk),
          { name: 'HMAC', hash: 'SHA-256' },
          false,
          ['sign'],
        );
        return createDpopProof({
          key: { privateKey: hmac, publicKey: key.publicKey },
          method: 'GET',
          url: URL_,
          accessToken: token,
        });
      },
    ],
    ['a private jwk', async () => proofWith({ header: { jwk: await exportJWK(key.privateKey) } })],
    ['a symmetric (oct) jwk', async () => proofWith({ header: { jwk: { kty: 'oct', k: 'c2VjcmV0' } } })],
    [
      'a 1024-bit RSA key',
      async () => {
        return createDpopProof({ key: await weakRsaKeyPair(), method: 'GET', url: URL_, accessToken: token });
      },
    ],
    ['a jwk of another curve than alg', async () => proofWith({ header: { alg: 'ES384' } })],
    ['a crit header', async () => proofWith({ header: { crit: ['exp'], exp: 1 } })],
    ['typ at+jwt (an access token as a proof)', async () => proofWith({ header: { typ: 'at+jwt' } })],
    [
      'a jku instead of a jwk',
      async () => proofWith({ header: { jwk: undefined, jku: 'https://attacker.test/jwks' } }),
    ],
    ['an htu with userinfo', async () => proofWith({ claims: { htu: 'https://user@api.test/orders' } })],
    ['an htu that is not http(s)', async () => proofWith({ claims: { htu: 'ftp://api.test/orders' } })],
    ['a jti of 10 000 characters', async () => proofWith({ jti: 'j'.repeat(10_000) })],
    ['a proof over 8 KiB', async () => proofWith({ claims: { pad: 'x'.repeat(9000) } })],
    [
      'a duplicate htu member',
      async () => {
        const header = segment({ typ: 'dpop+jwt', alg: 'ES256', jwk: await exportJWK(key.publicKey) });
        const payload = Buffer.from(
          `{"jti":"d1","htm":"GET","htu":"https://api.test/admin","htu":"${URL_}","iat":${Math.floor(Date.now() / 1000)}}`,
        ).toString('base64url');
        return signSegments(header, payload, key.privateKey as CryptoKey);
      },
    ],
  ])('refuses %s with ERR_DPOP_PROOF_INVALID', async (_, make) => {
    expect(await rejectionCode(verifier().verifyRequest(request(await make())))).toBe(
      'ERR_DPOP_PROOF_INVALID',
    );
  });
});

describe('floods', () => {
  it('never records proofs for keys bound to no token: the replay store sees only accepted ones', async () => {
    const keys: string[] = [];
    const recording: DpopReplayStore = {
      async remember(replayKey) {
        keys.push(replayKey);
        return true;
      },
    };
    const v = verifier({ dpop: { replay: recording } });
    for (let i = 0; i < 20; i++) {
      expect(await rejectionCode(v.verifyRequest(request(await proofWith({ key: thief }))))).toBe(
        'ERR_DPOP_BINDING',
      );
    }
    expect(keys).toEqual([]);
    await v.verifyRequest(request(await proofWith()));
    expect(keys).toHaveLength(1);
  });

  it('keeps remembering the newest proofs within the store’s max under a flood of valid ones', async () => {
    const v = verifier({ dpop: { replay: createMemoryDpopReplayStore({ max: 50 }) } });
    const proofs: string[] = [];
    for (let i = 0; i < 120; i++) {
      const proof = await proofWith();
      proofs.push(proof);
      await v.verifyRequest(request(proof));
    }
    // The latest 50 are still refused as replays; older ones were forgotten (bounded memory).
    for (const proof of proofs.slice(-50)) {
      expect(await rejectionCode(v.verifyRequest(request(proof)))).toBe('ERR_DPOP_PROOF_INVALID');
    }
  });
});

describe('property: random edits of a valid proof never verify', () => {
  it('any one to three character edits of the proof are refused with a contract code', async () => {
    const v = verifier();
    const proof = await proofWith();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.tuple(fc.nat({ max: proof.length - 1 }), fc.constantFrom(...'AQgw_-.x')), {
          minLength: 1,
          maxLength: 3,
        }),
        async (edits) => {
          let mutated = proof;
          for (const [at, char] of edits) mutated = mutated.slice(0, at) + char + mutated.slice(at + 1);
          fc.pre(mutated !== proof);
          const code = await rejectionCode(v.verifyRequest(request(mutated)));
          expect(code).not.toBe('resolved');
        },
      ),
      { numRuns: 100 },
    );
  });
});

// ML-DSA (RFC 9964) through the verifier: verified where the runtime has the primitive
// (Node.js 24.7+), refused with ERR_ALG_NOT_ALLOWED naming what the runtime lacks elsewhere
// (Node.js 20, 22). Each behaviour is asserted on the runtime it belongs to, never skipped.
import { http, HttpResponse } from 'msw';
import { describe, expect, it } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions } from '../../src/index.js';
import { createTestIssuer } from '../../src/testing/index.js';
import { jwkUnusableReason, keyFitsAlgorithm } from '../../src/token/jwk.js';
import {
  ML_DSA_FIXTURE_IAT,
  ML_DSA_FIXTURE_JWKS,
  ML_DSA_FIXTURE_KEY,
  ML_DSA_FIXTURE_TOKEN,
  RUNTIME_HAS_ML_DSA,
} from '../support/ml-dsa-fixture.js';
import { recordRequests, useMsw, useMswIssuer } from '../support/msw.js';
import { caught, expectRejection } from '../support/rejections.js';

const LACKS = new RegExp(
  `^the token is signed with ML-DSA-65, which this runtime cannot verify: ML-DSA-65 needs Node\\.js 24\\.7 or later \\(node:crypto ML-DSA\\); this is Node\\.js ${process.versions.node.replace(/\./g, '\\.')}$`,
);

const FIXTURE_JWKS_URI = 'https://pq-issuer.test/jwks';
const fixtureKey = ML_DSA_FIXTURE_KEY;

describe('a fixed ML-DSA-65 token (signed once with Node.js 24)', () => {
  const server = useMsw();
  const fixtureVerifier = (options: Partial<JwtVerifierOptions> = {}) =>
    new JwtVerifier({
      issuer: 'https://issuer.test',
      audience: 'https://api.test',
      jwksUri: FIXTURE_JWKS_URI,
      now: () => (ML_DSA_FIXTURE_IAT + 60) * 1000,
      ...options,
    });
  const serveJwks = () => {
    server.use(http.get(FIXTURE_JWKS_URI, () => HttpResponse.json(ML_DSA_FIXTURE_JWKS)));
    return recordRequests(server);
  };

  if (RUNTIME_HAS_ML_DSA) {
    it('verifies with the default algorithms on this runtime (node:crypto has ML-DSA)', async () => {
      serveJwks();
      const { payload, header } = await fixtureVerifier().verify(ML_DSA_FIXTURE_TOKEN);
      expect(header.alg).toBe('ML-DSA-65');
      expect(payload.sub).toBe('quantum-safe');
    });

    it('verifies when ML-DSA-65 is listed in algorithms', async () => {
      serveJwks();
      const { payload } = await fixtureVerifier({ algorithms: ['ML-DSA-65'] }).verify(ML_DSA_FIXTURE_TOKEN);
      expect(payload.sub).toBe('quantum-safe');
    });
  } else {
    it(`is ERR_ALG_NOT_ALLOWED naming what Node.js ${process.versions.node} lacks, before any key is fetched`, async () => {
      const requests = serveJwks();
      const error = await expectRejection(
        fixtureVerifier().verify(ML_DSA_FIXTURE_TOKEN),
        'ERR_ALG_NOT_ALLOWED',
        ML_DSA_FIXTURE_TOKEN,
      );
      expect(error.message).toMatch(LACKS);
      expect(requests).toEqual([]);
    });

    it('is the same refusal when ML-DSA-65 is listed in algorithms (accepted at construction: the list is policy, the runtime decides)', async () => {
      serveJwks();
      const verifier = fixtureVerifier({ algorithms: ['ES256', 'ML-DSA-65'] });
      const error = await expectRejection(verifier.verify(ML_DSA_FIXTURE_TOKEN), 'ERR_ALG_NOT_ALLOWED');
      expect(error.message).toMatch(LACKS);
    });
  }

  it('is ERR_ALG_NOT_ALLOWED, on every runtime, when algorithms leave ML-DSA out', async () => {
    serveJwks();
    const error = await expectRejection(
      fixtureVerifier({ algorithms: ['RS256', 'ML-DSA-44'] }).verify(ML_DSA_FIXTURE_TOKEN),
      'ERR_ALG_NOT_ALLOWED',
    );
    expect(error.message).toBe(
      'the token is signed with "ML-DSA-65", which is not allowed; allowed: RS256, ML-DSA-44',
    );
  });
});

describe('AKP keys (RFC 9964)', () => {
  it('reads a well-formed ML-DSA-65 key as usable, on every runtime', () => {
    expect(jwkUnusableReason(fixtureKey)).toBeUndefined();
  });

  it.each([
    ['without alg', { alg: undefined }, 'AKP key without an ML-DSA "alg" (got undefined)'],
    ['with a classic alg', { alg: 'ES256' }, 'AKP key without an ML-DSA "alg" (got "ES256")'],
    [
      'whose pub is of another parameter set',
      { alg: 'ML-DSA-44' },
      'ML-DSA-44 "pub" of 1952 bytes, expected 1312',
    ],
    [
      'whose pub is one byte short',
      { pub: fixtureKey.pub.slice(0, -2) },
      'ML-DSA-65 "pub" of 1950 bytes, expected 1952',
    ],
    [
      'whose pub is not base64url',
      { pub: `${fixtureKey.pub.slice(0, -1)}=` },
      'AKP key without a base64url "pub"',
    ],
    ['with private material', { priv: 'AAAA' }, 'holds private or symmetric key material'],
    ['with a private seed', { seed: 'AAAA' }, 'holds private or symmetric key material'],
  ])('skips a key %s', (_what, change, reason) => {
    expect(jwkUnusableReason({ ...fixtureKey, ...change })).toBe(reason);
  });

  it('fits only the parameter set its alg names, and only signing uses', () => {
    expect(keyFitsAlgorithm(fixtureKey, 'ML-DSA-65')).toBe(true);
    expect(keyFitsAlgorithm(fixtureKey, 'ML-DSA-44')).toBe(false);
    expect(keyFitsAlgorithm(fixtureKey, 'ML-DSA-87')).toBe(false);
    expect(keyFitsAlgorithm(fixtureKey, 'EdDSA')).toBe(false);
    expect(keyFitsAlgorithm({ ...fixtureKey, alg: undefined }, 'ML-DSA-65')).toBe(false);
    expect(keyFitsAlgorithm({ ...fixtureKey, use: 'enc' }, 'ML-DSA-65')).toBe(false);
  });
});

if (RUNTIME_HAS_ML_DSA) {
  describe('the stub issuer signs with ML-DSA on this runtime', () => {
    const ALGS = ['ML-DSA-44', 'ML-DSA-65', 'ML-DSA-87'] as const;
    const { issuer, server } = useMswIssuer({ algorithms: [...ALGS] });
    const verifier = () => new JwtVerifier({ issuer: issuer.issuer, audience: issuer.audience });

    it.each(ALGS)('issues %s tokens the verifier accepts, with an AKP key in its JWKS', async (alg) => {
      const { payload, header } = await verifier().verify(await issuer.sign({ sub: alg }, { alg }));
      expect(header.alg).toBe(alg);
      expect(payload.sub).toBe(alg);
      const published = issuer.jwks().keys.find((key) => key.kid === header.kid);
      expect(published).toMatchObject({ kty: 'AKP', alg });
    });

    it('refuses a tampered ML-DSA-65 signature and a signature of another length', async () => {
      const token = await issuer.sign({ sub: 'x' }, { alg: 'ML-DSA-65' });
      const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');
      signature[100]! ^= 1;
      const body = token.slice(0, token.lastIndexOf('.') + 1);
      await expectRejection(
        verifier().verify(body + signature.toString('base64url')),
        'ERR_SIGNATURE_INVALID',
      );
      await expectRejection(
        verifier().verify(body + signature.subarray(1).toString('base64url')),
        'ERR_SIGNATURE_INVALID',
      );
    });

    it('refuses a token whose kid names a key of another parameter set (ERR_KEY_NOT_FOUND)', async () => {
      const key44 = issuer.keys.find((key) => key.alg === 'ML-DSA-44')!;
      const token = await issuer.sign({}, { alg: 'ML-DSA-65', header: { kid: key44.kid } });
      server.resetHandlers(...issuer.handlers);
      await expectRejection(verifier().verify(token), 'ERR_KEY_NOT_FOUND');
    });
  });
} else {
  describe('the stub issuer on a runtime without ML-DSA', () => {
    it('refuses to create ML-DSA keys with a TypeError that says why', async () => {
      const error = await caught(createTestIssuer({ algorithms: ['ML-DSA-65'] }));
      expect(error).toBeInstanceOf(TypeError);
      expect(error.message).toBe(
        "createTestIssuer: cannot create ML-DSA-65 keys here: this runtime's Web Crypto has no ML-DSA (Node.js 24.7 or later, Deno and Bun have it)",
      );
    });
  });
}

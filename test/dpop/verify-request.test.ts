// verifier.verifyRequest() with the dpop option, against the stub issuer on msw: what a DPoP
// request must prove (RFC 9449 §4.3, §7), the codes and challenges of each refusal, and the
// Bearer paths (verifyAuthorizationHeader, a verifier without dpop) refusing a bound token.
import { exportJWK, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions, type JwtVerifyErrorCode } from '../../src/index.js';
import { CLASSIC_ALGORITHMS } from '../../src/token/algorithms.js';
import { createDpopProof } from '../../src/testing/index.js';
import { useMswIssuer } from '../support/msw.js';
import { API, type DpopClient, ORDERS, dpopClient, fetchRequest, proofFor } from '../support/dpop.js';
import { expectRejection } from '../support/rejections.js';

const { issuer } = useMswIssuer({ issuer: 'https://issuer.test', audience: API });
// DPoP's default algorithms: every supported one but ML-DSA.
const ALGS = CLASSIC_ALGORITHMS.join(' ');

let client: DpopClient;
let other: DpopClient;
beforeAll(async () => {
  [client, other] = await Promise.all([dpopClient(), dpopClient('EdDSA')]);
});

function verifier(options: Partial<JwtVerifierOptions> = {}): JwtVerifier {
  return new JwtVerifier({ issuer: issuer.issuer, audience: API, dpop: {}, ...options });
}

const bound = (claims: Record<string, unknown> = {}) =>
  issuer.sign({ sub: 'alice', ...claims }, { dpopJkt: client.jkt });

/**
 * Sends `token` with `scheme` and a proof of `by`'s key to `v`, expecting a refusal with
 * `code` whose message does not hold the token.
 */
async function refusal(
  scheme: 'DPoP' | 'Bearer',
  token: string,
  by: DpopClient,
  code: JwtVerifyErrorCode,
  v: JwtVerifier = verifier(),
) {
  return expectRejection(
    v.verifyRequest(fetchRequest(`${scheme} ${token}`, await proofFor(by, token))),
    code,
    token,
  );
}

describe('verifyRequest with the DPoP scheme', () => {
  it('accepts a bound token with a proof of its key, and says what the proof showed', async () => {
    const token = await bound();
    const proof = await proofFor(client, token);
    const result = await verifier().verifyRequest(fetchRequest(`DPoP ${token}`, proof));
    expect(result.payload).toMatchObject({ sub: 'alice', cnf: { jkt: client.jkt } });
    expect(result.dpop).toEqual({
      jkt: client.jkt,
      jti: expect.any(String),
      proof: {
        header: { typ: 'dpop+jwt', alg: 'ES256', jwk: expect.objectContaining({ kty: 'EC', crv: 'P-256' }) },
        payload: expect.objectContaining({ htm: 'GET', htu: ORDERS, ath: expect.any(String) }),
      },
    });
    expect(result.dpop!.jti).toBe(result.dpop!.proof.payload.jti);
  });

  it('accepts the scheme in any case and a cnf with other members (RFC 9449 §6.1)', async () => {
    // Not x5t#S256: verifyRequest holds a certificate-bound token to its TLS client
    // certificate too (RFC 8705), see test/verify/certificate-binding.test.ts.
    const token = await issuer.sign({ cnf: { kid: 'key-1' } }, { dpopJkt: client.jkt });
    const result = await verifier().verifyRequest(
      fetchRequest(`dpop ${token}`, await proofFor(client, token)),
    );
    expect(result.payload.cnf).toEqual({ kid: 'key-1', jkt: client.jkt });
  });

  it('reads a Node IncomingMessage shape and a plain { method, url, headers }', async () => {
    const token = await bound();
    const node = {
      method: 'GET',
      url: '/orders?page=2',
      headers: { host: 'api.test', authorization: `DPoP ${token}`, dpop: await proofFor(client, token) },
      rawHeaders: ['Host', 'api.test'],
      socket: { encrypted: true },
    };
    expect((await verifier().verifyRequest(node)).dpop?.jkt).toBe(client.jkt);
    const plain = {
      method: 'GET',
      url: `${ORDERS}?page=3`,
      headers: { Authorization: `DPoP ${token}`, DPoP: await proofFor(client, token) },
    };
    expect((await verifier().verifyRequest(plain)).dpop?.jkt).toBe(client.jkt);
  });

  it('compares htu after normalisation: case, default port, percent-encoding; query and fragment ignored', async () => {
    const token = await bound();
    const v = verifier();
    for (const htu of [
      'HTTPS://API.TEST:443/orders',
      'https://api.test/%6Frders?x=1#top',
      'https://api.test/orders/',
    ]) {
      const proof = await proofFor(client, token, { claims: { htu } });
      const request = fetchRequest(`DPoP ${token}`, proof, {
        url: htu.endsWith('/') ? `${ORDERS}/` : `${ORDERS}?q=2`,
      });
      expect((await v.verifyRequest(request)).dpop?.proof.payload.htu).toBe(htu);
    }
  });

  it('refuses a proof used twice, with invalid_dpop_proof in a DPoP challenge', async () => {
    const v = verifier();
    const token = await bound();
    const request = async () => fetchRequest(`DPoP ${token}`, proof);
    const proof = await proofFor(client, token);
    await v.verifyRequest(await request());
    const error = await expectRejection(v.verifyRequest(await request()), 'ERR_DPOP_PROOF_INVALID', token);
    expect(error.message).toMatch(/used before .*a replay/);
    expect(error.wwwAuthenticate('api')).toMatch(
      new RegExp(
        `^Bearer realm="api", DPoP realm="api", error="invalid_dpop_proof", error_description="[^"]+", algs="${ALGS}"$`,
      ),
    );
    // A new proof (new jti) for the same request is fine.
    await v.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
  });

  const refusals: Array<{
    name: string;
    proof: (token: string) => Promise<string | undefined>;
    message: RegExp;
    request?: { url?: string; method?: string };
  }> = [
    { name: 'no DPoP header', proof: async () => undefined, message: /no DPoP header/ },
    {
      name: 'two proofs in one DPoP header',
      proof: async (t) => `${await proofFor(client, t)}, ${await proofFor(client, t)}`,
      message: /more than one DPoP header/,
    },
    { name: 'not a JWS', proof: async () => 'not-a-proof', message: /not a valid compact JWS/ },
    {
      name: 'typ JWT',
      proof: (t) => proofFor(client, t, { header: { typ: 'JWT' } }),
      message: /typ must be "dpop\+jwt"/,
    },
    {
      name: 'alg none',
      proof: (t) => proofFor(client, t, { header: { alg: 'none' } }),
      message: /signed with "none", which is not allowed/,
    },
    {
      name: 'no jwk',
      proof: (t) => proofFor(client, t, { header: { jwk: undefined } }),
      message: /no "jwk" header/,
    },
    {
      name: 'a private jwk',
      proof: async (t) => {
        const pair = await generateKeyPair('ES256', { extractable: true });
        return proofFor({ key: pair, jkt: '' }, t, { header: { jwk: await exportJWK(pair.privateKey) } });
      },
      message: /private or symmetric key material/,
    },
    {
      name: 'a jwk that did not sign it',
      proof: async (t) => proofFor(client, t, { header: { jwk: await exportJWK(other.key.publicKey) } }),
      message: /does not fit ES256|signature does not verify/,
    },
    {
      name: 'another key of the same type than the one that signed',
      proof: async (t) => {
        const stranger = await generateKeyPair('ES256');
        return proofFor(client, t, { header: { jwk: await exportJWK(stranger.publicKey) } });
      },
      message: /ES256 signature does not verify with its jwk/,
    },
    {
      name: 'another method',
      proof: (t) => proofFor(client, t, { method: 'POST' }),
      message: /for method "POST", the request is GET/,
    },
    {
      name: 'another URL',
      proof: (t) => proofFor(client, t, { url: `${API}/admin` }),
      message: /for "https:\/\/api\.test\/admin", the request went to https:\/\/api\.test\/orders/,
    },
    {
      name: 'another host',
      proof: (t) => proofFor(client, t, { url: 'https://evil.test/orders' }),
      message: /the request went to/,
    },
    {
      name: 'a stale iat',
      proof: (t) => proofFor(client, t, { iat: Math.floor(Date.now() / 1000) - 400 }),
      message: /too old/,
    },
    {
      name: 'an iat in the future',
      proof: (t) => proofFor(client, t, { iat: Math.floor(Date.now() / 1000) + 60 }),
      message: /in the future/,
    },
    {
      name: 'no ath',
      proof: (t) => proofFor(client, t, { claims: { ath: undefined } }),
      message: /no "ath"/,
    },
    {
      name: 'the ath of another token',
      proof: async () => proofFor(client, await bound({ sub: 'mallory' })),
      message: /made for another token/,
    },
    {
      name: 'no jti',
      proof: (t) => proofFor(client, t, { claims: { jti: undefined } }),
      message: /jti must be a string/,
    },
    {
      name: 'an htu that is not a string',
      proof: (t) => proofFor(client, t, { claims: { htu: 42 } }),
      message: /htu must be a string/,
    },
  ];

  it.each(refusals)('refuses $name: ERR_DPOP_PROOF_INVALID', async ({ proof, message, request }) => {
    const token = await bound();
    const v = verifier();
    const error = await expectRejection(
      v.verifyRequest(fetchRequest(`DPoP ${token}`, await proof(token), request)),
      'ERR_DPOP_PROOF_INVALID',
      token,
    );
    expect(error.message).toMatch(message);
    expect(error.wwwAuthenticate()).toMatch(
      /^Bearer, DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="/,
    );
    expect(issuer.requests.jwks).toBe(0); // refused before the token was looked at
  });

  it('refuses a proof signed with an algorithm outside dpop.algorithms', async () => {
    const token = await issuer.sign({}, { dpopJkt: other.jkt });
    const v = verifier({ dpop: { algorithms: ['ES256'] } });
    const error = await refusal('DPoP', token, other, 'ERR_DPOP_PROOF_INVALID', v);
    expect(error.message).toMatch(/"EdDSA", which is not allowed; allowed: ES256/);
    expect(error.wwwAuthenticate()).toMatch(/algs="ES256"$/);
  });

  it('refuses a token bound to another key than the proof’s: ERR_DPOP_BINDING, invalid_token', async () => {
    const token = await bound();
    const error = await refusal('DPoP', token, other, 'ERR_DPOP_BINDING');
    expect(error.message).toContain(`bound to key "${client.jkt}"`);
    expect(error.message).toContain(`signed with key "${other.jkt}"`);
    expect(error.wwwAuthenticate('api')).toMatch(
      /^Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="[^"]+", algs="/,
    );
  });

  it('refuses an unbound token sent with the DPoP scheme: ERR_DPOP_BINDING', async () => {
    const token = await issuer.sign({ sub: 'alice' });
    const error = await refusal('DPoP', token, client, 'ERR_DPOP_BINDING');
    expect(error.message).toMatch(/not DPoP-bound: it has no cnf\.jkt/);
  });

  it('puts a token error (expired) on the DPoP challenge when the request used DPoP', async () => {
    const token = await issuer.sign({}, { dpopJkt: client.jkt, expiresIn: -60 });
    const error = await refusal('DPoP', token, client, 'ERR_TOKEN_EXPIRED');
    expect(error.wwwAuthenticate('api')).toMatch(
      /^Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="[^"]+", algs="/,
    );
  });

  it('challenges with both schemes, no error, when there is no token (RFC 9449 §7.2)', async () => {
    const error = await expectRejection(
      verifier().verifyRequest(fetchRequest(undefined)),
      'ERR_TOKEN_MISSING',
    );
    expect(error.wwwAuthenticate()).toBe(`Bearer, DPoP algs="${ALGS}"`);
    expect(error.wwwAuthenticate('api')).toBe(`Bearer realm="api", DPoP realm="api", algs="${ALGS}"`);
  });
});

describe('verifyRequest with the Bearer scheme', () => {
  it('accepts an unbound token, without a dpop result', async () => {
    const result = await verifier().verifyRequest(
      fetchRequest(`Bearer ${await issuer.sign({ sub: 'bob' })}`),
    );
    expect(result.payload.sub).toBe('bob');
    expect(result).not.toHaveProperty('dpop');
  });

  it('refuses a DPoP-bound token sent as Bearer, even with a proof (RFC 9449 §7.2)', async () => {
    const token = await bound();
    const error = await refusal('Bearer', token, client, 'ERR_DPOP_BINDING');
    expect(error.message).toMatch(/Bearer cannot prove possession/);
    expect(error.wwwAuthenticate('api')).toMatch(
      /^Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="[^"]+", algs="/,
    );
  });

  it('with dpop.required, refuses Bearer before looking at the token, with a DPoP-only challenge', async () => {
    const v = verifier({ dpop: { required: true, algorithms: ['ES256', 'EdDSA'] } });
    const error = await expectRejection(
      v.verifyRequest(fetchRequest(`Bearer ${await issuer.sign()}`)),
      'ERR_DPOP_BINDING',
    );
    expect(error.message).toMatch(/accepts only DPoP-bound tokens.*Bearer scheme/);
    expect(error.wwwAuthenticate('api')).toMatch(
      /^DPoP realm="api", error="invalid_token", error_description="[^"]+", algs="ES256 EdDSA"$/,
    );
    expect(issuer.requests.jwks).toBe(0);
    const missing = await expectRejection(v.verifyRequest(fetchRequest(undefined)), 'ERR_TOKEN_MISSING');
    expect(missing.wwwAuthenticate()).toBe('DPoP algs="ES256 EdDSA"');
  });
});

describe('the paths that cannot see a proof', () => {
  it('verifyAuthorizationHeader refuses a DPoP-bound token: a Bearer header cannot prove possession', async () => {
    const token = await bound();
    const plain = new JwtVerifier({ issuer: issuer.issuer, audience: API });
    const refused = await expectRejection(
      plain.verifyAuthorizationHeader(`Bearer ${token}`),
      'ERR_DPOP_BINDING',
      token,
    );
    expect(refused.message).toMatch(/Bearer cannot prove possession/);
    expect(refused.wwwAuthenticate('api')).toMatch(
      /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
    );
    // A verifier that accepts DPoP says so in the challenge.
    const told = await expectRejection(
      verifier().verifyAuthorizationHeader(`Bearer ${token}`),
      'ERR_DPOP_BINDING',
    );
    expect(told.wwwAuthenticate('api')).toMatch(
      /^Bearer realm="api", DPoP realm="api", error="invalid_token", error_description="[^"]+", algs="/,
    );
  });

  it('verify(token) refuses a DPoP-bound token unless the caller checks the proof itself', async () => {
    const token = await bound();
    await expectRejection(verifier().verify(token), 'ERR_DPOP_BINDING', token);
    const { payload } = await verifier().verify(token, { allowBoundTokens: true });
    expect(payload.cnf).toEqual({ jkt: client.jkt });
  });

  it('a verifier without dpop refuses the DPoP scheme as no credentials and a bound Bearer token with a Bearer challenge', async () => {
    const plain = new JwtVerifier({ issuer: issuer.issuer, audience: API });
    const token = await bound();
    const missing = await refusal('DPoP', token, client, 'ERR_TOKEN_MISSING', plain);
    expect(missing.wwwAuthenticate('api')).toBe('Bearer realm="api"');
    const bearer = await expectRejection(
      plain.verifyRequest(fetchRequest(`Bearer ${token}`)),
      'ERR_DPOP_BINDING',
    );
    expect(bearer.wwwAuthenticate('api')).toMatch(
      /^Bearer realm="api", error="invalid_token", error_description="[^"]+"$/,
    );
    const unbound = await plain.verifyRequest(fetchRequest(`Bearer ${await issuer.sign({ sub: 'bob' })}`));
    expect(unbound.payload.sub).toBe('bob');
  });
});

describe('the dpop option', () => {
  it.each([
    ['dpop: "yes"', { dpop: 'yes' }, /dpop must be an object/],
    ['dpop.required: 1', { dpop: { required: 1 } }, /dpop\.required must be a boolean/],
    [
      'dpop.algorithms: HS256',
      { dpop: { algorithms: ['HS256'] } },
      /dpop\.algorithms: "HS256" is not accepted/,
    ],
    ['dpop.maxAgeSeconds: 0', { dpop: { maxAgeSeconds: 0 } }, /dpop\.maxAgeSeconds must be more than 0/],
    [
      'dpop.clockTolerance: -1',
      { dpop: { clockTolerance: -1 } },
      /dpop\.clockTolerance must be a non-negative/,
    ],
    ['a short nonce secret', { dpop: { nonce: { secret: 'short' } } }, /at least 32 bytes/],
    ['a replay store without remember', { dpop: { replay: {} } }, /dpop\.replay must be a DpopReplayStore/],
  ])('refuses %s at construction with a coded TypeError', (_, options, message) => {
    expect(() => verifier(options as Partial<JwtVerifierOptions>)).toThrow(
      expect.objectContaining({
        name: 'TypeError',
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(message),
      }),
    );
  });

  it.each([
    [{ publicUrl: 'not a url' }, /publicUrl must be an absolute http\(s\) URL/],
    [{ publicUrl: 'https://api.test/?x=1' }, /without query or fragment/],
    [{ trustedForwardedHeaders: ['x-real-ip'] }, /trustedForwardedHeaders must be an array of/],
    [{ publicUrl: API, trustedForwardedHeaders: ['x-forwarded-host'] }, /not both/],
  ])('verifyRequest refuses the URL options %j with a coded TypeError', async (options, message) => {
    await expect(verifier().verifyRequest(fetchRequest(undefined), options as never)).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
      message: expect.stringMatching(message),
    });
  });

  it('accepts a proof within maxAgeSeconds and clockTolerance, and refuses it just outside', async () => {
    const nowMs = Date.UTC(2030, 0, 1);
    const nowSeconds = nowMs / 1000;
    const signedAt = await issuer.sign({ iat: nowSeconds, exp: nowSeconds + 3600 }, { dpopJkt: client.jkt });
    const v = verifier({ now: () => nowMs, dpop: { maxAgeSeconds: 60, clockTolerance: 2 } });
    const at = async (iat: number) =>
      v.verifyRequest(fetchRequest(`DPoP ${signedAt}`, await proofFor(client, signedAt, { iat })));
    await at(nowSeconds - 62);
    await at(nowSeconds + 2);
    await expectRejection(at(nowSeconds - 63), 'ERR_DPOP_PROOF_INVALID');
    await expectRejection(at(nowSeconds + 3), 'ERR_DPOP_PROOF_INVALID');
  });

  it('makes proofs with createDpopProof that any key type the verifier accepts can sign', async () => {
    for (const alg of ['PS256', 'RS256', 'ES384', 'EdDSA']) {
      const key = await dpopClient(alg);
      const token = await issuer.sign({}, { dpopJkt: key.jkt });
      const proof = await createDpopProof({
        key: key.key,
        method: 'DELETE',
        url: new URL(`${ORDERS}/7`),
        accessToken: token,
      });
      const result = await verifier().verifyRequest(
        fetchRequest(`DPoP ${token}`, proof, { method: 'DELETE', url: `${ORDERS}/7` }),
      );
      expect(result.dpop?.proof.header.alg).toBe(alg);
    }
  });
});

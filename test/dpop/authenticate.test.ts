// authenticate() with a DPoP verifier: both schemes, the challenges of RFC 9110 §11.6.1 /
// RFC 9449 §7.2, the DPoP scheme on a scope refusal, and a custom TokenVerifier (verify only)
// still served as before.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthenticateResult,
  JwtVerifier,
  MultiIssuerVerifier,
  type TokenVerifier,
  authenticate,
} from '../../src/index.js';
import { useMswIssuer } from '../support/msw.js';
import { API, type DpopClient, dpopClient, fetchRequest, proofFor } from '../support/dpop.js';

const { issuer } = useMswIssuer({ issuer: 'https://issuer.test', audience: API });

let client: DpopClient;
beforeAll(async () => {
  client = await dpopClient();
});

const dpopVerifier = () =>
  new JwtVerifier({ issuer: issuer.issuer, audience: API, dpop: { algorithms: ['ES256', 'EdDSA'] } });

function failure(result: AuthenticateResult) {
  if (result.ok) throw new Error('expected a rejection');
  return result;
}

describe('authenticate() with a DPoP verifier', () => {
  it('accepts a DPoP request and hands the route what the proof showed', async () => {
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    const result = await authenticate(
      dpopVerifier(),
      fetchRequest(`DPoP ${token}`, await proofFor(client, token)),
    );
    expect(result).toEqual({
      ok: true,
      token: {
        payload: expect.objectContaining({ sub: 'alice' }),
        header: expect.any(Object),
        dpop: expect.objectContaining({ jkt: client.jkt }),
      },
    });
  });

  it('answers a request without a token with both challenges, and no error (RFC 9449 §7.2)', async () => {
    const result = failure(await authenticate(dpopVerifier(), fetchRequest(undefined), { realm: 'api' }));
    expect(result.body.code).toBe('ERR_TOKEN_MISSING');
    expect(result.status).toBe(401);
    expect(result.headers['WWW-Authenticate']).toBe(
      'Bearer realm="api", DPoP realm="api", algs="ES256 EdDSA"',
    );
    expect(result.headers).not.toHaveProperty('DPoP-Nonce');
  });

  it('answers a bad proof with invalid_dpop_proof on the DPoP challenge, the body invalid_token', async () => {
    const token = await issuer.sign({}, { dpopJkt: client.jkt });
    const proof = await proofFor(client, token, { method: 'POST' });
    const result = failure(await authenticate(dpopVerifier(), fetchRequest(`DPoP ${token}`, proof)));
    expect(result.body).toEqual({
      error: 'invalid_token',
      error_description: expect.stringMatching(/for method "POST", the request is GET/),
      code: 'ERR_DPOP_PROOF_INVALID',
    });
    expect(result.headers['WWW-Authenticate']).toMatch(
      /^Bearer, DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="ES256 EdDSA"$/,
    );
  });

  it('answers a 403 for a DPoP request with a DPoP insufficient_scope challenge', async () => {
    const token = await issuer.sign({ scope: 'read' }, { dpopJkt: client.jkt });
    const result = failure(
      await authenticate(dpopVerifier(), fetchRequest(`DPoP ${token}`, await proofFor(client, token)), {
        requiredScopes: 'write',
        realm: 'api',
      }),
    );
    expect(result.status).toBe(403);
    expect(result.headers['WWW-Authenticate']).toMatch(
      /^DPoP realm="api", error="insufficient_scope", error_description="[^"]+", scope="write"$/,
    );
  });

  it('routes DPoP requests through a MultiIssuerVerifier to the token issuer’s verifier', async () => {
    const multi = new MultiIssuerVerifier([dpopVerifier()]);
    const token = await issuer.sign({ sub: 'carol' }, { dpopJkt: client.jkt });
    const result = await authenticate(multi, fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    expect(result.ok && result.token.dpop?.jkt).toBe(client.jkt);
    const missing = failure(await authenticate(multi, fetchRequest(undefined)));
    expect(missing.headers['WWW-Authenticate']).toBe('Bearer, DPoP algs="ES256 EdDSA"');
  });

  it('a verifier with verify() only keeps the Bearer-only behaviour', async () => {
    const inner = dpopVerifier();
    const verifyOnly: TokenVerifier = { verify: (token) => inner.verify(token) };
    const token = await issuer.sign({ sub: 'dave' });
    expect((await authenticate(verifyOnly, fetchRequest(`Bearer ${token}`))).ok).toBe(true);
    const result = failure(await authenticate(verifyOnly, fetchRequest(`DPoP ${token}`, 'x')));
    expect(result.body.code).toBe('ERR_TOKEN_MISSING');
    expect(result.headers['WWW-Authenticate']).toBe('Bearer');
  });
});

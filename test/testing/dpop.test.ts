// The stub issuer and DPoP (RFC 9449): its token endpoint binds tokens to the key of a DPoP
// proof (client credentials, authorization code with dpop_jkt, bound refresh tokens), can
// require nonces, refuses bad or replayed proofs; sign({ dpopJkt }) and createDpopProof.
import { decodeJwt, decodeProtectedHeader, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import {
  type TestIssuer,
  createDpopProof,
  createTestIssuer,
  dpopThumbprint,
} from '../../src/testing/index.js';
import type { DpopProofOptions } from '../../src/testing/index.js';
import { type DpopClient, dpopClient, fetchRequest } from '../support/dpop.js';
import { CLIENT_ID, authorizeCode, codeExchange, postForm } from './helpers.js';

let issuer: TestIssuer;
let nonceIssuer: TestIssuer;
let client: DpopClient;
let other: DpopClient;

beforeAll(async () => {
  [issuer, nonceIssuer, client, other] = await Promise.all([
    createTestIssuer({ audience: 'https://api.test' }),
    createTestIssuer({ issuer: 'https://nonce.test', requireDpopNonce: true }),
    dpopClient(),
    dpopClient('EdDSA'),
  ]);
});

/** A proof by `client` for `method` and `url`, with the rest of `options`. */
const clientProof = (method: string, url: string, options: Partial<DpopProofOptions> = {}) =>
  createDpopProof({ key: client.key, method, url, ...options });

const tokenProof = (at: TestIssuer, key = client, nonce?: string) =>
  clientProof('POST', at.metadata.token_endpoint!, { key: key.key, nonce });

async function postToken(at: TestIssuer, fields: Record<string, string>, dpop?: string) {
  const response = await at.fetch(at.metadata.token_endpoint!, postForm(fields, dpop ? { dpop } : {}));
  return {
    status: response.status,
    headers: response.headers,
    body: (await response.json()) as Record<string, unknown>,
  };
}

const clientCredentials = (at: TestIssuer, dpop?: string) =>
  postToken(at, { grant_type: 'client_credentials', client_id: 'service', scope: 'read' }, dpop);

describe('the token endpoint with a DPoP proof', () => {
  it('binds the access token to the proof’s key: cnf.jkt and token_type DPoP', async () => {
    const { status, body } = await clientCredentials(issuer, await tokenProof(issuer));
    expect(status).toBe(200);
    expect(body.token_type).toBe('DPoP');
    expect(decodeJwt(body.access_token as string).cnf).toEqual({ jkt: client.jkt });
    expect(decodeProtectedHeader(body.access_token as string).typ).toBe('at+jwt');
  });

  it('issues a token a DPoP verifier accepts with a proof from the same key', async () => {
    const { body } = await clientCredentials(issuer, await tokenProof(issuer));
    const token = body.access_token as string;
    const verifier = new JwtVerifier({
      issuer: issuer.issuer,
      audience: 'https://api.test',
      fetch: issuer.fetch,
      dpop: {},
    });
    const proof = await clientProof('GET', 'https://api.test/x', { accessToken: token });
    const result = await verifier.verifyRequest(
      fetchRequest(`DPoP ${token}`, proof, { url: 'https://api.test/x' }),
    );
    expect(result.dpop?.jkt).toBe(client.jkt);
  });

  it('without a proof issues a Bearer token, as before', async () => {
    const { body } = await clientCredentials(issuer);
    expect(body.token_type).toBe('Bearer');
    expect(decodeJwt(body.access_token as string)).not.toHaveProperty('cnf');
  });

  it.each([
    ['for another URL', () => clientProof('POST', 'https://issuer.test/other'), /the request went to/],
    ['for GET', () => clientProof('GET', issuer.metadata.token_endpoint!), /method "GET"/],
    [
      'with typ JWT',
      () => clientProof('POST', issuer.metadata.token_endpoint!, { header: { typ: 'JWT' } }),
      /typ/,
    ],
  ])('refuses a proof %s with 400 invalid_dpop_proof', async (_, proof, message) => {
    const { status, body } = await clientCredentials(issuer, await proof());
    expect(body.error).toBe('invalid_dpop_proof');
    expect(status).toBe(400);
    expect(body.error_description).toMatch(message);
  });

  it('refuses a proof used twice', async () => {
    const proof = await tokenProof(issuer);
    expect((await clientCredentials(issuer, proof)).status).toBe(200);
    const again = await clientCredentials(issuer, proof);
    expect(again.body).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringMatching(/used before/),
    });
  });

  it('announces dpop_signing_alg_values_supported and exposes DPoP-Nonce to browsers', async () => {
    expect(issuer.metadata.dpop_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['ES256', 'EdDSA', 'PS256']),
    );
    const response = await issuer.fetch(
      issuer.metadata.token_endpoint!,
      postForm({ grant_type: 'client_credentials' }),
    );
    expect(response.headers.get('access-control-expose-headers')).toContain('dpop-nonce');
  });
});

describe('nonces at the token endpoint (requireDpopNonce)', () => {
  it('answers use_dpop_nonce with DPoP-Nonce, then issues a bound token for a proof with it', async () => {
    const asked = await clientCredentials(nonceIssuer, await tokenProof(nonceIssuer));
    expect(asked.body.error).toBe('use_dpop_nonce');
    expect(asked.status).toBe(400);
    const nonce = asked.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const granted = await clientCredentials(nonceIssuer, await tokenProof(nonceIssuer, client, nonce!));
    expect(granted.status).toBe(200);
    expect(decodeJwt(granted.body.access_token as string).cnf).toEqual({ jkt: client.jkt });
    const wrong = await clientCredentials(
      nonceIssuer,
      await tokenProof(nonceIssuer, client, 'not-the-nonce'),
    );
    expect(wrong.body.error).toBe('use_dpop_nonce');
  });

  it('does not ask a request without DPoP for a nonce', async () => {
    expect((await clientCredentials(nonceIssuer)).body.token_type).toBe('Bearer');
  });
});

describe('authorization code with dpop_jkt and bound refresh tokens', () => {
  async function code(extra: Record<string, string> = {}) {
    const { code, verifier } = await authorizeCode(issuer.fetch, issuer.metadata, {
      scope: 'openid offline_access',
      ...extra,
    });
    return codeExchange(code, verifier);
  }

  it('redeems a dpop_jkt code only with a proof of that key (RFC 9449 §10)', async () => {
    const withoutProof = await postToken(issuer, await code({ dpop_jkt: client.jkt }));
    expect(withoutProof.body.error).toBe('invalid_dpop_proof');
    const otherKey = await postToken(
      issuer,
      await code({ dpop_jkt: client.jkt }),
      await tokenProof(issuer, other),
    );
    expect(otherKey.body).toMatchObject({
      error: 'invalid_grant',
      error_description: expect.stringMatching(/another DPoP key/),
    });
    const ok = await postToken(issuer, await code({ dpop_jkt: client.jkt }), await tokenProof(issuer));
    expect(ok.body.token_type).toBe('DPoP');
  });

  it('binds the refresh token too: refreshing needs a proof of the same key', async () => {
    const first = await postToken(issuer, await code(), await tokenProof(issuer));
    const refreshToken = first.body.refresh_token as string;
    const refresh = (proof?: string) =>
      postToken(
        issuer,
        { grant_type: 'refresh_token', client_id: CLIENT_ID, refresh_token: refreshToken },
        proof,
      );
    expect((await refresh()).body.error).toBe('invalid_dpop_proof');
    expect((await refresh(await tokenProof(issuer, other))).body.error).toBe('invalid_grant');
    const renewed = await refresh(await tokenProof(issuer));
    expect(renewed.status).toBe(200);
    expect(decodeJwt(renewed.body.access_token as string).cnf).toEqual({ jkt: client.jkt });
  });
});

describe('sign({ dpopJkt }) and createDpopProof', () => {
  it('sign adds cnf.jkt, merged into a cnf the claims give', async () => {
    const token = await issuer.sign({ cnf: { 'x5t#S256': 'abc' } }, { dpopJkt: client.jkt });
    expect(decodeJwt(token).cnf).toEqual({ 'x5t#S256': 'abc', jkt: client.jkt });
    await expect(issuer.sign({}, { dpopJkt: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('makes a proof with typ dpop+jwt, the public jwk, htm, htu without query, iat, jti, ath and nonce', async () => {
    const proof = await clientProof('PUT', 'https://api.test/orders/7?x=1#frag', {
      accessToken: 'token-value',
      nonce: 'n-1',
      now: () => 1_900_000_000_000,
    });
    const header = decodeProtectedHeader(proof);
    expect(header).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
    });
    expect(decodeJwt(proof)).toEqual({
      jti: expect.stringMatching(/^[\w-]{22}$/),
      htm: 'PUT',
      htu: 'https://api.test/orders/7',
      iat: 1_900_000_000,
      // base64url(SHA-256("token-value"))
      ath: '5sAqV0LqnU3liOubnee-1D3BcBFVIYa-0-mLLFlY_0o',
      nonce: 'n-1',
    });
    expect(await dpopThumbprint(header.jwk as never)).toBe(client.jkt);
  });

  it('lets claims and header override or drop anything, for refusal tests', async () => {
    const proof = await clientProof('GET', 'https://api.test/', {
      jti: 'fixed',
      claims: { iat: undefined, extra: true },
      header: { typ: 'JWT', kid: 'k' },
    });
    expect(decodeJwt(proof)).toEqual({ jti: 'fixed', htm: 'GET', htu: 'https://api.test/', extra: true });
    expect(decodeProtectedHeader(proof)).toMatchObject({ typ: 'JWT', kid: 'k' });
  });

  it('refuses what is not a key pair, a method or a URL with coded TypeErrors', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    for (const options of [
      { key: privateKey, method: 'GET', url: 'https://api.test/' },
      { key: client.key, method: '', url: 'https://api.test/' },
      { key: client.key, method: 'GET', url: '/relative' },
    ]) {
      await expect(createDpopProof(options as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });
});

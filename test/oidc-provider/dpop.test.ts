// A DPoP-bound JWT access token from a real authorization server: oidc-provider 9 on
// 127.0.0.1 with its DPoP feature on (and server nonces at its token endpoint) issues it for
// a proof made by createDpopProof; an API on 127.0.0.1 (node:http + authenticate()) verifies
// it with a second proof, and refuses a replayed proof, a proof for another URL or method, a
// stale one, one without ath, the token sent as Bearer and a proof from another key, each
// with its code and challenge.
import { createServer } from 'node:http';
import { decodeJwt, generateKeyPair } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, authenticate } from '../../src/index.js';
import { type DpopProofOptions, createDpopProof } from '../../src/testing/index.js';
import { type DpopClient, dpopClient } from '../support/dpop.js';
import { useFixture } from '../support/fixture.js';
import { close, listen } from '../support/network.js';
import { requestServiceToken, startServiceProvider } from './provider.js';

const API = 'https://api.example.test';
const ALGS = 'ES256 EdDSA';

const provider = useFixture(
  () => startServiceProvider({ api: API, dpopAlgorithms: ['ES256', 'EdDSA'] }),
  (started) => started.close(),
  'oidc-provider',
);

/** The API: authenticate() with a JwtVerifier for the provider's DPoP-bound tokens. */
const api = useFixture(
  async () => {
    const verifier = new JwtVerifier({
      issuer: provider.issuer,
      audience: API,
      typ: 'at+jwt',
      dpop: { algorithms: ['ES256', 'EdDSA'] },
    });
    const server = createServer(async (req, res) => {
      const result = await authenticate(verifier, req, { realm: 'api' });
      if (!result.ok)
        return void res.writeHead(result.status, result.headers).end(JSON.stringify(result.body));
      res
        .writeHead(200, { 'content-type': 'application/json', ...result.headers })
        .end(JSON.stringify({ sub: result.token.payload.sub, jkt: result.token.dpop?.jkt }));
    });
    return { origin: `http://127.0.0.1:${await listen(server)}`, close: () => close(server) };
  },
  (started) => started.close(),
  'the API',
);

let client: DpopClient;
/** What the token endpoint answered: first the nonce it asked for, then the token. */
let issued: {
  nonceAsked: { status: number; error: unknown; nonce: string | null };
  tokenResponse: Record<string, unknown>;
  accessToken: string;
};

async function requestToken(nonce?: string): Promise<Response> {
  const url = `${provider.issuer}/token`;
  return requestServiceToken(provider.issuer, API, {
    dpop: await createDpopProof({ key: client.key, method: 'POST', url, nonce }),
  });
}

beforeAll(async () => {
  client = await dpopClient();
  // oidc-provider asks for its nonce first (RFC 9449 §8), then binds the token to the key.
  const first = await requestToken();
  const nonceAsked = {
    status: first.status,
    error: ((await first.json()) as { error?: string }).error,
    nonce: first.headers.get('dpop-nonce'),
  };
  const response = await requestToken(nonceAsked.nonce ?? undefined);
  const tokenResponse = (await response.json()) as Record<string, unknown>;
  if (typeof tokenResponse.access_token !== 'string') {
    throw new Error(`oidc-provider issued no access token: ${JSON.stringify(tokenResponse)}`);
  }
  issued = { nonceAsked, tokenResponse, accessToken: tokenResponse.access_token };
}, 60_000);

interface Answer {
  status: number;
  wwwAuthenticate: string | null;
  body: { code?: string; sub?: string; jkt?: string; error_description?: string };
}

async function call(path: string, authorization: string, dpop?: string, method = 'GET'): Promise<Answer> {
  const response = await fetch(`${api.origin}${path}`, {
    method,
    headers: { authorization, ...(dpop ? { dpop } : {}) },
  });
  return {
    status: response.status,
    wwwAuthenticate: response.headers.get('www-authenticate'),
    body: (await response.json()) as Answer['body'],
  };
}

const proof = (options: Partial<DpopProofOptions> = {}) =>
  createDpopProof({
    key: client.key,
    method: 'GET',
    url: `${api.origin}/orders`,
    accessToken: issued.accessToken,
    ...options,
  });

const challenge = (error: string) =>
  new RegExp(
    `^Bearer realm="api", DPoP realm="api", error="${error}", error_description="[^"]+", algs="${ALGS}"$`,
  );

describe('a DPoP-bound access token from oidc-provider', () => {
  it('was issued after oidc-provider asked for its nonce, bound to the proof’s key', () => {
    expect(issued.nonceAsked).toEqual({ status: 400, error: 'use_dpop_nonce', nonce: expect.any(String) });
    expect(issued.tokenResponse.token_type).toBe('DPoP');
    expect(decodeJwt(issued.accessToken)).toMatchObject({
      iss: provider.issuer,
      aud: API,
      cnf: { jkt: client.jkt },
    });
  });

  it('is accepted by the API through authenticate() with a proof from createDpopProof', async () => {
    const answer = await call('/orders', `DPoP ${issued.accessToken}`, await proof());
    expect(answer).toEqual({ status: 200, wwwAuthenticate: null, body: { sub: 'service', jkt: client.jkt } });
  });

  it('a replayed proof is refused: ERR_DPOP_PROOF_INVALID, invalid_dpop_proof', async () => {
    const once = await proof();
    expect((await call('/orders', `DPoP ${issued.accessToken}`, once)).status).toBe(200);
    const again = await call('/orders', `DPoP ${issued.accessToken}`, once);
    expect(again.body.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(again.status).toBe(401);
    expect(again.body.error_description).toMatch(/a replay/);
    expect(again.wwwAuthenticate).toMatch(challenge('invalid_dpop_proof'));
  });

  it.each([
    [
      'for another URL',
      () => proof({ url: `${api.origin}/admin` }),
      /the request went to http:\/\/127\.0\.0\.1:\d+\/orders/,
    ],
    ['for another method', () => proof({ method: 'DELETE' }), /for method "DELETE", the request is GET/],
    ['stale', () => proof({ iat: Math.floor(Date.now() / 1000) - 3600 }), /too old/],
    ['without ath', () => proof({ claims: { ath: undefined } }), /no "ath"/],
  ])('a proof %s is refused: ERR_DPOP_PROOF_INVALID, invalid_dpop_proof', async (_, make, message) => {
    const answer = await call('/orders', `DPoP ${issued.accessToken}`, await make());
    expect(answer.body.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(answer.status).toBe(401);
    expect(answer.body.error_description).toMatch(message);
    expect(answer.wwwAuthenticate).toMatch(challenge('invalid_dpop_proof'));
  });

  it('the token sent as Bearer is refused: ERR_DPOP_BINDING, invalid_token on the DPoP challenge', async () => {
    const answer = await call('/orders', `Bearer ${issued.accessToken}`);
    expect(answer.body.code).toBe('ERR_DPOP_BINDING');
    expect(answer.status).toBe(401);
    expect(answer.wwwAuthenticate).toMatch(challenge('invalid_token'));
  });

  it('a proof from another key is refused: ERR_DPOP_BINDING', async () => {
    const thief = await generateKeyPair('ES256');
    const answer = await call('/orders', `DPoP ${issued.accessToken}`, await proof({ key: thief }));
    expect(answer.body.code).toBe('ERR_DPOP_BINDING');
    expect(answer.body.error_description).toContain(`bound to key "${client.jkt}"`);
    expect(answer.wwwAuthenticate).toMatch(challenge('invalid_token'));
  });
});

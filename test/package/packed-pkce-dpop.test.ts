// The packed tarball's `pkce` entry does DPoP from an empty folder (issue 20): a consumer
// script that imports only the installed package makes a key, sends dpop_jkt, exchanges a
// code at a token endpoint that demands a nonce, and calls a resource server through
// fetchWithDpop; node:http servers on 127.0.0.1 play both servers.
import { type Server, createServer } from 'node:http';
import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ResourceServer,
  createDpopCheck,
  startResourceServer,
} from '../support/dpop-resource-server.js';
import { close, listen } from '../support/network.js';
import { runConsumer, usePackedPackage } from './packed-package.js';

const CONSUMER = String.raw`
import {
  buildAuthorizationUrl, createDpopHandle, createDpopKeyPair, createMemoryDpopStore,
  exchangeAuthorizationCode, fetchWithDpop,
} from 'oauth-jwt-verify/pkce';

const issuer = process.env.ISSUER;
const metadata = {
  issuer,
  authorization_endpoint: issuer + '/authorize',
  token_endpoint: issuer + '/token',
  code_challenge_methods_supported: ['S256'],
};
const dpop = await createDpopHandle(await createDpopKeyPair(), { store: createMemoryDpopStore() });
const { url, codeVerifier } = await buildAuthorizationUrl(metadata, {
  clientId: 'spa', redirectUri: 'http://127.0.0.1/cb', dpop,
});
const tokens = await exchangeAuthorizationCode(metadata, {
  clientId: 'spa', code: 'code-1', codeVerifier, redirectUri: 'http://127.0.0.1/cb', dpop,
});
const response = await fetchWithDpop(dpop, tokens.access_token, process.env.API + '/me');
console.log(JSON.stringify({
  jkt: dpop.jkt,
  dpopJkt: new URL(url).searchParams.get('dpop_jkt'),
  tokenType: tokens.token_type,
  me: { status: response.status, body: await response.json() },
}));
`;

const packed = usePackedPackage('dpop', { 'dpop.mjs': CONSUMER });
let tokenServer: Server;
let issuer: string;
let api: ResourceServer;
/** The proofs the token endpoint got, and the jkt it bound the token to. */
const tokenProofs: string[] = [];
let boundJkt: string | undefined;

beforeAll(async () => {
  tokenServer = createServer(async (req, res) => {
    const proof = String(req.headers.dpop ?? '');
    tokenProofs.push(proof);
    const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
    if (payload.nonce !== 'as-nonce') {
      res.writeHead(400, { 'content-type': 'application/json', 'dpop-nonce': 'as-nonce' });
      res.end(JSON.stringify({ error: 'use_dpop_nonce' }));
      return;
    }
    boundJkt = await calculateJwkThumbprint(protectedHeader.jwk!);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ access_token: 'bound-token-1', token_type: 'DPoP', expires_in: 300 }));
  });
  issuer = `http://127.0.0.1:${await listen(tokenServer)}`;
  api = await startResourceServer(
    createDpopCheck({
      nonce: 'rs-nonce',
      verifyAccessToken: async (token) => {
        if (token !== 'bound-token-1') throw new Error('unknown token');
        return { sub: 'user-1', cnf: { jkt: boundJkt } };
      },
    }),
  );
});

afterAll(async () => {
  await api?.close();
  if (tokenServer) await close(tokenServer);
});

describe('DPoP with the installed oauth-jwt-verify/pkce', () => {
  it('binds the code and the token to a new key and calls the API, each server nonce followed once', async () => {
    const stdout = await runConsumer(packed, 'dpop.mjs', { ISSUER: issuer, API: api.origin });
    const report = JSON.parse(stdout) as {
      jkt: string;
      dpopJkt: string;
      tokenType: string;
      me: { status: number; body: Record<string, unknown> };
    };
    expect(report.dpopJkt).toBe(report.jkt);
    expect(report.tokenType).toBe('DPoP');
    expect(tokenProofs).toHaveLength(2);
    expect(boundJkt).toBe(report.jkt);
    expect(report.me).toEqual({ status: 200, body: { sub: 'user-1', cnf: { jkt: report.jkt } } });
    expect(api.calls.map((call) => call.status)).toEqual([401, 200]);
  }, 60_000);
});

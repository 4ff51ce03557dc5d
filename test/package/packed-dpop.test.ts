// DPoP from the packed package, as a user installs it: a consumer project (no access to src/)
// makes a key with Web Crypto, gets a bound token from the installed stub issuer, a proof from
// createDpopProof, and checks verifyRequest() and authenticate() accept it once and refuse a
// replay and the token sent as Bearer. ESM import and CJS require() both see the new names.
import { describe, expect, it } from 'vitest';
import { runConsumer, usePackedPackage } from './packed-package.js';

/** The consumer's script: imports only the installed package, prints one JSON report. */
const CONSUMER = String.raw`
import { JwtVerifier, authenticate, createMemoryDpopReplayStore, createRedisDpopReplayStore, isJwtVerifyError } from 'oauth-jwt-verify';
import { createDpopProof, createTestIssuer, dpopThumbprint } from 'oauth-jwt-verify/testing';
import { createRequire } from 'node:module';

const report = {};
const issuer = await createTestIssuer({ listen: true, audience: 'https://api.test' });
try {
  const key = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const jkt = await dpopThumbprint(key);
  const token = await issuer.sign({ sub: 'consumer' }, { dpopJkt: jkt });
  const verifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: 'https://api.test',
    dpop: { replay: createMemoryDpopReplayStore({ max: 100 }) },
  });
  const url = 'https://api.test/orders';
  const proof = await createDpopProof({ key, method: 'GET', url, accessToken: token });
  const request = () => new Request(url, { headers: { authorization: 'DPoP ' + token, dpop: proof } });
  const result = await verifier.verifyRequest(request());
  report.accepted = { sub: result.payload.sub, jkt: result.dpop.jkt === jkt };
  const codeOf = (promise) => promise.then(() => 'accepted', (error) => (isJwtVerifyError(error) ? error.code : String(error)));
  report.replay = await codeOf(verifier.verifyRequest(request()));
  report.bearer = await codeOf(verifier.verifyRequest(new Request(url, { headers: { authorization: 'Bearer ' + token } })));
  const fresh = await createDpopProof({ key, method: 'GET', url, accessToken: token });
  const answer = await authenticate(verifier, new Request(url, { headers: { authorization: 'DPoP ' + token, dpop: fresh } }));
  report.authenticate = answer.ok;
  const missing = await authenticate(verifier, new Request(url), { realm: 'api' });
  report.challenge = missing.headers['WWW-Authenticate'];
  report.redisStore = typeof createRedisDpopReplayStore({ set: async () => 'OK' }).remember;
  const required = createRequire(import.meta.url);
  report.require = {
    main: typeof required('oauth-jwt-verify').createMemoryDpopReplayStore,
    testing: typeof required('oauth-jwt-verify/testing').createDpopProof,
  };
} finally {
  await issuer.close();
}
process.stdout.write(JSON.stringify(report));
`;

const packed = usePackedPackage('dpop', { 'dpop.mjs': CONSUMER });

describe('DPoP from the packed package in a consumer project', () => {
  it('verifyRequest and authenticate accept a proof from createDpopProof once; replay and Bearer are refused', async () => {
    expect(JSON.parse(await runConsumer(packed, 'dpop.mjs'))).toEqual({
      accepted: { sub: 'consumer', jkt: true },
      replay: 'ERR_DPOP_PROOF_INVALID',
      bearer: 'ERR_DPOP_BINDING',
      authenticate: true,
      challenge: expect.stringMatching(/^Bearer realm="api", DPoP realm="api", algs="RS256 [^"]+"$/),
      redisStore: 'function',
      require: { main: 'function', testing: 'function' },
    });
  }, 60_000);
});

// A sender-constrained token (DPoP-bound cnf.jkt, RFC 9449; certificate-bound cnf["x5t#S256"],
// RFC 8705) never passes as a bearer token: every path that sees the token alone refuses it
// (JWTs and introspected answers alike, through the verified-token cache too), unless the
// caller says it checks the binding itself; the request paths still accept it once checked.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  IntrospectionVerifier,
  JwtOrIntrospectionVerifier,
  JwtVerifier,
  type JwtVerifierOptions,
  type JwtVerifyErrorCode,
  MultiIssuerVerifier,
  type TokenVerifier,
  authenticate,
  certificateThumbprint,
  protectedResource,
} from '../../src/index.js';
import { useMswIssuer } from '../support/msw.js';
import { API, type DpopClient, dpopClient, fetchRequest, proofFor } from '../support/dpop.js';
import { expectRejection } from '../support/rejections.js';
import { parseChallenges } from '../support/challenges.js';

const CLIENT = { clientId: 'orders-api', clientSecret: 'orders-secret' };
const { issuer } = useMswIssuer({ issuer: 'https://issuer.test', audience: API, clients: [CLIENT] });

const certificate = Uint8Array.from([0x30, 0x03, 0x01, 0x02, 0x0a]);
let thumbprint: string;
let client: DpopClient;
beforeAll(async () => {
  thumbprint = await certificateThumbprint(certificate);
  client = await dpopClient();
});

/** The two kinds of binding: the cnf of each and the code a path that cannot check it refuses with. */
const BINDINGS: ReadonlyArray<{ kind: string; cnf: () => object; code: JwtVerifyErrorCode }> = [
  { kind: 'DPoP-bound (cnf.jkt)', cnf: () => ({ jkt: client.jkt }), code: 'ERR_DPOP_BINDING' },
  {
    kind: 'certificate-bound (cnf x5t#S256)',
    cnf: () => ({ 'x5t#S256': thumbprint }),
    code: 'ERR_CERTIFICATE_BINDING',
  },
];

const jwtVerifier = (options: Partial<JwtVerifierOptions> = {}) =>
  new JwtVerifier({ issuer: issuer.issuer, audience: API, ...options });
const introspectionVerifier = () =>
  new IntrospectionVerifier({ issuer: issuer.issuer, audience: API, ...CLIENT });
const eitherVerifier = () =>
  new JwtOrIntrospectionVerifier({ issuer: issuer.issuer, audience: API, ...CLIENT });

describe.each(BINDINGS)('a $kind token', ({ cnf, code }) => {
  const jwt = () => issuer.sign({ sub: 'alice', cnf: cnf() });
  const opaque = () => issuer.issueOpaqueToken({ sub: 'alice', cnf: cnf() });

  it('is refused by verify(token) of every verifier, JWT or introspected, and passes with allowBoundTokens', async () => {
    const token = await jwt();
    const paths: Array<[string, TokenVerifier, string]> = [
      ['JwtVerifier', jwtVerifier(), token],
      ['MultiIssuerVerifier', new MultiIssuerVerifier([jwtVerifier()]), token],
      ['JwtOrIntrospectionVerifier (JWT)', eitherVerifier(), token],
      ['protectedResource', protectedResource({ resource: API, issuer: issuer.issuer }), token],
      ['IntrospectionVerifier', introspectionVerifier(), opaque()],
      ['JwtOrIntrospectionVerifier (opaque)', eitherVerifier(), opaque()],
      ['MultiIssuerVerifier (opaque)', new MultiIssuerVerifier([introspectionVerifier()]), opaque()],
    ];
    for (const [name, verifier, presented] of paths) {
      const refused = await expectRejection(verifier.verify(presented), code, presented);
      expect(refused.message, name).not.toMatch(/[^\x20-\x7e]/);
      const { payload } = await verifier.verify(presented, { allowBoundTokens: true });
      expect(payload.cnf, name).toEqual(cnf());
      expect(payload.sub, name).toBe('alice');
    }
  });

  it('is refused by verifyAuthorizationHeader of every verifier', async () => {
    const token = await jwt();
    const verifiers = [jwtVerifier(), jwtVerifier({ dpop: {} }), new MultiIssuerVerifier([jwtVerifier()])];
    for (const verifier of verifiers) {
      await expectRejection(verifier.verifyAuthorizationHeader(`Bearer ${token}`), code, token);
    }
    const answer = opaque();
    for (const verifier of [introspectionVerifier(), eitherVerifier()]) {
      await expectRejection(verifier.verifyAuthorizationHeader(`Bearer ${answer}`), code);
    }
    // A verifier that accepts DPoP names both schemes in its challenges, one with the error.
    const told = await expectRejection(
      jwtVerifier({ dpop: {} }).verifyAuthorizationHeader(`Bearer ${token}`),
      code,
    );
    const challenges = parseChallenges(told.wwwAuthenticate('api'));
    expect(challenges.map((challenge) => challenge.scheme)).toEqual(['Bearer', 'DPoP']);
    expect(challenges.filter((challenge) => challenge.params.error === 'invalid_token')).toHaveLength(1);
  });

  it('is refused by tokens.map(verifier.verify): the index is not options', async () => {
    const tokens = [await jwt(), await issuer.sign({ sub: 'bob' })];
    const results = await Promise.allSettled(tokens.map(jwtVerifier().verify));
    expect(results.map((result) => (result.status === 'rejected' ? result.reason.code : 'ok'))).toEqual([
      code,
      'ok',
    ]);
  });

  it('is refused on a verified-token cache hit too, whichever call cached it', async () => {
    const verifier = jwtVerifier({ cache: { verifiedTokens: 10 } });
    const token = await jwt();
    await verifier.verify(token, { allowBoundTokens: true });
    await expectRejection(verifier.verify(token), code);
    expect((await verifier.verify(token, { allowBoundTokens: true })).payload.sub).toBe('alice');
    await expectRejection(verifier.verify(token), code);
    // Refused first, then allowed: the same token, from the cache or not, gets the same answers.
    const fresh = jwtVerifier({ cache: { verifiedTokens: 10 } });
    await expectRejection(fresh.verify(token), code);
    expect((await fresh.verify(token, { allowBoundTokens: true })).payload.cnf).toEqual(cnf());
  });

  it('reports the token refused for its own reason first: a bad token is not called bound', async () => {
    const expired = await issuer.sign({ cnf: cnf() }, { expiresIn: -60 });
    await expectRejection(jwtVerifier().verify(expired), 'ERR_TOKEN_EXPIRED');
    const forged = `${(await jwt()).slice(0, -4)}AAAA`;
    await expectRejection(jwtVerifier().verify(forged), 'ERR_SIGNATURE_INVALID');
  });
});

describe('where the binding is checked, a bound token is accepted', () => {
  it('authenticate() with a verifier of your own that passes the options on', async () => {
    const token = await issuer.sign({ sub: 'alice', cnf: { 'x5t#S256': thumbprint } });
    const jwt = jwtVerifier();
    const own: TokenVerifier = { verify: (t, options) => jwt.verify(t, options) };
    const result = await authenticate(own, fetchRequest(`Bearer ${token}`), {
      clientCertificate: () => certificate,
    });
    expect(result.ok).toBe(true);
  });

  it('verifyRequest and authenticate() with a DPoP proof of the key', async () => {
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    const verifier = jwtVerifier({ dpop: {} });
    const request = async () => fetchRequest(`DPoP ${token}`, await proofFor(client, token));
    expect((await verifier.verifyRequest(await request())).dpop?.jkt).toBe(client.jkt);
    expect((await authenticate(verifier, await request())).ok).toBe(true);
  });

  it('protectedResource through authenticate(), with the certificate it is bound to', async () => {
    const token = await issuer.sign({ sub: 'alice', cnf: { 'x5t#S256': thumbprint } });
    const resource = protectedResource({ resource: API, issuer: issuer.issuer });
    const accepted = await authenticate(resource, fetchRequest(`Bearer ${token}`), {
      clientCertificate: () => certificate,
    });
    expect(accepted.ok).toBe(true);
    const refused = await authenticate(resource, fetchRequest(`Bearer ${token}`));
    expect(refused.ok || refused.body.code).toBe('ERR_CERTIFICATE_BINDING');
  });
});

// Two verifiers (two instances of a fleet) sharing one replay store on a real redis-server
// (started here on a free loopback port): a proof accepted by one is refused by the other,
// keys carry the PX expiry of the proof's window, and while Redis is down DPoP requests
// are refused with a 503, never let through.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, authenticate, createRedisDpopReplayStore } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { useRedisServer } from '../support/redis-server.js';
import { API, type DpopClient, dpopClient, fetchRequest, proofFor } from '../support/dpop.js';
import { expectRejection } from '../support/rejections.js';

const redis = useRedisServer();
let issuer: TestIssuer;
let client: DpopClient;

async function instance(prefix: string): Promise<JwtVerifier> {
  return new JwtVerifier({
    issuer: issuer.issuer,
    audience: API,
    dpop: { maxAgeSeconds: 120, replay: createRedisDpopReplayStore(await redis.connect(), { prefix }) },
  });
}

beforeAll(async () => {
  [issuer, client] = await Promise.all([createTestIssuer({ listen: true, audience: API }), dpopClient()]);
});
afterAll(async () => {
  await issuer?.close();
});

describe('a DPoP replay store shared on Redis', () => {
  it('refuses at the second instance a proof the first accepted', async () => {
    const [a, b] = await Promise.all([instance('fleet:'), instance('fleet:')]);
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    const proof = await proofFor(client, token);
    const first = await a.verifyRequest(fetchRequest(`DPoP ${token}`, proof));
    expect(first.dpop?.jkt).toBe(client.jkt);
    const error = await expectRejection(
      b.verifyRequest(fetchRequest(`DPoP ${token}`, proof)),
      'ERR_DPOP_PROOF_INVALID',
    );
    expect(error.message).toMatch(/a replay/);
    // The other instance takes a fresh proof.
    expect(
      (await b.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)))).dpop?.jti,
    ).not.toBe(first.dpop?.jti);
    a.close();
    b.close();
  });

  it('keeps one key per proof under the prefix, expiring when the proof’s iat window closes', async () => {
    const verifier = await instance('layout:');
    const token = await issuer.sign({}, { dpopJkt: client.jkt });
    await verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    const reader = await redis.connect();
    const keys = await reader.keys('layout:*');
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^layout:dpop:[A-Za-z0-9_-]{43}$/);
    expect(await reader.get(keys[0]!)).toBe('1');
    const ttl = await reader.pTTL(keys[0]!);
    // maxAgeSeconds 120 plus the default 5 s tolerance, from the proof's iat (now).
    expect(ttl).toBeGreaterThan(120_000);
    expect(ttl).toBeLessThanOrEqual(125_000);
    verifier.close();
  });

  it('refuses DPoP requests with a 503 while Redis is down; Bearer requests still pass', async () => {
    const verifier = await instance('outage:');
    await redis.stop();
    const token = await issuer.sign({}, { dpopJkt: client.jkt });
    const error = await expectRejection(
      verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token))),
      'ERR_ISSUER_UNAVAILABLE',
    );
    expect(error.message).toMatch(/DPoP replay store failed/);
    const result = await authenticate(verifier, fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    expect(result.ok ? 200 : result.status).toBe(503);
    const bearer = await authenticate(verifier, fetchRequest(`Bearer ${await issuer.sign({ sub: 'bob' })}`));
    expect(bearer.ok).toBe(true);
    verifier.close();
  });

  it('refuses a client without set at once', () => {
    expect(() => createRedisDpopReplayStore({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

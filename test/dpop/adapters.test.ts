// Express, Fastify, Hono, node:http and a Fetch handler (test/support/servers.ts)
// over real HTTP with a nonce-requiring DPoP verifier on a clock the test moves: each hands
// the client its nonce on the 401 and the next nonce on the success that used the old one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { type TestIssuer, createDpopProof, createTestIssuer } from '../../src/testing/index.js';
import { ROUTE_SCOPE, type Target, startAll } from '../support/servers.js';
import { API, type DpopClient, dpopClient } from '../support/dpop.js';

const LIFETIME = 120;
const clock = { ms: Date.UTC(2032, 1, 1, 8, 0, 10) };
let issuer: TestIssuer;
let client: DpopClient;
let targets: Target[];
let token: string;

beforeAll(async () => {
  [issuer, client] = await Promise.all([
    createTestIssuer({ listen: true, audience: API, now: () => clock.ms }),
    dpopClient(),
  ]);
  token = await issuer.sign({ sub: 'alice', scope: ROUTE_SCOPE }, { dpopJkt: client.jkt, expiresIn: 7200 });
  const verifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: API,
    now: () => clock.ms,
    dpop: { nonce: { secret: 'adapters-test-secret-of-32-bytes-or-more', lifetimeSeconds: LIFETIME } },
  });
  targets = await startAll(verifier, {});
});
afterAll(async () => {
  await Promise.all([...(targets ?? []).map((t) => t.close()), issuer?.close()]);
});

const proof = (target: Target, nonce?: string) =>
  createDpopProof({
    key: client.key,
    method: 'GET',
    url: target.url(),
    accessToken: token,
    nonce,
    now: () => clock.ms,
  });

describe('DPoP-Nonce through every adapter', () => {
  it('is sent on the use_dpop_nonce 401, and again on the success whose nonce is about to roll', async () => {
    for (const target of targets) {
      const asked = await target.get(`DPoP ${token}`, '/orders', { dpop: await proof(target) });
      expect({
        name: target.name,
        code: (asked.body as { code: string }).code,
        status: asked.status,
      }).toEqual({
        name: target.name,
        code: 'ERR_DPOP_NONCE_REQUIRED',
        status: 401,
      });
      const nonce = asked.dpopNonce!;
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const current = await target.get(`DPoP ${token}`, '/orders', { dpop: await proof(target, nonce) });
      expect({ name: target.name, status: current.status, nonce: current.dpopNonce }).toEqual({
        name: target.name,
        status: 200,
        nonce: null,
      });

      clock.ms += LIFETIME * 1000;
      const rolling = await target.get(`DPoP ${token}`, '/orders', { dpop: await proof(target, nonce) });
      expect({ name: target.name, status: rolling.status }).toEqual({ name: target.name, status: 200 });
      expect(rolling.dpopNonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(rolling.dpopNonce).not.toBe(nonce);
      clock.ms -= LIFETIME * 1000;
    }
  });
});

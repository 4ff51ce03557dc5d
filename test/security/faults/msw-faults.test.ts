import { exportJWK, generateKeyPair } from 'jose';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../../src/testing/index.js';
import type { TestIssuer } from '../../../src/testing/index.js';
import { AUDIENCE, ISSUER, observedVerifier, trackUnhandledRejections } from '../helpers.js';
import { rejectionCode } from '../../support/rejections.js';

const MAX_AGE_MS = 60_000;
const server = setupServer();
const requested: string[] = [];
const unhandled = trackUnhandledRejections();
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ issuer: ISSUER, audience: AUDIENCE, algorithms: ['ES256'] });
  server.use(...issuer.handlers);
  server.events.on('request:start', ({ request }) => {
    requested.push(request.url);
  });
  server.listen({ onUnhandledRequest: 'error' });
});

afterEach(() => {
  issuer.reset();
  requested.length = 0;
  expect(unhandled.reasons).toEqual([]);
});

afterAll(() => {
  server.close();
  unhandled.stop();
});

function verifier() {
  return observedVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    cache: { maxAgeMs: MAX_AGE_MS, cooldownMs: 1000 },
  });
}

describe('stub issuer faults through msw', () => {
  it('turns a 503 JWKS into ERR_ISSUER_UNAVAILABLE with a jwks_failed event, then recovers', async () => {
    const { verifier: v, events, clock } = verifier();
    issuer.failNext('jwks', { status: 503, headers: { 'retry-after': '5' } });
    const token = await issuer.sign();
    expect(await rejectionCode(v.verify(token))).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(events).toContainEqual(expect.objectContaining({ type: 'jwks_failed', servingStale: false }));
    clock.offsetMs += 5001;
    await expect(v.verify(token)).resolves.toBeDefined();
    expect(issuer.requests.jwks).toBe(2);
  });

  it('serves known keys through an outage of both documents', async () => {
    const { verifier: v, events, clock } = verifier();
    const token = await issuer.sign();
    await v.verify(token);
    clock.offsetMs += MAX_AGE_MS + 1;
    issuer.failNext('metadata', { malformed: 'html', status: 502, times: Infinity });
    issuer.failNext('jwks', { malformed: true, times: Infinity });
    for (let i = 0; i < 10; i++) await expect(v.verify(token)).resolves.toBeDefined();
    expect(events.filter((e) => e.type === 'jwks_failed')).toEqual([
      expect.objectContaining({ servingStale: true }),
    ]);
    expect(events.filter((e) => e.type === 'discovery_failed')).toEqual([
      expect.objectContaining({ servingStale: true }),
    ]);
  });

  it('never requests a jku or x5u URL from a token header (only the issuer documents are fetched)', async () => {
    const { verifier: v } = verifier();
    const attacker = await generateKeyPair('ES256', { extractable: true });
    const jwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker' };
    const token = await issuer.sign(
      {},
      {
        key: attacker.privateKey,
        header: {
          kid: 'attacker',
          jku: 'https://attacker.test/jwks.json',
          x5u: 'https://attacker.test/cert.pem',
          jwk,
        },
      },
    );
    expect(await rejectionCode(v.verify(token))).toBe('ERR_KEY_NOT_FOUND');
    expect(requested.length).toBeGreaterThan(0);
    expect(requested.every((url) => url.startsWith(`${ISSUER}/`))).toBe(true);
  });
});

// A fleet of 20 verifiers sharing a real redis-server (started here on a free loopback port,
// without persistence) through createRedisJwksStore and the `redis` client: one JWKS request
// between them on cold start and on rotation; when Redis goes down, each fetches for itself.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, createRedisJwksStore } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { EventLog } from './helpers.js';
import { useRedisServer } from '../support/redis-server.js';

const FLEET = 20;

const redis = useRedisServer();
let issuer: TestIssuer;

async function fleet(options: { prefix: string }) {
  const logs = Array.from({ length: FLEET }, () => new EventLog());
  const verifiers = await Promise.all(
    logs.map(
      async (log) =>
        new JwtVerifier({
          issuer: issuer.issuer,
          audience: 'https://api.test',
          onEvent: log.listener,
          timeoutMs: 2000,
          cache: { store: createRedisJwksStore(await redis.connect(), options) },
        }),
    ),
  );
  return { verifiers, logs };
}

async function verifyAll(verifiers: JwtVerifier[], token: string): Promise<string[]> {
  const results = await Promise.allSettled(verifiers.map((verifier) => verifier.verify(token)));
  return results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
}

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, audience: 'https://api.test' });
});
beforeEach(() => issuer.reset());
afterAll(async () => {
  await issuer?.close();
});

describe('a fleet sharing Redis', () => {
  it('makes one JWKS request between 20 verifiers on cold start and one on rotation', async () => {
    const { verifiers, logs } = await fleet({ prefix: 'cold-start:' });
    expect(await verifyAll(verifiers, await issuer.sign({ sub: 'u' }))).toEqual(Array(FLEET).fill('ok'));
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
    expect(logs.flatMap((log) => log.of('jwks_loaded'))).toHaveLength(FLEET - 1);

    const [fresh] = await issuer.rotateKeys();
    expect(await verifyAll(verifiers, await issuer.sign({ sub: 'u' }))).toEqual(Array(FLEET).fill('ok'));
    expect(issuer.requests.jwks).toBe(2);
    expect(logs.map((log) => log.of('key_rotated').at(-1)?.added)).toEqual(Array(FLEET).fill([fresh!.kid]));
    expect(logs.flatMap((log) => log.of('store_failed'))).toEqual([]);
    for (const verifier of verifiers) verifier.close();
  });

  it('keeps the key set under its prefix with an expiry, as JSON the verifiers check', async () => {
    const { verifiers } = await fleet({ prefix: 'layout:' });
    await verifiers[0]!.warmup();
    const client = await redis.connect();
    const key = `layout:jwks:${issuer.metadata.jwks_uri}`;
    const stored = JSON.parse((await client.get(key))!);
    expect(stored).toMatchObject({ format: 1, uri: issuer.metadata.jwks_uri });
    expect(stored.keys.map((k: { kid: string }) => k.kid)).toEqual(issuer.keys.map((k) => k.kid));
    const ttl = await client.pTTL(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(600_000);
    for (const verifier of verifiers) verifier.close();
  });

  it('falls back to one request per verifier while Redis is down, and keeps verifying', async () => {
    const { verifiers, logs } = await fleet({ prefix: 'outage:' });
    await Promise.all(verifiers.map((verifier) => verifier.warmup()));
    expect(issuer.requests.jwks).toBe(1);

    await redis.stop();
    await issuer.rotateKeys();
    expect(await verifyAll(verifiers, await issuer.sign({ sub: 'u' }))).toEqual(Array(FLEET).fill('ok'));
    expect(issuer.requests.jwks).toBe(1 + FLEET);
    expect(logs.every((log) => log.of('store_failed').some((event) => event.operation === 'get'))).toBe(true);
    for (const verifier of verifiers) verifier.close();
  });
});

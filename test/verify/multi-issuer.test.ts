import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MultiIssuerVerifier, authenticate, isJwtVerifyError } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { type Target, closeAll, startExpress, startHono } from '../support/servers.js';

const AUDIENCE = 'https://api.test';
let tenantA: TestIssuer;
let tenantB: TestIssuer;
/** Not configured: nothing may ever be fetched from it. */
let stranger: TestIssuer;
let verifier: MultiIssuerVerifier;
let targets: Target[];

const counts = (issuer: TestIssuer) => ({ metadata: issuer.requests.metadata, jwks: issuer.requests.jwks });

beforeAll(async () => {
  [tenantA, tenantB, stranger] = await Promise.all([
    createTestIssuer({ listen: true, audience: AUDIENCE, algorithms: ['ES256'] }),
    createTestIssuer({ listen: true, audience: AUDIENCE, algorithms: ['RS256'] }),
    createTestIssuer({ listen: true, audience: AUDIENCE, algorithms: ['ES256'] }),
  ]);
  verifier = new MultiIssuerVerifier([
    { issuer: tenantA.issuer, audience: AUDIENCE },
    { issuer: tenantB.issuer, audience: AUDIENCE, discovery: 'oidc' },
  ]);
  targets = await Promise.all([
    startExpress(verifier, { realm: 'api' }),
    startHono(verifier, { realm: 'api' }),
  ]);
});
beforeEach(() => {
  for (const issuer of [tenantA, tenantB, stranger]) issuer.reset();
});
afterAll(() => closeAll(targets ?? [], tenantA, tenantB, stranger));

describe('MultiIssuerVerifier end to end, two listening issuers', () => {
  it('routes each token by iss to its own issuer, fetching only from that one', async () => {
    const fromA = await tenantA.sign({ sub: 'a-user', scope: 'read:orders' });
    const fromB = await tenantB.sign({ sub: 'b-user', scope: 'read:orders' });

    expect((await verifier.verify(fromA)).payload.sub).toBe('a-user');
    expect(counts(tenantA)).toEqual({ metadata: 1, jwks: 1 });
    expect(counts(tenantB)).toEqual({ metadata: 0, jwks: 0 });

    expect((await verifier.verify(fromB)).payload.sub).toBe('b-user');
    expect(counts(tenantB)).toEqual({ metadata: 1, jwks: 1 });

    // Both keep their own cached key sets.
    await verifier.verify(await tenantA.sign({ sub: 'again' }));
    await verifier.verify(await tenantB.sign({ sub: 'again' }));
    expect(counts(tenantA)).toEqual({ metadata: 1, jwks: 1 });
    expect(counts(tenantB)).toEqual({ metadata: 1, jwks: 1 });
  });

  it('serves both tenants through the framework adapters', async () => {
    const fromA = await tenantA.sign({ sub: 'a-user', scope: 'read:orders' });
    const fromB = await tenantB.sign({ sub: 'b-user', scope: 'read:orders' });
    for (const target of targets) {
      expect(await target.get(`Bearer ${fromA}`)).toMatchObject({
        status: 200,
        body: { sub: 'a-user', iss: tenantA.issuer },
      });
      expect(await target.get(`Bearer ${fromB}`)).toMatchObject({
        status: 200,
        body: { sub: 'b-user', iss: tenantB.issuer },
      });
    }
  });

  it('refuses a token from an unknown issuer with ERR_ISSUER_MISMATCH before any request to it', async () => {
    const foreign = await stranger.sign({ sub: 'intruder', scope: 'read:orders' });
    const error = await verifier.verify(foreign).catch((e: unknown) => e);
    expect(isJwtVerifyError(error) && error.code).toBe('ERR_ISSUER_MISMATCH');
    expect((error as Error).message).toContain('not one of the 2 configured issuers');

    const result = await authenticate(
      verifier,
      new Request('https://api.test/', { headers: { authorization: `Bearer ${foreign}` } }),
      {
        realm: 'api',
      },
    );
    expect(result.ok ? 'accepted' : result.body.code).toBe('ERR_ISSUER_MISMATCH');
    expect(result.ok ? 0 : result.status).toBe(401);
    for (const target of targets) {
      expect(await target.get(`Bearer ${foreign}`)).toMatchObject({
        status: 401,
        body: { code: 'ERR_ISSUER_MISMATCH' },
      });
    }

    // No request of any kind reached it.
    expect(Object.entries(stranger.requests).filter(([, count]) => count > 0)).toEqual([]);
    // Nor did the configured issuers get asked about it.
    expect(counts(tenantA)).toEqual({ metadata: 0, jwks: 0 });
    expect(counts(tenantB)).toEqual({ metadata: 0, jwks: 0 });
  });

  it('refuses a token that claims a known issuer but is signed by another key', async () => {
    // Warm tenant A first, so what follows counts only the refetch the unknown kid causes.
    await verifier.verify(await tenantA.sign({ sub: 'warm' }));
    tenantA.reset();
    const forged = await stranger.sign({ sub: 'intruder', iss: tenantA.issuer });
    const error = await verifier.verify(forged).catch((e: unknown) => e);
    expect(isJwtVerifyError(error) && error.code).toBe('ERR_KEY_NOT_FOUND');
    expect(stranger.requests.jwks).toBe(0);
    expect(tenantA.requests.jwks).toBe(1);
  });

  it('warms every issuer up, so the first requests do not wait', async () => {
    const fresh = new MultiIssuerVerifier([
      { issuer: tenantA.issuer, audience: AUDIENCE },
      { issuer: tenantB.issuer, audience: AUDIENCE },
    ]);
    await fresh.warmup();
    expect(counts(tenantA)).toEqual({ metadata: 1, jwks: 1 });
    expect(counts(tenantB)).toEqual({ metadata: 1, jwks: 1 });
    await fresh.verify(await tenantB.sign({ sub: 'b-user' }));
    expect(counts(tenantB)).toEqual({ metadata: 1, jwks: 1 });
  });
});

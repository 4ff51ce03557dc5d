// The methods of JwtVerifier and MultiIssuerVerifier work detached from their object, as
// callbacks (`tokens.map(verifier.verify)`), each one and any added to the classes later.
// The issuers are stub issuers answering through their in-process fetch.
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions, MultiIssuerVerifier } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { rejectionCode } from '../support/rejections.js';

const AUDIENCE = 'https://api.test';
let tenantA: TestIssuer;
let tenantB: TestIssuer;

beforeAll(async () => {
  [tenantA, tenantB] = await Promise.all([
    createTestIssuer({ issuer: 'https://tenant-a.test', audience: AUDIENCE, algorithms: ['ES256'] }),
    createTestIssuer({ issuer: 'https://tenant-b.test', audience: AUDIENCE, algorithms: ['ES256'] }),
  ]);
});

function options(issuer: TestIssuer): JwtVerifierOptions {
  return { issuer: issuer.issuer, audience: AUDIENCE, fetch: issuer.fetch };
}

/** The names of every method a class's prototype defines (not accessors, not the constructor). */
function methodsOf(prototype: object): (string | symbol)[] {
  return Reflect.ownKeys(prototype).filter(
    (key) =>
      key !== 'constructor' && typeof Object.getOwnPropertyDescriptor(prototype, key)!.value === 'function',
  );
}

describe('JwtVerifier methods, detached', () => {
  it('verifies tokens through tokens.map(verifier.verify)', async () => {
    const verifier = new JwtVerifier(options(tenantA));
    const tokens = [await tenantA.sign({ sub: 'a' }), 'not-a-token', await tenantA.sign({ sub: 'b' })];
    const results = await Promise.allSettled(tokens.map(verifier.verify));
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value.payload.sub : 'rejected'))).toEqual([
      'a',
      'rejected',
      'b',
    ]);
    expect(await rejectionCode(Promise.all(['not-a-token'].map(verifier.verify)))).toBe(
      'ERR_TOKEN_MALFORMED',
    );
  });

  it('verifies an Authorization header through a detached verifyAuthorizationHeader', async () => {
    const { verifyAuthorizationHeader } = new JwtVerifier(options(tenantA));
    const { payload } = await verifyAuthorizationHeader(`Bearer ${await tenantA.sign({ sub: 'h' })}`);
    expect(payload.sub).toBe('h');
    expect(await rejectionCode(verifyAuthorizationHeader(undefined))).toBe('ERR_TOKEN_MISSING');
  });

  it('warms up, reads metadata, exports the cache and closes through detached methods', async () => {
    tenantA.reset();
    const { warmup, metadata, exportCache, close } = new JwtVerifier({
      ...options(tenantA),
      cache: { refreshAhead: true },
    });
    await warmup();
    expect(tenantA.requests).toMatchObject({ metadata: 1, jwks: 1 });
    expect((await metadata()).issuer).toBe(tenantA.issuer);
    expect(exportCache().jwks?.keys.length).toBeGreaterThan(0);
    close();
    close();
  });

  it('disposes through a detached [Symbol.dispose]', async () => {
    const verifier = new JwtVerifier(options(tenantA));
    const dispose = (verifier as unknown as Record<symbol, () => void>)[Symbol.dispose]!;
    expect(typeof dispose).toBe('function');
    dispose();
    await expect(verifier.verify(await tenantA.sign({ sub: 'after' }))).resolves.toBeDefined();
  });

  it('binds every method of the class, so one added later works detached too', async () => {
    const verifier = new JwtVerifier(options(tenantA));
    const methods = methodsOf(JwtVerifier.prototype);
    expect(methods).toEqual(
      expect.arrayContaining(['verify', 'verifyAuthorizationHeader', 'warmup', 'close']),
    );
    for (const method of methods) {
      expect(Object.hasOwn(verifier, method), String(method)).toBe(true);
      expect(Reflect.get(verifier, method), String(method)).not.toBe(
        Reflect.get(JwtVerifier.prototype, method),
      );
    }
    class WithIssuerName extends JwtVerifier {
      issuerName(): string {
        return new URL(this.issuer).hostname;
      }
    }
    const { issuerName, verify } = new WithIssuerName(options(tenantA));
    expect(issuerName()).toBe('tenant-a.test');
    expect((await verify(await tenantA.sign({ sub: 's' }))).payload.sub).toBe('s');
  });
});

describe('MultiIssuerVerifier methods, detached', () => {
  it('routes and verifies through tokens.map(verifier.verify) and a detached verifyAuthorizationHeader', async () => {
    const { verify, verifyAuthorizationHeader } = new MultiIssuerVerifier([
      options(tenantA),
      options(tenantB),
    ]);
    const tokens = [await tenantA.sign({ sub: 'a' }), await tenantB.sign({ sub: 'b' })];
    const results = await Promise.all(tokens.map(verify));
    expect(results.map((result) => result.payload.sub)).toEqual(['a', 'b']);
    expect((await verifyAuthorizationHeader(`Bearer ${tokens[1]}`)).payload.sub).toBe('b');
    expect(await rejectionCode(verify('not-a-token'))).toBe('ERR_TOKEN_MALFORMED');
  });

  it('finds, warms up and closes through detached methods', async () => {
    tenantA.reset();
    tenantB.reset();
    const multi = new MultiIssuerVerifier([options(tenantA), options(tenantB)]);
    const { verifierFor, warmup, close } = multi;
    expect(verifierFor(tenantB.issuer)?.issuer).toBe(tenantB.issuer);
    await warmup();
    expect([tenantA.requests.jwks, tenantB.requests.jwks]).toEqual([1, 1]);
    close();
    expect(multi.issuers).toEqual([tenantA.issuer, tenantB.issuer]);
  });

  it('binds every method of the class', () => {
    const multi = new MultiIssuerVerifier([options(tenantA)]);
    const methods = methodsOf(MultiIssuerVerifier.prototype);
    expect(methods).toEqual(expect.arrayContaining(['verify', 'verifierFor', 'warmup', 'close']));
    for (const method of methods) {
      expect(Object.hasOwn(multi, method), String(method)).toBe(true);
    }
  });
});

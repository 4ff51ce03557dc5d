// Opaque tokens over real HTTP: the stub issuer listening on 127.0.0.1 with opaque access
// tokens from its token endpoint, IntrospectionVerifier and JwtOrIntrospectionVerifier
// behind every adapter (Express, Fastify, Hono, node:http, a Fetch handler), and
// MultiIssuerVerifier's routing of tokens that name no issuer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IntrospectionVerifier,
  JwtOrIntrospectionVerifier,
  type JwtOrIntrospectionVerifierOptions,
  JwtVerifier,
  MultiIssuerVerifier,
} from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { ROUTE_SCOPE, type Target, startAll } from '../support/servers.js';
import { expectRejection } from '../support/rejections.js';

const API = 'https://api.test';
const RESOURCE_SERVER = { clientId: 'orders-api', clientSecret: 'orders-secret' };
const SERVICE = { clientId: 'service', clientSecret: 'service-secret' };

let opaqueIssuer: TestIssuer;
let jwtIssuer: TestIssuer;

beforeAll(async () => {
  [opaqueIssuer, jwtIssuer] = await Promise.all([
    createTestIssuer({
      listen: true,
      audience: API,
      accessTokenFormat: 'opaque',
      clients: [RESOURCE_SERVER, SERVICE],
    }),
    createTestIssuer({ listen: true, audience: API, clients: [RESOURCE_SERVER, SERVICE] }),
  ]);
});
afterAll(() => Promise.all([opaqueIssuer.close(), jwtIssuer.close()]));

/** The resource server's IntrospectionVerifier for the opaque issuer. */
const introspectionVerifier = () =>
  new IntrospectionVerifier({ issuer: opaqueIssuer.issuer, audience: API, ...RESOURCE_SERVER });

/** The resource server's JwtOrIntrospectionVerifier for the JWT issuer, with `options` on top. */
const jwtOrIntrospection = (options: Partial<JwtOrIntrospectionVerifierOptions> = {}) =>
  new JwtOrIntrospectionVerifier({ issuer: jwtIssuer.issuer, audience: API, ...RESOURCE_SERVER, ...options });

/** An access token from the issuer's token endpoint (client_credentials, over HTTP). */
async function tokenFrom(issuer: TestIssuer, scope = ROUTE_SCOPE): Promise<string> {
  const response = await fetch(issuer.metadata.token_endpoint!, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from('service:service-secret').toString('base64')}`,
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const body = (await response.json()) as { access_token: string };
  return body.access_token;
}

describe('IntrospectionVerifier behind every adapter, over real HTTP', () => {
  let targets: Target[];
  beforeAll(async () => {
    const verifier = introspectionVerifier();
    targets = await startAll(verifier, { realm: 'orders' });
  });
  afterAll(() => Promise.all(targets.map((target) => target.close())));

  it('accepts an opaque token from the token endpoint, introspected once for all adapters', async () => {
    const token = await tokenFrom(opaqueIssuer);
    expect(token.includes('.')).toBe(false);
    opaqueIssuer.reset();
    for (const target of targets) {
      const answer = await target.get(`Bearer ${token}`);
      expect(answer, target.name).toMatchObject({
        status: 200,
        body: { sub: 'service', iss: opaqueIssuer.issuer },
      });
    }
    expect(opaqueIssuer.requests).toMatchObject({ metadata: 1, introspect: 1 });
  });

  it('answers 401 invalid_token for an unknown token, 403 for a missing scope, 503 when introspection fails', async () => {
    const narrow = await tokenFrom(opaqueIssuer, 'profile');
    for (const target of targets) {
      const unknown = await target.get('Bearer not-a-token-it-issued');
      expect(unknown.status, target.name).toBe(401);
      expect(unknown.wwwAuthenticate).toMatch(/^Bearer realm="orders", error="invalid_token"/);
      expect(unknown.body).toMatchObject({ code: 'ERR_CLAIM_INVALID' });
      const forbidden = await target.get(`Bearer ${narrow}`);
      expect(forbidden.status, target.name).toBe(403);
      expect(forbidden.wwwAuthenticate).toMatch(/error="insufficient_scope", .*scope="read:orders"/);
    }
    const fresh = await tokenFrom(opaqueIssuer);
    opaqueIssuer.failNext('introspect', { status: 500, times: targets.length });
    for (const target of targets) {
      const down = await target.get(`Bearer ${fresh}`);
      expect(down, target.name).toMatchObject({ status: 503, body: { code: 'ERR_ISSUER_UNAVAILABLE' } });
      expect(down.retryAfter).toBe('10');
    }
  });
});

describe('JwtOrIntrospectionVerifier', () => {
  it('verifies a JWT without introspecting it, and introspects an opaque token', async () => {
    const jwt = await jwtIssuer.sign({ sub: 'jwt-user' });
    const verifier = jwtOrIntrospection();
    jwtIssuer.reset();
    expect((await verifier.verify(jwt)).payload.sub).toBe('jwt-user');
    expect(jwtIssuer.requests).toMatchObject({ metadata: 1, jwks: 1, introspect: 0 });
    const opaque = jwtIssuer.issueOpaqueToken({ sub: 'opaque-user' });
    expect((await verifier.verify(opaque)).payload.sub).toBe('opaque-user');
    // The introspection side keeps its own metadata cache: one more discovery.
    expect(jwtIssuer.requests).toMatchObject({ metadata: 2, jwks: 1, introspect: 1 });
  });

  it('refuses a JWT that fails rather than introspecting it, and introspects a JWE-shaped token', async () => {
    const verifier = jwtOrIntrospection();
    const expired = await jwtIssuer.sign({}, { expiresIn: -60 });
    jwtIssuer.reset();
    await expectRejection(verifier.verify(expired), 'ERR_TOKEN_EXPIRED', expired);
    await expectRejection(verifier.verify('a.b.c.d.e'), 'ERR_CLAIM_INVALID');
    expect(jwtIssuer.requests.introspect).toBe(1);
  });

  it('keeps the answers cache option away from the JWKS cache', async () => {
    const verifier = jwtOrIntrospection({ cache: { maxAgeMs: 0 } });
    jwtIssuer.reset();
    for (let i = 0; i < 3; i++) await verifier.verify(await jwtIssuer.sign());
    expect(jwtIssuer.requests.jwks).toBe(1);
    const opaque = jwtIssuer.issueOpaqueToken();
    await verifier.verify(opaque);
    await verifier.verify(opaque);
    expect(jwtIssuer.requests.introspect).toBe(2);
  });

  it('passes jwt-only options to the JWT side', async () => {
    const verifier = jwtOrIntrospection({ jwt: { typ: 'at+jwt' } });
    await expectRejection(verifier.verify(await jwtIssuer.sign()), 'ERR_TYPE_MISMATCH');
    expect((await verifier.verify(await tokenFrom(jwtIssuer))).header.typ).toBe('at+jwt');
    expect(() => jwtOrIntrospection({ jwt: 5 as never })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('MultiIssuerVerifier with introspecting verifiers', () => {
  it('routes a JWT by iss and an opaque token to the one introspecting verifier', async () => {
    const multi = new MultiIssuerVerifier([
      { issuer: jwtIssuer.issuer, audience: API },
      introspectionVerifier(),
    ]);
    expect((await multi.verify(await jwtIssuer.sign({ sub: 'a' }))).payload.sub).toBe('a');
    expect((await multi.verify(opaqueIssuer.issueOpaqueToken({ sub: 'b' }))).payload.sub).toBe('b');
    expect(multi.verifierFor(opaqueIssuer.issuer)).toBeInstanceOf(IntrospectionVerifier);
    expect(multi.verifierFor(jwtIssuer.issuer)).toBeInstanceOf(JwtVerifier);
  });

  it('refuses an opaque token when several issuers introspect, asking none of them', async () => {
    const multi = new MultiIssuerVerifier([jwtOrIntrospection(), introspectionVerifier()]);
    opaqueIssuer.reset();
    jwtIssuer.reset();
    const error = await expectRejection(multi.verify('opaque-token'), 'ERR_ISSUER_MISMATCH');
    expect(error.message).toMatch(/names no issuer, and 2 of the configured issuers introspect/);
    expect(opaqueIssuer.requests.introspect + jwtIssuer.requests.introspect).toBe(0);
    // JWTs still route by iss.
    expect((await multi.verify(await jwtIssuer.sign({ sub: 'c' }))).payload.sub).toBe('c');
  });

  it('without an introspecting verifier, an opaque token is ERR_TOKEN_MALFORMED as before', async () => {
    const multi = new MultiIssuerVerifier([{ issuer: jwtIssuer.issuer, audience: API }]);
    await expectRejection(multi.verify('opaque-token'), 'ERR_TOKEN_MALFORMED');
  });
});

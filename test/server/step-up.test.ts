// Step-up authentication (RFC 9470) over real HTTP: `requireAuthentication` of the Express,
// Fastify and Hono routes and of authenticate() (node:http, a fetch handler) answer the same
// 401 insufficient_user_authentication challenge, with resource_metadata when it is known;
// how the route's requirement combines with bearerAuth()'s and with the verifier's.
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, JwtVerifyError, authenticate, protectedResourceMetadata } from '../../src/index.js';
import * as forExpress from '../../src/express/index.js';
import * as forFastify from '../../src/fastify/index.js';
import * as forHono from '../../src/hono/index.js';
import { parseWwwAuthenticate } from '../../src/pkce/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { thrown } from '../support/rejections.js';
import { STEP_UP, type Target, closeAll, startAll } from '../support/servers.js';

const AUDIENCE = 'https://api.test';
const nowSeconds = () => Math.floor(Date.now() / 1000);

let issuer: TestIssuer;
let verifier: JwtVerifier;
let targets: Target[];
let described: Target[];
const metadata = protectedResourceMetadata({
  resource: 'https://api.test/payments',
  authorizationServers: ['https://issuer.test'],
});

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, audience: AUDIENCE });
  verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
  [targets, described] = await Promise.all([
    startAll(verifier, { realm: 'api' }),
    startAll(verifier, { realm: 'api', resourceMetadata: metadata }),
  ]);
});
afterAll(() => closeAll(targets, described, issuer));

/** Every quoted value of a challenge is printable ASCII without `"` or `\`. */
function expectWellFormed(header: string): void {
  expect(header).toMatch(/^[\x20-\x7e]+$/);
  for (const [, value] of header.matchAll(/="((?:[^"\\]|\\.)*)"/g)) expect(value).not.toMatch(/["\\]/);
}

describe('GET /payments, which needs acr mfa or hwk and a login within 300 s', () => {
  it('lets a token through whose acr and auth_time meet it, in every framework', async () => {
    const token = await issuer.sign({ sub: 'alice', acr: 'hwk', auth_time: nowSeconds() - 10 });
    for (const target of targets) {
      const answer = await target.get(`Bearer ${token}`, '/payments');
      expect(answer.status, target.name).toBe(200);
      expect(answer.body, target.name).toEqual({ sub: 'alice', iss: issuer.issuer });
    }
  });

  it.each([
    ['a weaker acr', { acr: 'pwd', auth_time: -10 }, /acr "pwd"\) is not one of mfa hwk/],
    ['no acr', { auth_time: -10 }, /acr nothing\) is not one of mfa hwk/],
    ['a login too long ago', { acr: 'mfa', auth_time: -3600 }, /logged in 360\d s ago, more than the 300 s/],
    ['no auth_time', { acr: 'mfa' }, /no "auth_time"/],
  ])(
    'answers 401 insufficient_user_authentication for %s, the same everywhere',
    async (_label, claims, message) => {
      const { auth_time: ago, ...rest } = claims as { auth_time?: number; acr?: string };
      const token = await issuer.sign({
        sub: 'alice',
        ...rest,
        ...(ago ? { auth_time: nowSeconds() + ago } : {}),
      });
      for (const target of targets) {
        const answer = await target.get(`Bearer ${token}`, '/payments');
        expect(answer.status, target.name).toBe(401);
        expect(answer.body, target.name).toMatchObject({
          code: 'ERR_INSUFFICIENT_AUTHENTICATION',
          error: 'insufficient_user_authentication',
        });
        expect((answer.body as { error_description: string }).error_description).toMatch(message);
        expect(answer.wwwAuthenticate, target.name).toMatch(
          /^Bearer realm="api", error="insufficient_user_authentication", error_description="[^"]+", acr_values="mfa hwk", max_age=300$/,
        );
        expectWellFormed(answer.wwwAuthenticate!);
        expect(answer.cacheControl).toBe('no-store');
      }
    },
  );

  it('names the resource metadata in the challenge when the resource describes itself (RFC 9728 §5.1)', async () => {
    const token = await issuer.sign({ sub: 'alice', acr: 'pwd', auth_time: nowSeconds() });
    for (const target of described) {
      const answer = await target.get(`Bearer ${token}`, '/payments');
      expect(answer.status, target.name).toBe(401);
      const [bearer] = parseWwwAuthenticate(answer.wwwAuthenticate);
      expect(bearer!.params, target.name).toMatchObject({
        error: 'insufficient_user_authentication',
        acr_values: 'mfa hwk',
        max_age: '300',
        resource_metadata: 'https://api.test/.well-known/oauth-protected-resource/payments',
      });
      expectWellFormed(answer.wwwAuthenticate!);
    }
  });

  it('leaves the routes without a step-up requirement alone', async () => {
    const token = await issuer.sign({ sub: 'alice', scope: 'read:orders' });
    for (const target of targets) expect((await target.get(`Bearer ${token}`)).status, target.name).toBe(200);
  });

  it('still refuses a bad token as invalid_token first', async () => {
    const token = await issuer.sign(
      { sub: 'alice', acr: 'mfa', auth_time: nowSeconds() },
      { expiresIn: -60 },
    );
    for (const target of targets) {
      const answer = await target.get(`Bearer ${token}`, '/payments');
      expect(answer.body, target.name).toMatchObject({ code: 'ERR_TOKEN_EXPIRED', error: 'invalid_token' });
    }
  });
});

describe('how requirements combine: each must hold, and the challenge names the stricter', () => {
  it('route and bearerAuth(): the acr values both accept, the smaller max_age (Hono)', async () => {
    const app = new Hono<forHono.BearerAuthEnv>();
    app.use('*', forHono.bearerAuth(verifier, { requireAuthentication: { maxAgeSeconds: 60 } }));
    app.get('/x', forHono.requireAuthentication({ acrValues: ['mfa', 'hwk'], maxAgeSeconds: 300 }), (c) =>
      c.text('ok'),
    );
    const ask = async (claims: Record<string, unknown>) => {
      const token = await issuer.sign({ sub: 'alice', ...claims });
      return app.request('/x', { headers: { authorization: `Bearer ${token}` } });
    };
    expect((await ask({ acr: 'mfa', auth_time: nowSeconds() - 30 })).status).toBe(200);
    const weak = await ask({ acr: 'pwd', auth_time: nowSeconds() - 30 });
    expect(weak.status).toBe(401);
    expect(weak.headers.get('www-authenticate')).toMatch(/acr_values="mfa hwk", max_age=60$/);
    // bearerAuth's own requirement refuses first, naming only what it knows.
    const stale = await ask({ acr: 'mfa', auth_time: nowSeconds() - 120 });
    expect(stale.status).toBe(401);
    expect(stale.headers.get('www-authenticate')).toMatch(
      /error="insufficient_user_authentication".*, max_age=60$/,
    );
  });

  it('verifier and route: both apply, each naming its own requirement', async () => {
    const strict = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, acrValues: ['mfa', 'hwk'] });
    const app = new Hono<forHono.BearerAuthEnv>();
    app.use('*', forHono.bearerAuth(strict));
    app.get('/x', forHono.requireAuthentication({ maxAgeSeconds: 300 }), (c) => c.text('ok'));
    const ask = async (claims: Record<string, unknown>) =>
      app.request('/x', {
        headers: { authorization: `Bearer ${await issuer.sign({ sub: 'alice', ...claims })}` },
      });
    expect((await ask({ acr: 'hwk', auth_time: nowSeconds() })).status).toBe(200);
    const weak = await ask({ acr: 'pwd', auth_time: nowSeconds() });
    expect(weak.headers.get('www-authenticate')).toMatch(/acr_values="mfa hwk"$/);
    const stale = await ask({ acr: 'hwk', auth_time: nowSeconds() - 900 });
    expect(stale.headers.get('www-authenticate')).toMatch(/, max_age=300$/);
  });

  it('authenticate(): requireAuthentication with requiredScopes refuses the login (401) before the scope (403)', async () => {
    const request = async (claims: Record<string, unknown>) =>
      new Request('https://api.test/x', {
        headers: { authorization: `Bearer ${await issuer.sign({ sub: 'alice', ...claims })}` },
      });
    const options = { requiredScopes: 'pay', requireAuthentication: { acrValues: ['mfa'] } };
    const both = await authenticate(verifier, await request({ acr: 'pwd', scope: 'read' }), options);
    expect(both).toMatchObject({ ok: false, status: 401, body: { code: 'ERR_INSUFFICIENT_AUTHENTICATION' } });
    const scope = await authenticate(verifier, await request({ acr: 'mfa', scope: 'read' }), options);
    expect(scope).toMatchObject({ ok: false, status: 403, body: { code: 'ERR_INSUFFICIENT_SCOPE' } });
    const ok = await authenticate(verifier, await request({ acr: 'mfa', scope: 'pay' }), options);
    expect(ok.ok).toBe(true);
  });
});

describe('requireAuthentication: mistakes surface at start-up', () => {
  const invalidArgument = { name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' };
  it.each([
    ['express, nothing required', () => forExpress.requireAuthentication({})],
    ['fastify, an empty acr list', () => forFastify.requireAuthentication({ acrValues: [] })],
    ['hono, an acr with a space', () => forHono.requireAuthentication({ acrValues: ['a b'] })],
    ['hono, a negative age', () => forHono.requireAuthentication({ maxAgeSeconds: -1 })],
    ['express, not an object', () => forExpress.requireAuthentication('mfa' as never)],
    [
      'express bearerAuth, a fractional age',
      () => forExpress.bearerAuth(verifier, { requireAuthentication: { maxAgeSeconds: 1.5 } }),
    ],
  ])('%s throws a coded TypeError', (_name, make) => {
    expect(thrown(make)).toMatchObject(invalidArgument);
  });

  it('authenticate() with a bad requireAuthentication answers 500, not a 401', async () => {
    const token = await issuer.sign({ sub: 'alice' });
    const result = await authenticate(
      verifier,
      new Request('https://api.test/x', { headers: { authorization: `Bearer ${token}` } }),
      { requireAuthentication: { acrValues: 'mfa' as never } },
    );
    expect(result).toMatchObject({ ok: false, status: 500, body: { code: 'ERR_INTERNAL' } });
  });

  it('answers 500 when the route check runs without bearerAuth (Hono)', async () => {
    const app = new Hono();
    app.get('/x', forHono.requireAuthentication({ acrValues: ['mfa'] }) as never, (c) => c.text('reached'));
    const response = await app.request('/x');
    expect(response.status).toBe(500);
  });
});

describe('a step-up refusal made by a validate callback', () => {
  it('gets the RFC 9470 challenge through authenticate(), as one of the checks would', async () => {
    const custom = new JwtVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      validate: (payload) => {
        if (payload.amr !== 'hwk') {
          throw new JwtVerifyError('ERR_INSUFFICIENT_AUTHENTICATION', 'a hardware key is required', {
            details: { requiredAuthentication: { acrValues: ['hwk'] } },
          });
        }
      },
    });
    const token = await issuer.sign({ sub: 'alice', amr: 'pwd' });
    const result = await authenticate(
      custom,
      new Request('https://api.test/x', { headers: { authorization: `Bearer ${token}` } }),
      { realm: 'api' },
    );
    expect(result).toMatchObject({
      ok: false,
      status: 401,
      body: { code: 'ERR_INSUFFICIENT_AUTHENTICATION', error: 'insufficient_user_authentication' },
      headers: {
        'WWW-Authenticate':
          'Bearer realm="api", error="insufficient_user_authentication", error_description="a hardware key is required", acr_values="hwk"',
      },
    });
  });
});

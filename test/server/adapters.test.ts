import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { type AuthenticateFailure, JwtVerifier, type RequestVerifyResult } from '../../src/index.js';
import * as forExpress from '../../src/express/index.js';
import * as forFastify from '../../src/fastify/index.js';
import * as forHono from '../../src/hono/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { honoApp } from '../support/servers.js';
import { thrown } from '../support/rejections.js';

const AUDIENCE = 'https://api.test';
let issuer: TestIssuer;
let verifier: JwtVerifier;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, audience: AUDIENCE });
  verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
});
afterAll(() => issuer.close());

const invalidArgument = { name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' };

describe('mistakes surface at start-up, not on the first request', () => {
  it.each([
    ['express bearerAuth', () => forExpress.bearerAuth({} as never)],
    ['express bearerAuth with a bad realm', () => forExpress.bearerAuth(verifier, { realm: 1 as never })],
    ['express requireScopes()', () => forExpress.requireScopes()],
    ['hono bearerAuth', () => forHono.bearerAuth(null as never)],
    ['hono requireScopes with an empty scope', () => forHono.requireScopes('  ')],
    ['fastify requireScopes with a non-string', () => forFastify.requireScopes(7 as never)],
  ])('%s throws a coded TypeError', (_name, make) => {
    expect(thrown(make)).toMatchObject(invalidArgument);
  });

  it('fastify: registering the plugin without a verifier fails ready()', async () => {
    const app = Fastify();
    app.register(forFastify.bearerAuth, {} as never);
    await expect(app.ready()).rejects.toMatchObject(invalidArgument);
    await app.close().catch(() => undefined);
  });
});

describe('requireScopes()', () => {
  it('needs every scope given, each argument a scope or a space-delimited list', async () => {
    const app = new Hono<forHono.BearerAuthEnv>();
    app.use('*', forHono.bearerAuth(verifier));
    app.get('/x', forHono.requireScopes('a', 'b c'), (c) => c.text('ok'));
    const ask = async (scope: string) =>
      (await app.request('/x', { headers: { authorization: `Bearer ${await issuer.sign({ scope })}` } }))
        .status;
    expect(await ask('a b c')).toBe(200);
    expect(await ask('c b a d')).toBe(200);
    expect(await ask('a b')).toBe(403);
  });

  it('answers 500, never 401 or 200, when bearerAuth was not run first (Express, Fastify, Hono)', async () => {
    const app = express();
    app.get('/x', forExpress.requireScopes('a'), (_req, res) => {
      res.send('reached');
    });
    app.use((_error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).send('misconfigured');
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/x`);
      expect(response.status).toBe(500);
      expect(await response.text()).toBe('misconfigured');
    } finally {
      server.closeAllConnections();
      server.close();
    }

    const fastify = Fastify();
    fastify.get('/x', { onRequest: forFastify.requireScopes('a') }, async () => 'reached');
    expect((await fastify.inject('/x')).statusCode).toBe(500);
    await fastify.close();

    const hono = new Hono<forHono.BearerAuthEnv>();
    hono.get('/x', forHono.requireScopes('a'), (c) => c.text('reached'));
    hono.onError((_error, c) => c.text('misconfigured', 500));
    expect((await hono.request('/x')).status).toBe(500);
  });
});

describe('onFailure in the adapters', () => {
  it('sees the rejections of bearerAuth and of requireScopes, with the realm of bearerAuth', async () => {
    const seen: Array<[number, string]> = [];
    const onFailure = (failure: AuthenticateFailure) => seen.push([failure.status, failure.body.code]);
    const app = new Hono<forHono.BearerAuthEnv>();
    app.use('*', forHono.bearerAuth(verifier, { realm: 'api', onFailure }));
    app.get('/x', forHono.requireScopes('admin'), (c) => c.text('ok'));
    expect((await app.request('/x')).status).toBe(401);
    const token = await issuer.sign({ scope: 'read' });
    const refused = await app.request('/x', { headers: { authorization: `Bearer ${token}` } });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="api", error="insufficient_scope", .*, scope="admin"$/,
    );
    expect(seen).toEqual([
      [401, 'ERR_TOKEN_MISSING'],
      [403, 'ERR_INSUFFICIENT_SCOPE'],
    ]);
  });

  it('is checked at start-up', () => {
    expect(thrown(() => forExpress.bearerAuth(verifier, { onFailure: 1 as never }))).toMatchObject(
      invalidArgument,
    );
  });
});

describe('fastify: the plugin guards the context it is registered in', () => {
  it('leaves routes outside that context public', async () => {
    const app = Fastify();
    app.get('/health', async () => ({ ok: true }));
    await app.register(async (api) => {
      await api.register(forFastify.bearerAuth, { verifier, realm: 'api' });
      api.get('/orders', async (request) => ({ sub: request.auth?.payload.sub }));
    });
    const origin = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect((await fetch(`${origin}/health`)).status).toBe(200);
      const refused = await fetch(`${origin}/orders`);
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      const token = await issuer.sign({ sub: 'dana' });
      const accepted = await fetch(`${origin}/orders`, { headers: { authorization: `Bearer ${token}` } });
      expect(await accepted.json()).toEqual({ sub: 'dana' });
    } finally {
      await app.close();
    }
  });

  it('can be registered again in a child context, whose hook then runs after the parent’s', async () => {
    const app = Fastify();
    await app.register(forFastify.bearerAuth, { verifier, realm: 'outer' });
    await app.register(async (admin) => {
      await admin.register(forFastify.bearerAuth, { verifier, realm: 'admin', requiredScopes: 'admin' });
      admin.get('/admin', async () => 'ok');
    });
    try {
      expect((await app.inject('/admin')).headers['www-authenticate']).toBe('Bearer realm="outer"');
      const token = await issuer.sign({ scope: 'read' });
      const refused = await app.inject({ url: '/admin', headers: { authorization: `Bearer ${token}` } });
      expect(refused.statusCode).toBe(403);
      expect(refused.headers['www-authenticate']).toMatch(
        /^Bearer realm="admin", error="insufficient_scope"/,
      );
    } finally {
      await app.close();
    }
  });

  it('is also the default export', () => {
    expect(forFastify.default).toBe(forFastify.bearerAuth);
  });
});

describe('express: routers', () => {
  it('guards only the router it is mounted on', async () => {
    const app = express();
    app.get('/health', (_req, res) => {
      res.send('ok');
    });
    app.use('/api', forExpress.bearerAuth(verifier, { realm: 'api' }));
    app.get('/api/me', (req, res) => {
      res.json({ sub: req.auth?.payload.sub });
    });
    const server = createServer(app).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      expect((await fetch(`${origin}/health`)).status).toBe(200);
      expect((await fetch(`${origin}/api/me`)).status).toBe(401);
      const token = await issuer.sign({ sub: 'erin' });
      expect(
        await (await fetch(`${origin}/api/me`, { headers: { authorization: `Bearer ${token}` } })).json(),
      ).toEqual({
        sub: 'erin',
      });
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});

describe('types', () => {
  it('declares req.auth, request.auth and c.get("auth")', () => {
    expectTypeOf<express.Request['auth']>().toEqualTypeOf<RequestVerifyResult | undefined>();
    expectTypeOf<import('fastify').FastifyRequest['auth']>().toEqualTypeOf<RequestVerifyResult | null>();
    const app = honoApp(verifier, {});
    app.get('/typed', (c) => {
      expectTypeOf(c.get('auth')).toEqualTypeOf<RequestVerifyResult>();
      return c.text('ok');
    });
    // Type-checked, never run.
    const misuses = () => {
      // @ts-expect-error the plugin needs a verifier
      void Fastify().register(forFastify.bearerAuth, { realm: 'api' });
      // @ts-expect-error requiredScopes is a string or a string array
      forExpress.bearerAuth(verifier, { requiredScopes: 1 });
    };
    expect(misuses).toBeTypeOf('function');
  });
});

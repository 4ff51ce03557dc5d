import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiIssuerVerifier } from '../../src/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { type Answer, ROUTE_SCOPE, type Target, startAll } from './servers.js';

const AUDIENCE = 'https://api.test';
const REALM = 'orders-api';

let issuer: TestIssuer;
/** An issuer whose metadata endpoint answers 503 (with Retry-After) to every request. */
let down: TestIssuer;
/** The same, without Retry-After: the default of 10 s applies. */
let silent: TestIssuer;
let targets: Target[];
const tokens: Record<string, string> = {};

beforeAll(async () => {
  [issuer, down, silent] = await Promise.all([
    createTestIssuer({ listen: true, audience: AUDIENCE }),
    createTestIssuer({ listen: true, audience: AUDIENCE }),
    createTestIssuer({ listen: true, audience: AUDIENCE }),
  ]);
  down.failNext('metadata', {
    status: 503,
    headers: { 'retry-after': '30' },
    times: Number.POSITIVE_INFINITY,
  });
  silent.failNext('metadata', { status: 500, times: Number.POSITIVE_INFINITY });
  Object.assign(tokens, {
    valid: await issuer.sign({ sub: 'alice', scope: `profile ${ROUTE_SCOPE}` }),
    expired: await issuer.sign({ sub: 'alice', scope: ROUTE_SCOPE }, { expiresIn: -60 }),
    wrongAudience: await issuer.sign({ sub: 'alice', scope: ROUTE_SCOPE, aud: 'https://other.test' }),
    noScope: await issuer.sign({ sub: 'alice', scope: 'profile' }),
    badSignature: `${(await issuer.sign({ sub: 'alice' })).slice(0, -4)}AAAA`,
    issuerDown: await down.sign({ sub: 'alice', scope: ROUTE_SCOPE }),
    issuerSilent: await silent.sign({ sub: 'alice', scope: ROUTE_SCOPE }),
  });
  // One frozen clock for every server: messages that name "now" (expiry) are then the same
  // whichever second each server answers in.
  const frozenAt = Date.now();
  const verifier = new MultiIssuerVerifier(
    [issuer, down, silent].map((i) => ({
      issuer: i.issuer,
      audience: AUDIENCE,
      discovery: 'oauth' as const,
      now: () => frozenAt,
    })),
  );
  targets = await startAll(verifier, { realm: REALM });
});
afterAll(async () => {
  await Promise.all([
    ...(targets ?? []).map((t) => t.close()),
    issuer?.close(),
    down?.close(),
    silent?.close(),
  ]);
});

interface Case {
  name: string;
  authorization: () => string | undefined;
  status: number;
  code: string;
  error: string;
  /** The exact WWW-Authenticate, or a pattern when it carries the verifier's message. */
  wwwAuthenticate: string | RegExp | null;
  retryAfter?: string;
}

const invalid = new RegExp(`^Bearer realm="${REALM}", error="invalid_token", error_description="[^"]+"$`);

const cases: Case[] = [
  {
    name: 'no Authorization header',
    authorization: () => undefined,
    status: 401,
    code: 'ERR_TOKEN_MISSING',
    error: 'unauthorized',
    wwwAuthenticate: `Bearer realm="${REALM}"`,
  },
  {
    name: 'another scheme (Basic)',
    authorization: () => 'Basic YWxpY2U6c2VjcmV0',
    status: 401,
    code: 'ERR_TOKEN_MISSING',
    error: 'unauthorized',
    wwwAuthenticate: `Bearer realm="${REALM}"`,
  },
  {
    name: 'a token that is not a JWT',
    authorization: () => 'Bearer not-a-jwt',
    status: 401,
    code: 'ERR_TOKEN_MALFORMED',
    error: 'invalid_token',
    wwwAuthenticate: invalid,
  },
  {
    name: 'an expired token',
    authorization: () => `Bearer ${tokens.expired}`,
    status: 401,
    code: 'ERR_TOKEN_EXPIRED',
    error: 'invalid_token',
    wwwAuthenticate: invalid,
  },
  {
    name: 'a token for another audience',
    authorization: () => `Bearer ${tokens.wrongAudience}`,
    status: 401,
    code: 'ERR_AUDIENCE_MISMATCH',
    error: 'invalid_token',
    wwwAuthenticate: invalid,
  },
  {
    name: 'a token whose signature does not verify',
    authorization: () => `Bearer ${tokens.badSignature}`,
    status: 401,
    code: 'ERR_SIGNATURE_INVALID',
    error: 'invalid_token',
    wwwAuthenticate: invalid,
  },
  {
    name: 'a valid token without the route’s scope',
    authorization: () => `Bearer ${tokens.noScope}`,
    status: 403,
    code: 'ERR_INSUFFICIENT_SCOPE',
    error: 'insufficient_scope',
    wwwAuthenticate: new RegExp(
      `^Bearer realm="${REALM}", error="insufficient_scope", error_description="[^"]+", scope="${ROUTE_SCOPE}"$`,
    ),
  },
  {
    name: 'an issuer that answers 503 with Retry-After',
    authorization: () => `Bearer ${tokens.issuerDown}`,
    status: 503,
    code: 'ERR_ISSUER_UNAVAILABLE',
    error: 'temporarily_unavailable',
    wwwAuthenticate: null,
    retryAfter: '30',
  },
  {
    name: 'an issuer that answers 500',
    authorization: () => `Bearer ${tokens.issuerSilent}`,
    status: 503,
    code: 'ERR_ISSUER_UNAVAILABLE',
    error: 'temporarily_unavailable',
    wwwAuthenticate: null,
    retryAfter: '10',
  },
];

async function askEveryone(authorization: string | undefined): Promise<Array<[string, Answer]>> {
  return Promise.all(targets.map(async (t) => [t.name, await t.get(authorization)] as [string, Answer]));
}

describe('the same bearer token gets the same answer from Express, Fastify, Hono, node:http and a Fetch handler', () => {
  it('accepts a valid token with the scope and passes its claims to the route', async () => {
    const answers = await askEveryone(`Bearer ${tokens.valid}`);
    for (const [name, answer] of answers) {
      expect({ name, status: answer.status, body: answer.body }).toEqual({
        name,
        status: 200,
        body: { sub: 'alice', iss: issuer.issuer },
      });
      expect(answer.wwwAuthenticate).toBeNull();
    }
  });

  it.each(cases)('$name → $status $code', async (c) => {
    const answers = await askEveryone(c.authorization());
    const [, first] = answers[0]!;
    expect((first.body as { code: string }).code).toBe(c.code);
    expect(first.status).toBe(c.status);
    expect(first.body).toEqual({ error: c.error, error_description: expect.any(String), code: c.code });
    expect(first.contentType).toBe('application/json; charset=utf-8');
    expect(first.retryAfter).toBe(c.retryAfter ?? null);
    if (c.wwwAuthenticate instanceof RegExp) expect(first.wwwAuthenticate).toMatch(c.wwwAuthenticate);
    else expect(first.wwwAuthenticate).toBe(c.wwwAuthenticate);

    // Every other server says exactly the same: status, headers and body.
    for (const [name, answer] of answers.slice(1)) {
      expect({ name, ...answer }).toEqual({ name, ...first });
    }
  });

  it('names the reason in error_description, the same in the body and the challenge', async () => {
    const [[, answer]] = (await askEveryone(`Bearer ${tokens.wrongAudience}`)) as [[string, Answer]];
    const description = (answer.body as { error_description: string }).error_description;
    expect(description).toMatch(/^expected audience "https:\/\/api\.test", found "https:\/\/other\.test"$/);
    // RFC 6750 §3 forbids `"` and `\` inside the quoted value: double quotes become single ones.
    expect(answer.wwwAuthenticate).toContain(`error_description="${description.replaceAll('"', "'")}"`);
  });

  it('tells clients only that the issuer is down, not its URL', async () => {
    for (const [, answer] of await askEveryone(`Bearer ${tokens.issuerDown}`)) {
      expect(JSON.stringify(answer.body)).not.toContain(down.issuer);
    }
  });

  it('ignores a token in the query string (RFC 6750 §2.3): only the header counts', async () => {
    for (const target of targets) {
      const answer = await target.get(undefined, `/orders?access_token=${tokens.valid}`);
      expect((answer.body as { code: string }).code).toBe('ERR_TOKEN_MISSING');
      expect(answer.status).toBe(401);
    }
  });

  it('fetched the JWKS once for all servers and all requests', () => {
    expect(issuer.requests.jwks).toBe(1);
    expect(issuer.requests.metadata).toBe(1);
  });
});

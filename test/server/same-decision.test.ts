import { type GenerateKeyPairResult, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MultiIssuerVerifier } from '../../src/index.js';
import { CLASSIC_ALGORITHMS } from '../../src/token/algorithms.js';
import {
  type DpopProofOptions,
  type TestIssuer,
  createDpopProof,
  createTestIssuer,
  dpopThumbprint,
} from '../../src/testing/index.js';
import { type Answer, ROUTE_SCOPE, type Target, closeAll, startAll } from '../support/servers.js';

const AUDIENCE = 'https://api.test';
const REALM = 'orders-api';

let issuer: TestIssuer;
/** An issuer whose metadata endpoint answers 503 (with Retry-After) to every request. */
let down: TestIssuer;
/** The same, without Retry-After: the default of 10 s applies. */
let silent: TestIssuer;
/** An issuer whose tokens the API verifies with the dpop option; `nonces`: with server nonces too. */
let dpopIssuer: TestIssuer;
let nonces: TestIssuer;
let targets: Target[];
const tokens: Record<string, string> = {};
const NONCE_SECRET = 'the-orders-api-dpop-nonce-secret-32+';
let frozenAt: number;
let dpopKey: GenerateKeyPairResult;
let strangerKey: GenerateKeyPairResult;

beforeAll(async () => {
  [issuer, down, silent, dpopIssuer, nonces] = await Promise.all([
    createTestIssuer({ listen: true, audience: AUDIENCE }),
    createTestIssuer({ listen: true, audience: AUDIENCE }),
    createTestIssuer({ listen: true, audience: AUDIENCE }),
    createTestIssuer({ listen: true, audience: AUDIENCE }),
    createTestIssuer({ listen: true, audience: AUDIENCE }),
  ]);
  [dpopKey, strangerKey] = await Promise.all([generateKeyPair('ES256'), generateKeyPair('ES256')]);
  const jkt = await dpopThumbprint(dpopKey);
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
    dpopBound: await dpopIssuer.sign({ sub: 'alice', scope: ROUTE_SCOPE }, { dpopJkt: jkt }),
    dpopNoScope: await dpopIssuer.sign({ sub: 'alice', scope: 'profile' }, { dpopJkt: jkt }),
    dpopUnbound: await dpopIssuer.sign({ sub: 'alice', scope: ROUTE_SCOPE }),
    boundForBearerApi: await issuer.sign({ sub: 'alice', scope: ROUTE_SCOPE }, { dpopJkt: jkt }),
    nonceBound: await nonces.sign({ sub: 'alice', scope: ROUTE_SCOPE }, { dpopJkt: jkt }),
  });
  // One frozen clock for every server: messages that name "now" (expiry) are then the same
  // whichever second each server answers in.
  frozenAt = Date.now();
  const options = (i: TestIssuer) => ({
    issuer: i.issuer,
    audience: AUDIENCE,
    discovery: 'oauth' as const,
    now: () => frozenAt,
  });
  const verifier = new MultiIssuerVerifier([
    ...[issuer, down, silent].map(options),
    { ...options(dpopIssuer), dpop: {} },
    { ...options(nonces), dpop: { nonce: { secret: NONCE_SECRET } } },
  ]);
  targets = await startAll(verifier, { realm: REALM });
});
afterAll(() => closeAll(targets ?? [], issuer, down, silent, dpopIssuer, nonces));

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

/** What each target is sent for a DPoP row: the Authorization header and the proof headers. */
type DpopSend = (target: Target) => Promise<{ authorization?: string; headers?: Record<string, string> }>;

/** A proof from the client's key for `GET <target>/orders` with the token, on the frozen clock. */
function proof(target: Target, token: string, options: Partial<DpopProofOptions> = {}): Promise<string> {
  return createDpopProof({
    key: dpopKey,
    method: 'GET',
    url: target.url(),
    accessToken: token,
    iat: Math.floor(frozenAt / 1000),
    ...options,
  });
}

const dpop =
  (token: () => string, options: Partial<DpopProofOptions> = {}): DpopSend =>
  async (target) => ({
    authorization: `DPoP ${token()}`,
    headers: { dpop: await proof(target, token(), options) },
  });

/** The answer with the target's own origin written `<origin>`, so messages naming the URL compare. */
function anyOrigin(target: Target, answer: Answer): Answer {
  const origin = target.url('');
  const replace = (text: string | null) => text && text.replaceAll(origin, '<origin>');
  return {
    ...answer,
    wwwAuthenticate: replace(answer.wwwAuthenticate),
    body: JSON.parse(replace(JSON.stringify(answer.body)) ?? 'null'),
  };
}

async function askEveryoneDpop(send: DpopSend): Promise<Array<[string, Answer]>> {
  return Promise.all(
    targets.map(async (t) => {
      const { authorization, headers } = await send(t);
      return [t.name, anyOrigin(t, await t.get(authorization, '/orders', headers))] as [string, Answer];
    }),
  );
}

// DPoP's default algorithms: every supported one but ML-DSA.
const ALGS = CLASSIC_ALGORITHMS.join(' ');
const both = (error: string) =>
  new RegExp(
    `^Bearer realm="${REALM}", DPoP realm="${REALM}", error="${error}", error_description="[^"]+", algs="${ALGS}"$`,
  );

interface DpopCase {
  name: string;
  send: DpopSend;
  status: number;
  code: string;
  wwwAuthenticate: RegExp;
  message: RegExp;
  /** The DPoP-Nonce header expected, as a pattern. Default none. */
  dpopNonce?: RegExp;
}

const dpopCases: DpopCase[] = [
  {
    name: 'a DPoP-bound token sent as Bearer',
    send: async () => ({ authorization: `Bearer ${tokens.dpopBound}` }),
    status: 401,
    code: 'ERR_DPOP_BINDING',
    wwwAuthenticate: both('invalid_token'),
    message: /Bearer cannot prove possession/,
  },
  {
    name: 'a DPoP-bound token sent as Bearer to an API without DPoP',
    send: async () => ({ authorization: `Bearer ${tokens.boundForBearerApi}` }),
    status: 401,
    code: 'ERR_DPOP_BINDING',
    wwwAuthenticate: new RegExp(
      `^Bearer realm="${REALM}", error="invalid_token", error_description="[^"]+"$`,
    ),
    message: /DPoP-bound \(cnf\.jkt\)/,
  },
  {
    name: 'the DPoP scheme without a proof',
    send: async () => ({ authorization: `DPoP ${tokens.dpopBound}` }),
    status: 401,
    code: 'ERR_DPOP_PROOF_INVALID',
    wwwAuthenticate: both('invalid_dpop_proof'),
    message: /no DPoP header/,
  },
  {
    name: 'a proof for another method',
    send: dpop(() => tokens.dpopBound!, { method: 'DELETE' }),
    status: 401,
    code: 'ERR_DPOP_PROOF_INVALID',
    wwwAuthenticate: both('invalid_dpop_proof'),
    message: /^the DPoP proof is for method "DELETE", the request is GET$/,
  },
  {
    name: 'a proof for another URL',
    send: async (target) => ({
      authorization: `DPoP ${tokens.dpopBound}`,
      headers: { dpop: await proof(target, tokens.dpopBound!, { url: target.url('/admin') }) },
    }),
    status: 401,
    code: 'ERR_DPOP_PROOF_INVALID',
    wwwAuthenticate: both('invalid_dpop_proof'),
    message: /^the DPoP proof is for "<origin>\/admin", the request went to <origin>\/orders$/,
  },
  {
    name: 'a stale proof',
    send: dpop(() => tokens.dpopBound!, { iat: Math.floor(Date.now() / 1000) - 3600 }),
    status: 401,
    code: 'ERR_DPOP_PROOF_INVALID',
    wwwAuthenticate: both('invalid_dpop_proof'),
    message: /too old/,
  },
  {
    name: 'a proof without ath',
    send: dpop(() => tokens.dpopBound!, { claims: { ath: undefined } }),
    status: 401,
    code: 'ERR_DPOP_PROOF_INVALID',
    wwwAuthenticate: both('invalid_dpop_proof'),
    message: /no "ath"/,
  },
  {
    name: 'a proof signed with another key than the token’s',
    send: async (target) => ({
      authorization: `DPoP ${tokens.dpopBound}`,
      headers: { dpop: await proof(target, tokens.dpopBound!, { key: strangerKey }) },
    }),
    status: 401,
    code: 'ERR_DPOP_BINDING',
    wwwAuthenticate: both('invalid_token'),
    message: /the DPoP proof is signed with key/,
  },
  {
    name: 'an unbound token sent with the DPoP scheme',
    send: dpop(() => tokens.dpopUnbound!),
    status: 401,
    code: 'ERR_DPOP_BINDING',
    wwwAuthenticate: both('invalid_token'),
    message: /not DPoP-bound/,
  },
  {
    name: 'a DPoP request without the route’s scope',
    send: dpop(() => tokens.dpopNoScope!),
    status: 403,
    code: 'ERR_INSUFFICIENT_SCOPE',
    wwwAuthenticate: new RegExp(
      `^DPoP realm="${REALM}", error="insufficient_scope", error_description="[^"]+", scope="${ROUTE_SCOPE}"$`,
    ),
    message: /lacks the scope read:orders/,
  },
  {
    name: 'a proof without the nonce the API requires',
    send: dpop(() => tokens.nonceBound!),
    status: 401,
    code: 'ERR_DPOP_NONCE_REQUIRED',
    wwwAuthenticate: both('use_dpop_nonce'),
    message: /requires a server nonce/,
    dpopNonce: /^[A-Za-z0-9_-]{43}$/,
  },
];

describe('the same DPoP request gets the same answer from Express, Fastify, Hono, node:http and a Fetch handler', () => {
  it('accepts a bound token with a proof of its key for each server’s own URL', async () => {
    for (const [name, answer] of await askEveryoneDpop(dpop(() => tokens.dpopBound!))) {
      expect({ name, status: answer.status, body: answer.body, nonce: answer.dpopNonce }).toEqual({
        name,
        status: 200,
        body: { sub: 'alice', iss: dpopIssuer.issuer },
        nonce: null,
      });
    }
  });

  it.each(dpopCases)('$name → $status $code', async (c) => {
    const answers = await askEveryoneDpop(c.send);
    const [, first] = answers[0]!;
    expect((first.body as { code: string }).code).toBe(c.code);
    expect(first.status).toBe(c.status);
    expect(first.body).toEqual({
      error: c.status === 403 ? 'insufficient_scope' : 'invalid_token',
      error_description: expect.stringMatching(c.message),
      code: c.code,
    });
    expect(first.wwwAuthenticate).toMatch(c.wwwAuthenticate);
    if (c.dpopNonce) expect(first.dpopNonce).toMatch(c.dpopNonce);
    else expect(first.dpopNonce).toBeNull();
    for (const [name, answer] of answers.slice(1)) {
      expect({ name, ...answer }).toEqual({ name, ...first });
    }
  });

  it('accepts a proof with the nonce every server handed out, then refuses that proof replayed', async () => {
    const [[, asked]] = (await askEveryoneDpop(dpop(() => tokens.nonceBound!))) as [[string, Answer]];
    const nonce = asked.dpopNonce!;
    const sent = new Map<Target, string>();
    const withNonce: DpopSend = async (target) => {
      sent.set(target, sent.get(target) ?? (await proof(target, tokens.nonceBound!, { nonce })));
      return { authorization: `DPoP ${tokens.nonceBound}`, headers: { dpop: sent.get(target)! } };
    };
    for (const [name, answer] of await askEveryoneDpop(withNonce)) {
      expect({ name, status: answer.status }).toEqual({ name, status: 200 });
    }
    const replayed = await askEveryoneDpop(withNonce);
    for (const [name, answer] of replayed) {
      expect({ name, status: answer.status, code: (answer.body as { code: string }).code }).toEqual({
        name,
        status: 401,
        code: 'ERR_DPOP_PROOF_INVALID',
      });
      expect((answer.body as { error_description: string }).error_description).toMatch(/a replay/);
    }
  });

  it('challenges a request without a token with the first issuer’s (Bearer-only) challenge', async () => {
    for (const [, answer] of await askEveryoneDpop(async () => ({}))) {
      expect(answer.wwwAuthenticate).toBe(`Bearer realm="${REALM}"`);
    }
  });
});

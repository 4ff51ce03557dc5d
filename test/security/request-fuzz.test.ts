// Fuzzing the request path as a caller could: hostile tokens, Authorization and DPoP header
// values of every JSON type, hand-built request objects (Node-shaped, Fetch-shaped, with raw
// headers, methods and URLs of the wrong types) and mutated proofs, through verify,
// verifyAuthorizationHeader, verifyRequest and authenticate(). Every refusal is a
// JwtVerifyError with a contract code, never a TypeError; authenticate() never answers 500 for
// what a request carries; a bound token never passes where its proof is not checked.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS, JwtVerifier, type JwtVerifyErrorCode, authenticate } from '../../src/index.js';
import { createDpopProof } from '../../src/testing/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { API, type DpopClient, ORDERS, dpopClient } from '../support/dpop.js';
import { rejectionCode } from '../support/rejections.js';

// Modest run counts: the whole suite shares two cores. A failure prints its seed for replay.
const RUNS = 150;
const CODES = Object.keys(ERROR_STATUS) as JwtVerifyErrorCode[];

const issuer = useTestIssuer({ issuer: 'https://issuer.test', audience: API });
let client: DpopClient;
let verifiers: JwtVerifier[];
/** Real material for the generators to start from: tokens (bound and not) and proofs. */
let tokens: string[];
let proofs: string[];

beforeAll(async () => {
  client = await dpopClient();
  const options = { issuer: issuer.issuer, audience: API, fetch: issuer.fetch };
  verifiers = [
    new JwtVerifier({ ...options, dpop: {} }),
    new JwtVerifier(options),
    new JwtVerifier({ ...options, cache: { verifiedTokens: 16 } }),
  ];
  const bound = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
  tokens = [
    await issuer.sign({ sub: 'bob' }),
    bound,
    await issuer.sign({ sub: 'carol', cnf: { 'x5t#S256': 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } }),
    await issuer.sign({ sub: 'dave', cnf: 'odd' }),
  ];
  proofs = [
    await createDpopProof({ key: client.key, method: 'GET', url: ORDERS, accessToken: bound }),
    await createDpopProof({ key: client.key, method: 'POST', url: ORDERS, accessToken: bound }),
  ];
  await Promise.all(verifiers.map((verifier) => verifier.warmup()));
});

/** A string built from real material, cut and spliced: near-valid more often than random. */
const mangled = (material: () => string[]) =>
  fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.string({ maxLength: 4 })).map(([pick, at, cut, insert]) => {
    const text = material()[pick % material().length]!;
    const from = at % (text.length + 1);
    return text.slice(0, from) + insert + text.slice(Math.min(text.length, from + (cut % 3)));
  });

const token = fc.oneof(
  fc.nat().map((pick) => tokens[pick % tokens.length]!),
  mangled(() => tokens),
  fc.string({ maxLength: 80 }),
);
const proof = fc.oneof(
  fc.nat().map((pick) => proofs[pick % proofs.length]!),
  mangled(() => proofs),
  fc.string({ maxLength: 40 }),
);
/** A header value as a hand-built request may hold it: text, or any JSON-ish value. */
const headerValue = (text: fc.Arbitrary<string>) =>
  fc.oneof(
    { weight: 4, arbitrary: text },
    fc.constant(null),
    fc.constant(undefined),
    fc.integer(),
    fc.boolean(),
    fc.array(fc.oneof(text, fc.integer(), fc.constant(null)), { maxLength: 3 }),
    fc.object({ maxDepth: 1 }),
  );
const authorization = headerValue(
  fc.oneof(
    fc.tuple(fc.constantFrom('Bearer ', 'DPoP ', 'bearer  ', 'Basic ', ''), token).map(([s, t]) => s + t),
    fc.string({ maxLength: 20 }),
  ),
);
const dpop = headerValue(
  fc.oneof(
    proof,
    proof.map((p) => `${p}, ${p}`),
  ),
);
const anyText = headerValue(fc.string({ maxLength: 30 }));

const headerRecord = fc.record(
  {
    authorization,
    dpop,
    host: headerValue(fc.constantFrom('api.test', 'api.test:443', 'a/b?', '')),
    'x-forwarded-proto': anyText,
    'x-forwarded-host': anyText,
    forwarded: anyText,
    Authorization: authorization,
  },
  { requiredKeys: [] },
);
const method = fc.oneof(
  fc.constantFrom('GET', 'POST', 'get', ''),
  fc.integer(),
  fc.constant(null),
  fc.object(),
);
const url = fc.oneof(
  fc.constantFrom(ORDERS, '/orders', '/orders?x=1', 'orders', '//evil/x', 'http://[::1', ''),
  fc.webUrl(),
  fc.integer(),
  fc.constant(undefined),
  fc.object({ maxDepth: 1 }),
);

/** A request as a caller may build it: Node-shaped (with raw headers or not) or Fetch-shaped. */
const request = fc.oneof(
  fc.record({ method, url, headers: headerRecord }),
  fc.record({
    method,
    url,
    originalUrl: url,
    headers: headerRecord,
    rawHeaders: fc.array(fc.oneof(fc.constantFrom('Authorization', 'DPoP', 'Host'), fc.anything()), {
      maxLength: 6,
    }),
    socket: fc.oneof(fc.constant(null), fc.record({ encrypted: fc.anything() })),
  }),
  fc.record({ method, url, headers: headerRecord }).map(({ method: m, url: u, headers }) => ({
    method: m,
    url: u,
    headers: { get: (name: string) => (headers as Record<string, unknown>)[name] ?? null },
  })),
);
const requestOptions = fc.oneof(
  fc.constant(undefined),
  fc.constant({ trustedForwardedHeaders: ['x-forwarded-proto', 'x-forwarded-host', 'forwarded'] as const }),
  fc.constant({ publicUrl: API }),
);

/** The contract code a call ended with ('resolved' when accepted); fails for anything but a JwtVerifyError. */
const settle = (run: () => Promise<unknown>) => rejectionCode(run());

describe('property: the request path refuses hostile input with the contract codes only', () => {
  it('verify and verifyAuthorizationHeader', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), token, authorization, fc.anything(), async (pick, t, header, options) => {
        const verifier = verifiers[pick % verifiers.length]!;
        const verified = await settle(() => verifier.verify(t, options as never));
        const bound = /"cnf"/.test(atobPayload(t));
        if (bound && verified === 'resolved')
          expect((options as { allowBoundTokens?: unknown })?.allowBoundTokens).toBe(true);
        const code = await settle(() => verifier.verifyAuthorizationHeader(header as never));
        expect(code === 'resolved' && /cnf/.test(atobPayload(String(header).split(' ').at(-1)!))).toBe(false);
      }),
      { numRuns: RUNS },
    );
  });

  it('verifyRequest and authenticate()', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), request, requestOptions, async (pick, req, options) => {
        const verifier = verifiers[pick % verifiers.length]!;
        await settle(() => verifier.verifyRequest(req as never, options));
        const result = await authenticate(verifier, req as never, options);
        if (!result.ok) {
          expect(result.status, String(result.error)).not.toBe(500);
          expect(CODES).toContain(result.body.code);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('hand-built requests whose values are not text', () => {
  const cases: Array<[string, object, JwtVerifyErrorCode]> = [
    ['authorization: null', { headers: { authorization: null } }, 'ERR_TOKEN_MISSING'],
    ['authorization: 7', { headers: { authorization: 7 } }, 'ERR_TOKEN_MALFORMED'],
    ['authorization: [7]', { headers: { authorization: [7] } }, 'ERR_TOKEN_MALFORMED'],
    ['authorization: {}', { headers: { authorization: {} } }, 'ERR_TOKEN_MALFORMED'],
    ['authorization: []', { headers: { authorization: [] } }, 'ERR_TOKEN_MISSING'],
    ['Fetch-shaped get() answering 7', { headers: { get: () => 7 } }, 'ERR_TOKEN_MALFORMED'],
    [
      'rawHeaders holding objects',
      { headers: {}, rawHeaders: [{}, {}, 'authorization', 'x'] },
      'ERR_TOKEN_MISSING',
    ],
  ];
  it.each(cases)(
    '%s: verifyRequest refuses with its code, authenticate() answers 401',
    async (_name, shape, code) => {
      const req = { method: 'GET', url: ORDERS, ...shape };
      for (const verifier of verifiers) {
        expect(await settle(() => verifier.verifyRequest(req as never))).toBe(code);
        const result = await authenticate(verifier, req as never);
        expect(result.ok || result.body.code).toBe(code);
        expect(result.ok || result.status).toBe(401);
      }
    },
  );

  it.each([
    ['dpop: 123', { dpop: 123 }],
    ['dpop: null', { dpop: null }],
    ['dpop: {}', { dpop: {} }],
    ['method: 5', { method: 5 }],
    ['url: {}', { url: {} }],
    ['url: "orders" (neither a path nor a URL)', { url: 'orders' }],
    ['host: ["a", 1]', { url: '/orders', host: ['a', 1] }],
  ])('%s on a DPoP request: ERR_DPOP_PROOF_INVALID, 401', async (_name, change) => {
    const bound = tokens[1]!;
    const { method: m = 'GET', url: u = ORDERS, ...headers } = change as Record<string, unknown>;
    const req = {
      method: m,
      url: u,
      headers: { authorization: `DPoP ${bound}`, dpop: proofs[0], ...headers },
    };
    expect(await settle(() => verifiers[0]!.verifyRequest(req as never))).toBe('ERR_DPOP_PROOF_INVALID');
    const result = await authenticate(verifiers[0]!, req as never);
    expect(result.ok || result.body.code).toBe('ERR_DPOP_PROOF_INVALID');
    expect(result.ok || result.status).toBe(401);
  });
});

/** The decoded middle segment of a token-like string, or '' (for the bound-token check). */
function atobPayload(text: unknown): string {
  if (typeof text !== 'string') return '';
  try {
    return Buffer.from(text.split('.')[1] ?? '', 'base64url').toString('latin1');
  } catch {
    return '';
  }
}

// The DPoP path's memos (a proof header by its text, a URL by its text before the query) and
// its promise-free warm path: they change how fast a request is decided, never what is
// decided, and they stay bounded and hold no token.
import fc from 'fast-check';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JwtVerifier, createMemoryDpopReplayStore } from '../../src/index.js';
import { UrlMemo, normalizeHtu, normalizeHtuUncached } from '../../src/request/normalize-url.js';
import {
  type ProofExpectations,
  type ProofRules,
  accessTokenHash,
  checkProof,
  knownProofHeaders,
} from '../../src/dpop/proof.js';
import { requestUrl } from '../../src/request/public-url.js';
import { isJwtVerifyError } from '../../src/errors.js';
import { useMswIssuer } from '../support/msw.js';
import { API, type DpopClient, ORDERS, dpopClient, fetchRequest, proofFor } from '../support/dpop.js';
import { expectRejection } from '../support/rejections.js';

const { issuer } = useMswIssuer({ issuer: 'https://issuer.test', audience: API });

let client: DpopClient;
beforeAll(async () => {
  client = await dpopClient();
});

const RULES: ProofRules = {
  algorithms: new Set(['ES256', 'EdDSA']),
  maxAgeSeconds: 300,
  clockToleranceSeconds: 5,
};
const TOKEN = 'header.payload.signature';

function expectations(): ProofExpectations {
  return { method: 'GET', url: ORDERS, accessToken: TOKEN, nowSeconds: Math.floor(Date.now() / 1000) };
}

/** What checkProof decides: the thumbprint, or the refusal's code and message. */
async function decision(proof: string, rules: ProofRules = RULES): Promise<string> {
  try {
    return `accepted ${(await checkProof(proof, expectations(), rules)).jkt}`;
  } catch (error) {
    if (!isJwtVerifyError(error)) throw error;
    return `${error.code}: ${error.message}`;
  }
}

/** `proof` with the character at `at` of segment `segment` (0 header, 1 payload, 2 signature) replaced by `to`. */
function changed(proof: string, segment: number, at: number, to: string): string {
  const parts = proof.split('.');
  const text = parts[segment]!;
  const i = at % text.length;
  parts[segment] = text.slice(0, i) + to + text.slice(i + 1);
  return parts.join('.');
}

/** `proof` with one character of its signature made another. */
function forged(proof: string): string {
  const signature = proof.slice(proof.lastIndexOf('.') + 1);
  return changed(proof, 2, 5, signature[5] === 'A' ? 'B' : 'A');
}

describe('the memo of proof headers', () => {
  beforeEach(() => knownProofHeaders.clear());

  it('decides every hostile proof of a known header as it does with the header unknown', async () => {
    const valid = await proofFor(client, TOKEN);
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1, 2),
        fc.nat(),
        fc.constantFrom('A', 'B', '_', '-', '', 'AA'),
        async (segment, at, to) => {
          const hostile = changed(valid, segment, at, to);
          knownProofHeaders.clear();
          const cold = await decision(hostile);
          expect(knownProofHeaders.size).toBe(cold.startsWith('accepted') ? 1 : 0);
          await decision(valid);
          expect(knownProofHeaders.size).toBe(1);
          expect(await decision(hostile)).toBe(cold);
        },
      ),
      { numRuns: 150 },
    );
  });

  it("checks a known header's alg against each verifier's own dpop.algorithms", async () => {
    const proof = await proofFor(client, TOKEN);
    expect(await decision(proof)).toBe(`accepted ${client.jkt}`);
    expect(knownProofHeaders.size).toBe(1);
    expect(await decision(await proofFor(client, TOKEN), { ...RULES, algorithms: new Set(['EdDSA']) })).toBe(
      'ERR_DPOP_PROOF_INVALID: the DPoP proof is signed with "ES256", which is not allowed; allowed: EdDSA',
    );
  });

  it('learns a header only once its key verified a proof', async () => {
    const proof = await proofFor(client, TOKEN);
    expect(await decision(forged(proof))).toMatch(
      /^ERR_DPOP_PROOF_INVALID: the DPoP proof's ES256 signature does not verify/,
    );
    expect(knownProofHeaders.size).toBe(0);
    expect(await decision(await proofFor(client, TOKEN, { claims: { htm: 'POST' } }))).toMatch(
      /^ERR_DPOP_PROOF_INVALID: the DPoP proof is for method "POST"/,
    );
    // The signature verified: the header is known, although that proof was refused later.
    expect(knownProofHeaders.size).toBe(1);
  });

  it(`holds at most ${knownProofHeaders.max} headers`, async () => {
    for (let i = 0; i < knownProofHeaders.max + 20; i++) {
      const proof = await proofFor(client, TOKEN, { header: { kid: `key-${i}` } });
      expect(await decision(proof)).toBe(`accepted ${client.jkt}`);
    }
    expect(knownProofHeaders.size).toBe(knownProofHeaders.max);
  });

  it('hands each request a header of its own: changing one does not reach the next', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API, dpop: {} });
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    const first = await verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    const { jwk } = first.dpop!.proof.header;
    first.dpop!.proof.header.typ = 'changed';
    jwk.x = 'changed';
    const second = await verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    expect(second.dpop!.proof.header).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: expect.objectContaining({ kty: 'EC' }),
    });
    expect(second.dpop!.proof.header.jwk.x).not.toBe('changed');
    expect(second.dpop!.jkt).toBe(client.jkt);
  });
});

describe('the memo of normalised URLs', () => {
  // Pieces whose joins make the cases that matter: a query or fragment after a path, spaces
  // and controls before them, userinfo, IPv6, backslashes, dot segments and escapes.
  const piece = fc.constantFrom(
    'https://',
    'http://',
    'HTTPS://',
    'ftp://',
    'api.test',
    'API.test',
    ':443',
    ':8443',
    '/orders',
    '/a/../b',
    '/%7e',
    '/%2f',
    '?',
    '#',
    '?access_token=secret',
    ' ',
    '\t',
    '\n',
    '\u0000',
    '@',
    'u:p@',
    '[::1]',
    '\\',
    '.',
    '//',
  );
  const url = fc.array(piece, { maxLength: 8 }).map((pieces) => pieces.join(''));

  it('agrees with the normalisation itself on any text, whatever was seen before', () => {
    fc.assert(
      fc.property(fc.array(url, { minLength: 1, maxLength: 10 }), (urls) => {
        for (const value of urls) expect(normalizeHtu(value)).toBe(normalizeHtuUncached(value));
      }),
      { numRuns: 2000 },
    );
  });

  it('keys by the text before the query, so a query (an access_token, say) is never held', () => {
    const seen: string[] = [];
    const memo = new UrlMemo((value) => (seen.push(value), normalizeHtuUncached(value)));
    expect(memo.get('https://api.test/orders?access_token=secret')).toBe('https://api.test/orders');
    expect(memo.get('https://api.test/orders#access_token=secret')).toBe('https://api.test/orders');
    expect(memo.get('https://api.test/orders?page=2')).toBe('https://api.test/orders');
    expect(seen).toEqual(['https://api.test/orders']);
  });

  it('computes each time a URL whose text before the query ends in a space, which the parser would trim', () => {
    const seen: string[] = [];
    const memo = new UrlMemo((value) => (seen.push(value), normalizeHtuUncached(value)));
    expect(memo.get('https://api.test/orders ?x')).toBe('https://api.test/orders%20');
    expect(memo.get('https://api.test/orders ?x')).toBe('https://api.test/orders%20');
    expect(seen).toEqual(['https://api.test/orders ?x', 'https://api.test/orders ?x']);
  });

  it('holds at most 256 URLs, the oldest out first, and no refusal', () => {
    const seen: string[] = [];
    const memo = new UrlMemo((value) => (seen.push(value), normalizeHtuUncached(value)));
    for (let i = 0; i < 300; i++) memo.get(`https://api.test/${i}`);
    memo.get('https://api.test/299');
    memo.get('https://api.test/0');
    expect(seen.length).toBe(301);
    // A refusal is not kept, and comes from the whole text.
    memo.get('not a url?q');
    memo.get('not a url?q');
    expect(seen.slice(301)).toEqual(['not a url', 'not a url?q', 'not a url', 'not a url?q']);
  });

  it("gives a request's absolute URL as the path through every header would", () => {
    // x-forwarded-prefix trusted but absent: the long way, with the same answer.
    const longWay = { publicUrl: undefined, trusted: new Set(['x-forwarded-prefix'] as const) };
    const outcome = (run: () => string) => {
      try {
        return run();
      } catch (error) {
        return isJwtVerifyError(error) ? `${error.code}: ${error.message}` : `threw ${String(error)}`;
      }
    };
    fc.assert(
      fc.property(url, (target) => {
        const request = { method: 'GET', url: target, headers: {} };
        expect(outcome(() => requestUrl(request))).toBe(outcome(() => requestUrl(request, longWay)));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('a request whose absolute URL cannot be parsed', () => {
  it('is refused with ERR_DPOP_PROOF_INVALID, not a TypeError', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API, dpop: {} });
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    const request = {
      method: 'GET',
      url: 'https://[api.test/orders',
      headers: { authorization: `DPoP ${token}`, dpop: await proofFor(client, token) },
    };
    const error = await expectRejection(verifier.verifyRequest(request), 'ERR_DPOP_PROOF_INVALID', token);
    expect(error.message).toBe(
      'the URL the request was sent to is unknown: "https://[api.test/orders" is not an absolute URL',
    );
  });
});

describe('a warm DPoP request', () => {
  it('settles within one turn of the microtask queue: no promise but the one returned', async () => {
    const verifier = new JwtVerifier({
      issuer: issuer.issuer,
      audience: API,
      dpop: { replay: createMemoryDpopReplayStore() },
    });
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    await verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    const proof = await proofFor(client, token);
    let settled = false;
    const request = verifier.verifyRequest(fetchRequest(`DPoP ${token}`, proof)).then(() => {
      settled = true;
    });
    await null;
    expect(settled).toBe(true);
    await request;
    // The same proof again: a replay, refused with its challenge, as a rejection.
    const again = verifier.verifyRequest(fetchRequest(`DPoP ${token}`, proof));
    const error = await expectRejection(again, 'ERR_DPOP_PROOF_INVALID', token);
    expect(error.message).toMatch(/used before/);
    expect(error.wwwAuthenticate()).toContain('error="invalid_dpop_proof"');
  });

  it('asks a memory replay store whose remember was replaced through the replacement', async () => {
    const store = createMemoryDpopReplayStore();
    const own = store.remember;
    const keys: string[] = [];
    store.remember = (key, expiresAtMs) => (keys.push(key), own(key, expiresAtMs));
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API, dpop: { replay: store } });
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    await verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('refuses a hash of another token in ath on the warm path too', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API, dpop: {} });
    const token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
    await verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    const proof = await proofFor(client, token, { claims: { ath: await accessTokenHash('another') } });
    const error = await expectRejection(
      verifier.verifyRequest(fetchRequest(`DPoP ${token}`, proof)),
      'ERR_DPOP_PROOF_INVALID',
      token,
    );
    expect(error.message).toMatch(/ath is not the hash of this access token/);
  });
});

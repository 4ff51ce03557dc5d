// The key trial on its own: the one loop over candidate keys that access tokens and RFC 9701
// answers share. The issuer is an in-process fetch that counts requests.
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { describe, expect, it } from 'vitest';
import { resolveHttpOptions } from '../../src/issuer/verifier-http.js';
import { JwksCache } from '../../src/keys/jwks-cache.js';
import { KeyTrial } from '../../src/keys/key-trial.js';
import { parseToken } from '../../src/token/parse.js';
import { segmentDecoder } from '../../src/token/signature/index.js';
import { jwtRejection, thrown } from '../support/rejections.js';

async function setUp(subject?: string) {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  let requests = 0;
  const jwks = new JwksCache({
    jwksUri: async () => 'https://issuer.test/jwks',
    http: resolveHttpOptions({
      fetch: async () => {
        requests++;
        return Response.json({ keys: [jwk] });
      },
    }),
    freshness: { maxAgeMs: 60_000, minAgeMs: 1000 },
    cooldownMs: 5000,
    staleIfErrorMs: 0,
    now: () => Date.now(),
    emit: () => undefined,
  });
  const accepted: string[] = [];
  const trial = new KeyTrial<string, string>(
    jwks,
    new Set(['ES256'] as const),
    (context, _parsed, _alg, key) => {
      accepted.push(`${context}:${key.kid}`);
      return context;
    },
    subject,
  );
  const sign = (kid = 'k1', sub = 'alice') =>
    new SignJWT({ sub }).setProtectedHeader({ alg: 'ES256', kid }).sign(privateKey);
  const parse = (token: string) => parseToken(token, 8192, segmentDecoder);
  return { jwks, trial, sign, parse, accepted, requests: () => requests };
}

describe('KeyTrial', () => {
  it('fetches the key set on first use, then answers synchronously while it is fresh', async () => {
    const { trial, sign, parse, accepted, requests } = await setUp();
    const parsed = parse(await sign());
    await expect(trial.check('first', parsed, 'ES256')).resolves.toBe('first');
    const warm = trial.check('second', parsed, 'ES256');
    expect(warm).toBe('second'); // not a promise: the warm path
    expect(accepted).toEqual(['first:k1', 'second:k1']);
    expect(requests()).toBe(1);
  });

  it('refuses an algorithm outside the allowed set, naming what it checks', async () => {
    const { trial } = await setUp('answer');
    const error = thrown(() => trial.allowedAlgorithm('none'));
    expect(error.code).toBe('ERR_ALG_NOT_ALLOWED');
    expect(error.message).toBe('the answer is signed with "none", which is not allowed; allowed: ES256');
  });

  it('refuses a signature that no candidate key verifies, without accepting', async () => {
    const { trial, sign, parse, accepted } = await setUp();
    const [header, payload] = (await sign()).split('.');
    const otherSignature = (await sign('k1', 'bob')).split('.')[2];
    const parsed = parse(`${header}.${payload}.${otherSignature}`);
    const error = await jwtRejection(Promise.resolve().then(() => trial.check('forged', parsed, 'ES256')));
    expect(error.code).toBe('ERR_SIGNATURE_INVALID');
    expect(error.message).toBe('the ES256 signature does not verify with kid "k1"');
    expect(accepted).toEqual([]);
  });
});

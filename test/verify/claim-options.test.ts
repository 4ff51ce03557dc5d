// Claim checks end to end: a stub issuer signs, the verifier (reached through msw) decides.
// The unit tests cover checkClaims alone; these prove the options reach it.
import { describe, expect, it } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions, JwtVerifyError } from '../../src/index.js';
import { useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const AUDIENCE = 'https://api.test';
const { issuer } = useMswIssuer({ issuer: 'https://claims.test', audience: AUDIENCE });

const verifierFor = (options: Partial<JwtVerifierOptions> = {}) =>
  new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, ...options });
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('iss and aud', () => {
  it('requires iss to equal the configured issuer exactly', async () => {
    const verifier = verifierFor();
    for (const iss of ['https://claims.test/', 'https://CLAIMS.test', 'https://claims.test/x']) {
      await expectRejection(verifier.verify(await issuer.sign({ iss })), 'ERR_ISSUER_MISMATCH');
    }
    await expectRejection(verifier.verify(await issuer.sign({ iss: undefined })), 'ERR_CLAIM_INVALID');
  });

  it.each<[string, string | string[], string | string[]]>([
    ['a string aud equal to the audience', AUDIENCE, AUDIENCE],
    ['an aud array containing the audience', ['https://other.test', AUDIENCE], AUDIENCE],
    ['a string aud among several accepted audiences', 'https://b.test', ['https://a.test', 'https://b.test']],
    [
      'an aud array sharing one of several audiences',
      ['https://x.test', 'https://a.test'],
      ['https://a.test', 'https://b.test'],
    ],
  ])('accepts %s', async (_what, aud, audience) => {
    const verifier = verifierFor({ audience });
    expect((await verifier.verify(await issuer.sign({ aud }))).payload.aud).toEqual(aud);
  });

  it('refuses an aud that holds none of the audiences, and a token without aud', async () => {
    const verifier = verifierFor({ audience: ['https://a.test', 'https://b.test'] });
    const error = await expectRejection(
      verifier.verify(await issuer.sign({ aud: 'https://c.test' })),
      'ERR_AUDIENCE_MISMATCH',
    );
    expect(error.message).toContain('"https://a.test" or "https://b.test"');
    await expectRejection(verifier.verify(await issuer.sign({ aud: [] })), 'ERR_AUDIENCE_MISMATCH');
    await expectRejection(verifier.verify(await issuer.sign({ aud: undefined })), 'ERR_CLAIM_INVALID');
  });

  it('skips the audience check only when audience is null, explicitly', async () => {
    const verifier = verifierFor({ audience: null });
    await verifier.verify(await issuer.sign({ aud: undefined }));
    await verifier.verify(await issuer.sign({ aud: 'https://anything.test' }));
    expect(() => new JwtVerifier({ issuer: issuer.issuer } as never)).toThrow(/audience is required/);
  });
});

describe('time claims', () => {
  it('refuses an expired token, and a token expiring this very second', async () => {
    const verifier = verifierFor();
    await expectRejection(verifier.verify(await issuer.sign({}, { expiresIn: -1 })), 'ERR_TOKEN_EXPIRED');
    await expectRejection(verifier.verify(await issuer.sign({ exp: nowSeconds() })), 'ERR_TOKEN_EXPIRED');
  });

  it('refuses nbf in the future and iat in the future', async () => {
    const verifier = verifierFor();
    await expectRejection(
      verifier.verify(await issuer.sign({}, { notBefore: 60 })),
      'ERR_TOKEN_NOT_YET_VALID',
    );
    const error = await expectRejection(
      verifier.verify(await issuer.sign({ iat: nowSeconds() + 60 })),
      'ERR_TOKEN_NOT_YET_VALID',
    );
    expect(error.message).toContain('issued in the future');
  });

  it('applies clockTolerance to exp, nbf and iat', async () => {
    const strict = verifierFor();
    const tolerant = verifierFor({ clockTolerance: 120 });
    const tokens = [
      await issuer.sign({}, { expiresIn: -60 }),
      await issuer.sign({}, { notBefore: 60 }),
      await issuer.sign({ iat: nowSeconds() + 60 }),
    ];
    for (const token of tokens) {
      await expect(strict.verify(token)).rejects.toBeInstanceOf(JwtVerifyError);
      await tolerant.verify(token);
    }
    await expectRejection(tolerant.verify(await issuer.sign({}, { expiresIn: -300 })), 'ERR_TOKEN_EXPIRED');
  });

  it('enforces maxTokenAge from iat, which it then requires', async () => {
    const verifier = verifierFor({ maxTokenAge: 300 });
    await verifier.verify(await issuer.sign({ iat: nowSeconds() - 200 }));
    await expectRejection(
      verifier.verify(await issuer.sign({ iat: nowSeconds() - 400 })),
      'ERR_TOKEN_TOO_OLD',
    );
    const error = await expectRejection(
      verifier.verify(await issuer.sign({ iat: undefined })),
      'ERR_CLAIM_INVALID',
    );
    expect(error.message).toContain('"iat"');
    // clockTolerance counts here too.
    await verifierFor({ maxTokenAge: 300, clockTolerance: 200 }).verify(
      await issuer.sign({ iat: nowSeconds() - 400 }),
    );
  });

  it('uses the injected clock', async () => {
    const token = await issuer.sign({}, { expiresIn: 60 });
    const later = verifierFor({ now: () => Date.now() + 120_000 });
    await expectRejection(later.verify(token), 'ERR_TOKEN_EXPIRED', token);
  });
});

describe('typ (RFC 9068)', () => {
  it.each([
    ['at+jwt', 'at+jwt'],
    ['at+jwt', 'application/at+jwt'],
    ['application/at+jwt', 'at+jwt'],
    ['at+jwt', 'AT+JWT'],
    ['Application/At+Jwt', 'at+jwt'],
  ])('typ option %s accepts header typ %s', async (option, typ) => {
    await verifierFor({ typ: option }).verify(await issuer.sign({}, { header: { typ } }));
  });

  it('refuses another typ, and a token without typ', async () => {
    const verifier = verifierFor({ typ: 'at+jwt' });
    await expectRejection(
      verifier.verify(await issuer.sign({}, { header: { typ: 'JWT' } })),
      'ERR_TYPE_MISMATCH',
    );
    await expectRejection(
      verifier.verify(await issuer.sign({}, { header: { typ: 'application/jwt' } })),
      'ERR_TYPE_MISMATCH',
    );
    const error = await expectRejection(
      verifier.verify(await issuer.sign({}, { header: { typ: undefined } })),
      'ERR_TYPE_MISMATCH',
    );
    expect(error.message).toContain('found nothing');
  });

  it('does not look at typ when the option is not set', async () => {
    await verifierFor().verify(await issuer.sign({}, { header: { typ: 'anything' } }));
  });
});

describe('requiredClaims and requiredScopes', () => {
  it('requires each listed claim', async () => {
    const verifier = verifierFor({ requiredClaims: ['sub', 'client_id'] });
    await verifier.verify(await issuer.sign({ sub: 'u', client_id: 'c' }));
    const error = await expectRejection(
      verifier.verify(await issuer.sign({ sub: 'u' })),
      'ERR_CLAIM_INVALID',
    );
    expect(error.message).toContain('"client_id"');
  });

  it.each<[string, Record<string, unknown>]>([
    ['a space-delimited scope', { scope: 'read write admin' }],
    ['an scp array', { scp: ['read', 'write'] }],
    ['an scp string', { scp: 'write read' }],
  ])('grants scopes from %s', async (_what, claims) => {
    await verifierFor({ requiredScopes: ['read', 'write'] }).verify(await issuer.sign(claims));
    await verifierFor({ requiredScopes: 'read write' }).verify(await issuer.sign(claims));
  });

  it('refuses missing scopes with 403 and names them', async () => {
    const verifier = verifierFor({ requiredScopes: ['read', 'write'] });
    for (const claims of [{ scope: 'read' }, { scp: ['read'] }, {}, { scope: 'readwrite' }]) {
      const error = await expectRejection(
        verifier.verify(await issuer.sign(claims)),
        'ERR_INSUFFICIENT_SCOPE',
      );
      expect(error.status).toBe(403);
      expect(error.details.requiredScopes).toEqual(['read', 'write']);
      expect(error.wwwAuthenticate()).toContain('scope="read write"');
    }
  });
});

describe('the validate callback', () => {
  it('runs after every other check, with payload and header', async () => {
    const seen: unknown[] = [];
    const verifier = verifierFor({
      validate: (payload, header) => void seen.push([payload.sub, header.kid]),
    });
    await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(seen).toEqual([['u', issuer.keys[0]!.kid]]);
    await expectRejection(verifier.verify(await issuer.sign({}, { expiresIn: -10 })), 'ERR_TOKEN_EXPIRED');
    expect(seen).toHaveLength(1);
  });

  it('refuses with ERR_CLAIM_INVALID when it throws or rejects, keeping the reason and the cause', async () => {
    const reason = new Error('tenant is suspended');
    for (const validate of [
      () => {
        throw reason;
      },
      async () => {
        throw reason;
      },
    ]) {
      const error = await expectRejection(
        verifierFor({ validate }).verify(await issuer.sign()),
        'ERR_CLAIM_INVALID',
      );
      expect(error.message).toContain('tenant is suspended');
      expect(error.cause).toBe(reason);
    }
  });

  it('passes a JwtVerifyError it throws through unchanged', async () => {
    const own = new JwtVerifyError('ERR_INSUFFICIENT_SCOPE', 'only admins may call this', {
      details: { requiredScopes: ['admin'] },
    });
    const verifier = verifierFor({
      validate: () => {
        throw own;
      },
    });
    expect(await expectRejection(verifier.verify(await issuer.sign()), 'ERR_INSUFFICIENT_SCOPE')).toBe(own);
  });
});

describe('types of registered claims', () => {
  it.each<[string, Record<string, unknown>]>([
    ['exp as a string', { exp: String(nowSeconds() + 60) }],
    ['nbf as a string', { nbf: '0' }],
    ['iat as a boolean', { iat: true }],
    ['iss as a number', { iss: 42 }],
    ['sub as an object', { sub: { id: 1 } }],
    ['aud as a number', { aud: 7 }],
    ['aud as an array with a number', { aud: [AUDIENCE, 7] }],
    ['scope as an array', { scope: ['read'] }],
    ['scp as a number', { scp: 1 }],
    ['jti as a number', { jti: 1 }],
    ['client_id as an array', { client_id: ['a'] }],
  ])('refuses %s with ERR_CLAIM_INVALID', async (_what, claims) => {
    const error = await expectRejection(verifierFor().verify(await issuer.sign(claims)), 'ERR_CLAIM_INVALID');
    expect(error.message).toMatch(/must be/);
  });
});

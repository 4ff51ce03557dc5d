// Every code of the contract's error table, reached through verify() and
// verifyAuthorizationHeader() against a stub issuer on msw: code, status, the RFC 6750
// challenge, and a message that says expected vs found and never holds the token.
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import {
  ERROR_STATUS,
  JwtVerifier,
  type JwtVerifierOptions,
  type JwtVerifyErrorCode,
} from '../../src/index.js';
import { jsonResponse, useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const AUDIENCE = 'https://api.test';
const { server, issuer } = useMswIssuer({ issuer: 'https://errors.test' });

interface Case {
  /** What makes the token fail. */
  token: () => Promise<string>;
  options?: Partial<JwtVerifierOptions>;
  /** Extra handlers installed before verifying (they win over the issuer's). */
  setup?: () => void;
  /** What the message must say: the expectation and what was found. */
  message: RegExp[];
  /** Which calls reach the code. Default both. */
  via?: readonly ('verify' | 'header')[];
}

/** Reached only through verifyRequest(), with a proof: test/dpop/verify-request.test.ts. */
const DPOP_PROOF_CODES = ['ERR_DPOP_PROOF_INVALID', 'ERR_DPOP_NONCE_REQUIRED'] as const;

const now = () => Math.floor(Date.now() / 1000);

// ERR_CERTIFICATE_BINDING needs a request and its TLS client certificate, not verify():
// test/verify/certificate-binding.test.ts reaches it through authenticate().
type VerifyCode = Exclude<
  JwtVerifyErrorCode,
  'ERR_TOKEN_MISSING' | 'ERR_CERTIFICATE_BINDING' | (typeof DPOP_PROOF_CODES)[number]
>;

const CASES: Record<VerifyCode, Case> = {
  ERR_TOKEN_MALFORMED: {
    token: async () => (await issuer.sign()).split('.').slice(0, 2).join('.'),
    message: [/3 dot-separated parts/, /has 2/],
  },
  ERR_ALG_NOT_ALLOWED: {
    token: () => issuer.sign({}, { header: { alg: 'none' } }),
    message: [/"none"/, /allowed: RS256/],
  },
  ERR_KEY_NOT_FOUND: {
    token: () => issuer.sign({}, { unpublishedKey: true }),
    message: [/no key with kid/, /its kids are/],
  },
  ERR_SIGNATURE_INVALID: {
    token: () => issuer.sign({}, { unpublishedKey: true, header: { kid: issuer.keys[0]!.kid } }),
    message: [/signature does not verify/, /RS256/],
  },
  ERR_TOKEN_EXPIRED: {
    token: () => issuer.sign({}, { expiresIn: -120 }),
    message: [/expired at \d{4}-/, /it is now \d{4}-/],
  },
  ERR_TOKEN_NOT_YET_VALID: {
    token: () => issuer.sign({}, { notBefore: 300 }),
    message: [/not valid before/, /it is now/],
  },
  ERR_TOKEN_TOO_OLD: {
    token: () => issuer.sign({ iat: now() - 7200 }),
    options: { maxTokenAge: 3600 },
    message: [/issued 720\d s ago/, /maxTokenAge of 3600 s/],
  },
  ERR_ISSUER_MISMATCH: {
    token: () => issuer.sign({ iss: 'https://errors.test/' }),
    message: [/expected issuer "https:\/\/errors\.test"/, /found "https:\/\/errors\.test\/"/],
  },
  ERR_AUDIENCE_MISMATCH: {
    token: () => issuer.sign({ aud: ['https://other.test', 'https://third.test'] }),
    message: [
      /expected audience "https:\/\/api\.test"/,
      /found "https:\/\/other\.test", "https:\/\/third\.test"/,
    ],
  },
  ERR_TYPE_MISMATCH: {
    token: () => issuer.sign(),
    options: { typ: 'at+jwt' },
    message: [/expected typ "at\+jwt"/, /found "JWT"/],
  },
  ERR_CLAIM_INVALID: {
    token: () => issuer.sign({ exp: undefined }),
    message: [/required "exp" claim is missing/],
  },
  ERR_INSUFFICIENT_SCOPE: {
    token: () => issuer.sign({ scope: 'read' }),
    options: { requiredScopes: ['read', 'write'] },
    message: [/lacks the scope write/, /granted: read/],
  },
  ERR_ISSUER_UNAVAILABLE: {
    token: () => issuer.sign(),
    setup: () =>
      issuer.failNext('jwks', {
        status: 500,
        body: { message: 'Failed to load keys', timestamp: 'now', type: 'internal' },
      }),
    message: [/https:\/\/errors\.test\/jwks/, /500/, /Failed to load keys/],
  },
  ERR_METADATA_INVALID: {
    token: () => issuer.sign(),
    setup: () =>
      server.use(
        http.get('https://errors.test/.well-known/oauth-authorization-server', () =>
          jsonResponse({ ...issuer.metadata, issuer: 'https://impostor.test' }),
        ),
      ),
    message: [/issuer is "https:\/\/impostor\.test"/, /expected "https:\/\/errors\.test"/],
  },
  // verify(token) cannot see the request; a Bearer header cannot prove the key (RFC 9449 §7.2).
  ERR_DPOP_BINDING: {
    token: () => issuer.sign({}, { dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' }),
    via: ['header'],
    message: [/DPoP-bound \(cnf\.jkt\)/, /Bearer cannot prove possession/],
  },
  ERR_INSUFFICIENT_AUTHENTICATION: {
    token: () => issuer.sign({ acr: 'pwd', auth_time: now() - 60 }),
    options: { acrValues: ['mfa', 'hwk'], maxAuthAgeSeconds: 300 },
    message: [/acr "pwd"/, /not one of mfa hwk/],
  },
  // With decryption.required, a token that is not encrypted (more in test/verify/decryption.test.ts).
  ERR_DECRYPTION_FAILED: {
    token: () => issuer.sign(),
    options: { decryption: { keys: { kty: 'oct', kid: 'k', k: 'AAAAAAAAAAAAAAAAAAAAAA' }, required: true } },
    message: [/accepts encrypted tokens \(JWE\) only/, /not encrypted/],
  },
};

function challengeFor(code: JwtVerifyErrorCode, realm: string): RegExp {
  if (ERROR_STATUS[code] === 503) return new RegExp(`^Bearer realm="${realm}"$`);
  if (code === 'ERR_INSUFFICIENT_SCOPE') {
    return new RegExp(
      `^Bearer realm="${realm}", error="insufficient_scope", error_description="[^"]+", scope="read write"$`,
    );
  }
  if (code === 'ERR_INSUFFICIENT_AUTHENTICATION') {
    return new RegExp(
      `^Bearer realm="${realm}", error="insufficient_user_authentication", error_description="[^"]+", acr_values="mfa hwk", max_age=300$`,
    );
  }
  return new RegExp(`^Bearer realm="${realm}", error="invalid_token", error_description="[^"]+"$`);
}

describe('every error code through verify() and verifyAuthorizationHeader()', () => {
  it('covers the whole table', () => {
    expect(
      Object.keys(CASES)
        .concat('ERR_TOKEN_MISSING', 'ERR_CERTIFICATE_BINDING', ...DPOP_PROOF_CODES)
        .sort(),
    ).toEqual(Object.keys(ERROR_STATUS).sort());
  });

  for (const [code, testCase] of Object.entries(CASES) as [JwtVerifyErrorCode, Case][]) {
    it(`${code}: status ${ERROR_STATUS[code]}, RFC 6750 challenge, expected vs found`, async () => {
      for (const via of testCase.via ?? (['verify', 'header'] as const)) {
        issuer.reset();
        server.resetHandlers(...issuer.handlers);
        testCase.setup?.();
        const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE, ...testCase.options });
        const token = await testCase.token();
        const promise =
          via === 'verify' ? verifier.verify(token) : verifier.verifyAuthorizationHeader(`Bearer ${token}`);
        const error = await expectRejection(promise, code, token);
        for (const pattern of testCase.message) expect(error.message).toMatch(pattern);
        expect(error.wwwAuthenticate('api')).toMatch(challengeFor(code, 'api'));
        expect(error.wwwAuthenticate('api')).not.toContain(token.split('.')[2] || token);
        expect(error.toJSON()).toEqual({
          name: 'JwtVerifyError',
          code,
          status: ERROR_STATUS[code],
          message: error.message,
        });
      }
    });
  }

  it.each([undefined, null, '', 'Basic dXNlcjpwYXNz', 'Bearer', 'Bearer   '])(
    'ERR_TOKEN_MISSING for the Authorization header %j: 401 and a challenge without error',
    async (header) => {
      const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
      const error = await expectRejection(verifier.verifyAuthorizationHeader(header), 'ERR_TOKEN_MISSING');
      expect(error.wwwAuthenticate()).toBe('Bearer');
      expect(error.wwwAuthenticate('api')).toBe('Bearer realm="api"');
      expect(issuer.requests).toMatchObject({ metadata: 0, jwks: 0 });
    },
  );

  it.each([undefined, ''])('ERR_TOKEN_MISSING for verify(%j)', async (token) => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    await expectRejection(verifier.verify(token as string), 'ERR_TOKEN_MISSING');
  });

  it('refuses malformed tokens before any request', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const good = await issuer.sign();
    const [h, p, s] = good.split('.') as [string, string, string];
    const malformed = [
      'not-a-jwt',
      `${h}.${p}.${s}.x.y`, // a JWE shape
      `${h}=.${p}.${s}`, // padding
      `${h}.${p.replace(/./, '+')}.${s}`, // standard base64 alphabet
      `${Buffer.from('{"alg":').toString('base64url')}.${p}.${s}`, // bad JSON
      `${Buffer.from('[1]').toString('base64url')}.${p}.${s}`, // not an object
      `${Buffer.from('{"alg":"RS256","crit":["exp"]}').toString('base64url')}.${p}.${s}`, // unknown crit
      `${Buffer.from('{"alg":"RS256","kid":7}').toString('base64url')}.${p}.${s}`, // kid not a string
      `${Buffer.from('{"kid":"a"}').toString('base64url')}.${p}.${s}`, // no alg
      'a'.repeat(40_000),
    ];
    for (const token of malformed)
      await expectRejection(verifier.verify(token), 'ERR_TOKEN_MALFORMED', token);
    await expectRejection(verifier.verify(42 as never), 'ERR_TOKEN_MALFORMED');
    expect(issuer.requests).toMatchObject({ metadata: 0, jwks: 0 });
  });

  it('refuses a tampered payload with ERR_SIGNATURE_INVALID', async () => {
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: AUDIENCE });
    const [h, , s] = (await issuer.sign({ sub: 'alice' })).split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ iss: issuer.issuer, aud: AUDIENCE, sub: 'admin', exp: now() + 60 }),
    ).toString('base64url');
    const token = `${h}.${forgedPayload}.${s}`;
    await expectRejection(verifier.verify(token), 'ERR_SIGNATURE_INVALID', token);
  });
});

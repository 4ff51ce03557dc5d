// The packed tarball does the library's main job as a user installs it: a consumer project
// (no access to src/) verifies tokens from both seed-shaped issuers (Archera's RFC 8414 shape,
// Altostrat's Auth0 shape) and from a real oidc-provider issuer, and reaches every error code
// of the contract with its status.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../../src/errors.js';
import { type OidcProvider, requestServiceToken, startServiceProvider } from '../oidc-provider/provider.js';
import { runConsumer, usePackedPackage } from './packed-package.js';

const API = 'https://api.example.test';

let provider: OidcProvider;
let providerIssuer: string;
let accessToken: string;

/** The consumer's script: imports only the installed package, prints one JSON report. */
const CONSUMER = String.raw`
import { ERROR_STATUS, JwtVerifier, JwtVerifyError, authenticate, isJwtVerifyError } from 'oauth-jwt-verify';
import { createDpopProof, createTestIssuer, dpopThumbprint } from 'oauth-jwt-verify/testing';

const report = { seeds: {}, oidcProvider: undefined, codes: {}, messages: {} };
const archera = await createTestIssuer({ listen: true, profile: 'rfc8414', algorithms: ['RS256'] });
const altostrat = await createTestIssuer({ listen: true, profile: 'auth0', algorithms: ['RS256'] });
const options = (issuer, extra = {}) => ({ issuer: issuer.issuer, audience: 'https://api.test', ...extra });

try {
  for (const [name, issuer] of Object.entries({ archera, altostrat })) {
    const { payload } = await new JwtVerifier(options(issuer)).verify(await issuer.sign({ sub: name }));
    report.seeds[name] = { sub: payload.sub, metadataRequests: issuer.requests.metadata, jwksRequests: issuer.requests.jwks };
  }
  const fromProvider = new JwtVerifier({ issuer: process.env.PROVIDER_ISSUER, audience: process.env.API, typ: 'at+jwt' });
  report.oidcProvider = (await fromProvider.verify(process.env.ACCESS_TOKEN)).payload;

  const verifier = new JwtVerifier(options(archera));
  const sign = (claims, signOptions) => archera.sign(claims, signOptions);
  const nowSeconds = Math.floor(Date.now() / 1000);
  const other = await sign({ sub: 'someone-else' });
  const valid = await sign({ sub: 'u', scope: 'read' });
  const attempts = {
    ERR_TOKEN_MISSING: () => verifier.verifyAuthorizationHeader(undefined),
    ERR_TOKEN_MALFORMED: () => verifier.verify('not.a.jwt'),
    ERR_ALG_NOT_ALLOWED: async () => verifier.verify(await sign({}, { header: { alg: 'none' } })),
    ERR_KEY_NOT_FOUND: async () => verifier.verify(await sign({}, { unpublishedKey: true })),
    ERR_SIGNATURE_INVALID: async () => {
      const [header, , signature] = valid.split('.');
      return verifier.verify([header, other.split('.')[1], signature].join('.'));
    },
    ERR_TOKEN_EXPIRED: async () => verifier.verify(await sign({}, { expiresIn: -60 })),
    ERR_TOKEN_NOT_YET_VALID: async () => verifier.verify(await sign({}, { notBefore: 600 })),
    ERR_TOKEN_TOO_OLD: async () =>
      new JwtVerifier(options(archera, { maxTokenAge: 60 })).verify(await sign({ iat: nowSeconds - 3600 })),
    ERR_ISSUER_MISMATCH: async () => verifier.verify(await sign({ iss: 'https://evil.example' })),
    ERR_AUDIENCE_MISMATCH: async () => verifier.verify(await sign({ aud: 'https://other.example' })),
    ERR_TYPE_MISMATCH: () => new JwtVerifier(options(archera, { typ: 'at+jwt' })).verify(valid),
    ERR_CLAIM_INVALID: async () => verifier.verify(await sign({ exp: undefined })),
    ERR_INSUFFICIENT_SCOPE: () => new JwtVerifier(options(archera, { requiredScopes: ['write'] })).verify(valid),
    ERR_ISSUER_UNAVAILABLE: () => {
      archera.failNext('jwks', { status: 500, body: { message: 'Failed to load keys', type: 'InternalError' } });
      return new JwtVerifier(options(archera)).verify(valid);
    },
    // Altostrat's identifier ends in '/': without it, the metadata's issuer does not match.
    ERR_DPOP_PROOF_INVALID: () =>
      new JwtVerifier(options(archera, { dpop: {} })).verifyRequest(
        new Request('https://api.test/', { headers: { authorization: 'DPoP ' + valid } }),
      ),
    ERR_DPOP_NONCE_REQUIRED: async () => {
      const key = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const bound = await sign({}, { dpopJkt: await dpopThumbprint(key) });
      const proof = await createDpopProof({ key, method: 'GET', url: 'https://api.test/', accessToken: bound });
      const nonces = new JwtVerifier(options(archera, { dpop: { nonce: { secret: 'x'.repeat(32) } } }));
      return nonces.verifyRequest(new Request('https://api.test/', { headers: { authorization: 'DPoP ' + bound, dpop: proof } }));
    },
    ERR_DPOP_BINDING: async () => verifier.verifyAuthorizationHeader('Bearer ' + (await sign({}, { dpopJkt: 'jkt' }))),
    ERR_METADATA_INVALID: () =>
      new JwtVerifier({ ...options(altostrat), issuer: altostrat.issuer.replace(/\/$/, ''), discovery: 'oidc' }).verify(valid),
    // A certificate-bound token (RFC 8705) on a request without a TLS client certificate.
    // An API that accepts encrypted tokens only, given a signed one.
    ERR_DECRYPTION_FAILED: () =>
      new JwtVerifier(options(archera, { decryption: { keys: { kty: 'oct', k: 'A'.repeat(43) }, required: true } })).verify(valid),
    ERR_CERTIFICATE_BINDING: async () => {
      const bound = await sign({ cnf: { 'x5t#S256': 'A'.repeat(43) } });
      const result = await authenticate(verifier, new Request('https://api.test/', { headers: { authorization: 'Bearer ' + bound } }));
      if (!result.ok) throw result.error;
    },
    // Step-up (RFC 9470): a login weaker than the verifier accepts.
    ERR_INSUFFICIENT_AUTHENTICATION: async () =>
      new JwtVerifier(options(archera, { acrValues: ['mfa'] })).verify(await sign({ acr: 'pwd' })),
  };
  for (const [expected, attempt] of Object.entries(attempts)) {
    try {
      await attempt();
      report.codes[expected] = 'verified';
    } catch (error) {
      const typed = error instanceof JwtVerifyError && isJwtVerifyError(error, expected);
      report.codes[expected] = typed && error.status === ERROR_STATUS[expected] ? error.code : String(error?.code ?? error);
      report.messages[expected] = error.message;
    }
  }
} finally {
  await Promise.all([archera.close(), altostrat.close()]);
}
process.stdout.write(JSON.stringify(report));
`;

const packed = usePackedPackage('verifier', { 'verify-all.mjs': CONSUMER });

beforeAll(async () => {
  provider = await startServiceProvider({ api: API });
  providerIssuer = provider.issuer;
  const response = await requestServiceToken(providerIssuer, API);
  const body = (await response.json()) as { access_token?: string };
  if (!body.access_token) throw new Error(`oidc-provider issued no access token: ${JSON.stringify(body)}`);
  accessToken = body.access_token;
});

afterAll(async () => {
  await provider?.close();
});

describe('the packed package in a consumer project', () => {
  let report: {
    seeds: Record<string, { sub: string; metadataRequests: number; jwksRequests: number }>;
    oidcProvider: Record<string, unknown>;
    codes: Record<string, string>;
    messages: Record<string, string>;
  };

  beforeAll(async () => {
    const stdout = await runConsumer(packed, 'verify-all.mjs', {
      PROVIDER_ISSUER: providerIssuer,
      API,
      ACCESS_TOKEN: accessToken,
    });
    report = JSON.parse(stdout);
  }, 60_000);

  it('verifies tokens from an Archera-shaped (RFC 8414) and an Altostrat-shaped (Auth0) issuer', () => {
    expect(report.seeds).toEqual({
      archera: { sub: 'archera', metadataRequests: 1, jwksRequests: 1 },
      altostrat: { sub: 'altostrat', metadataRequests: 1, jwksRequests: 1 },
    });
  });

  it('verifies the JWT access token (typ at+jwt) a real oidc-provider issued', () => {
    expect(report.oidcProvider).toMatchObject({
      iss: providerIssuer,
      aud: API,
      client_id: 'service',
      scope: 'api:read',
    });
  });

  it('reaches every error code of the contract, each a JwtVerifyError with its status', () => {
    const everyCode = Object.fromEntries(Object.keys(ERROR_STATUS).map((code) => [code, code]));
    expect(report.codes).toEqual(everyCode);
  });

  it("carries the issuer's own message when its JWKS answers 500", () => {
    expect(report.messages.ERR_ISSUER_UNAVAILABLE).toMatch(/500.*Failed to load keys/);
  });
});

// Encrypted access tokens and ML-DSA from the packed tarball, as a user installs it: the stub
// issuer encrypts (Auth0's shape), the verifier decrypts and verifies, through verify() and
// authenticate(); ML-DSA signs and verifies where the runtime has it, and is refused clearly
// where it has not.
import { beforeAll, describe, expect, it } from 'vitest';
import { RUNTIME_HAS_ML_DSA } from '../support/ml-dsa-fixture.js';
import { runConsumer, usePackedPackage } from './packed-package.js';

const CONSUMER = String.raw`
import { JwtVerifier, authenticate } from 'oauth-jwt-verify';
import { createTestIssuer } from 'oauth-jwt-verify/testing';

const report = {};
const { publicKey, privateKey } = await crypto.subtle.generateKey(
  { name: 'RSA-OAEP', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
  true,
  ['encrypt', 'decrypt'],
);
const publicJwk = { ...(await crypto.subtle.exportKey('jwk', publicKey)), kid: 'api-enc' };
const privateJwk = { ...(await crypto.subtle.exportKey('jwk', privateKey)), kid: 'api-enc' };
delete publicJwk.alg; delete publicJwk.key_ops; delete privateJwk.alg; delete privateJwk.key_ops;
const issuer = await createTestIssuer({ listen: true, profile: 'auth0', encryptAccessTokens: { key: publicJwk } });
try {
  const verifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: issuer.audience,
    decryption: { keys: [privateJwk], required: true },
  });
  const token = await issuer.sign({ sub: 'encrypted-user' });
  report.parts = token.split('.').length;
  report.verified = (await verifier.verify(token)).payload.sub;
  const result = await authenticate(verifier, new Request('https://api.test/', { headers: { authorization: 'Bearer ' + token } }));
  report.authenticated = result.ok ? result.token.payload.sub : result.error.code;
  const tampered = token.slice(0, -2) + (token.endsWith('A') ? 'BA' : 'AA');
  await verifier.verify(tampered).catch((error) => (report.tampered = [error.code, error.message]));
  await verifier.verify(await issuer.sign({}, { encrypt: false })).catch((error) => (report.unencrypted = error.code));
} finally {
  await issuer.close();
}

try {
  const pq = await createTestIssuer({ listen: true, algorithms: ['ML-DSA-65'] });
  try {
    const verifier = new JwtVerifier({ issuer: pq.issuer, audience: pq.audience });
    report.mlDsa = (await verifier.verify(await pq.sign({ sub: 'pq-user' }))).header.alg;
  } finally {
    await pq.close();
  }
} catch (error) {
  report.mlDsa = [error.name, error.message];
}
process.stdout.write(JSON.stringify(report));
`;

const packed = usePackedPackage('advanced-tokens', { 'advanced.mjs': CONSUMER });

describe('encrypted tokens and ML-DSA from the packed package', () => {
  let report: Record<string, unknown>;
  beforeAll(async () => {
    report = JSON.parse(await runConsumer(packed, 'advanced.mjs'));
  }, 60_000);

  it('decrypts and verifies the Auth0-shaped JWE the stub issuer encrypts, through verify() and authenticate()', () => {
    expect(report).toMatchObject({
      parts: 5,
      verified: 'encrypted-user',
      authenticated: 'encrypted-user',
      tampered: [
        'ERR_DECRYPTION_FAILED',
        'the encrypted token could not be decrypted with the configured keys',
      ],
      unencrypted: 'ERR_DECRYPTION_FAILED',
    });
  });

  it(
    RUNTIME_HAS_ML_DSA
      ? 'signs and verifies ML-DSA-65 on this runtime'
      : `refuses to create ML-DSA-65 keys on Node.js ${process.versions.node}, saying why`,
    () => {
      expect(report.mlDsa).toEqual(
        RUNTIME_HAS_ML_DSA
          ? 'ML-DSA-65'
          : [
              'TypeError',
              "createTestIssuer: cannot create ML-DSA-65 keys here: this runtime's Web Crypto has no ML-DSA (Node.js 24.7 or later, Deno and Bun have it)",
            ],
      );
    },
  );
});

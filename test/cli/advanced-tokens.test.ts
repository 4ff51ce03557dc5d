// The CLI with encrypted tokens (decode shows the JWE header; verify --decryption-key with a
// JWK, a JWKS or a PEM file) and ML-DSA tokens (verified on a runtime with ML-DSA, refused
// clearly on one without).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import { ML_DSA_FIXTURE_JWKS, ML_DSA_FIXTURE_TOKEN, RUNTIME_HAS_ML_DSA } from '../support/ml-dsa-fixture.js';
import { close, listen } from '../support/network.js';
import { useFixture, useTestIssuer } from '../support/fixture.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, parseJson, runCli, verifyCommand } from './helpers.js';

const AUDIENCE = 'https://api.test';
beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);

const keys = useFixture(
  async () => {
    const pair = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const other = await generateKeyPair('RSA-OAEP-256', { extractable: true });
    const dir = await mkdtemp(join(tmpdir(), 'oauth-jwt-verify-cli-jwe-'));
    const files = {
      jwk: join(dir, 'key.json'),
      jwks: join(dir, 'keys.json'),
      pem: join(dir, 'key.pem'),
      wrong: join(dir, 'wrong.json'),
    };
    const privateJwk = { ...(await exportJWK(pair.privateKey)), kid: 'api-enc' };
    await writeFile(files.jwk, JSON.stringify(privateJwk));
    await writeFile(files.jwks, JSON.stringify({ keys: [privateJwk] }));
    await writeFile(files.pem, await exportPKCS8(pair.privateKey as CryptoKey));
    await writeFile(files.wrong, JSON.stringify({ ...(await exportJWK(other.privateKey)), kid: 'api-enc' }));
    return { dir, files, publicJwk: { ...(await exportJWK(pair.publicKey)), kid: 'api-enc' } };
  },
  ({ dir }) => rm(dir, { recursive: true, force: true }),
  'the decryption keys',
);
const issuer = useFixture(
  () => createTestIssuer({ listen: true, audience: AUDIENCE, encryptAccessTokens: { key: keys.publicJwk } }),
  (created) => created.close(),
  'the encrypting issuer',
);
const verifyArgs = verifyCommand(issuer, AUDIENCE);

describe('encrypted tokens (JWE)', () => {
  it('decode shows the JWE header only, and says how to decrypt', async () => {
    const token = await issuer.sign({ sub: 'secret-user' });
    const result = await runCli(['decode', token]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ENCRYPTED \(JWE\): only its header can be read/);
    expect(result.stdout).toContain('"alg": "RSA-OAEP-256"');
    expect(result.stdout).toContain('"enc": "A256GCM"');
    expect(result.stdout).toContain('"cty": "JWT"');
    expect(result.stdout).not.toContain('secret-user');
    expect(result.stdout).not.toContain(token);
    const json = parseJson(await runCli(['decode', token, '--json']));
    expect(json).toMatchObject({ ok: true, verified: false, encrypted: true, header: { kid: 'api-enc' } });
    expect(json.payload).toBeUndefined();
  });

  it.each(['jwk', 'jwks', 'pem'] as const)(
    'verify --decryption-key with a %s file decrypts and verifies',
    async (kind) => {
      const token = await issuer.sign({ sub: 'secret-user' });
      const result = await runCli(verifyArgs(token, '--decryption-key', keys.files[kind]));
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^✔ VALID/);
      expect(result.stdout).toContain('decrypted  RSA-OAEP-256 + A256GCM, kid "api-enc"');
      expect(result.stdout).toContain('"sub": "secret-user"');
      expect(result.stdout + result.stderr).not.toContain(token);
    },
  );

  it('verify is ERR_DECRYPTION_FAILED with the wrong key, ERR_TOKEN_MALFORMED without one, and a usage error for a missing file', async () => {
    const token = await issuer.sign();
    const wrong = await runCli(verifyArgs(token, '--decryption-key', keys.files.wrong, '--json'));
    expect(wrong.code).toBe(1);
    expect(parseJson(wrong).error).toMatchObject({
      code: 'ERR_DECRYPTION_FAILED',
      message: 'the encrypted token could not be decrypted with the configured keys',
    });
    const without = await runCli(verifyArgs(token));
    expect(without.code).toBe(1);
    expect(without.stderr).toContain('ERR_TOKEN_MALFORMED');
    const missing = await runCli(verifyArgs(token, '--decryption-key', join(keys.dir, 'none.json')));
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--decryption-key: cannot read');
  });
});

describe('ML-DSA tokens', () => {
  it('decode shows an ML-DSA-65 token on every runtime (nothing is verified)', async () => {
    const result = await runCli(['decode', ML_DSA_FIXTURE_TOKEN]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('"alg": "ML-DSA-65"');
    expect(result.stdout).toContain('"sub": "quantum-safe"');
  });

  if (RUNTIME_HAS_ML_DSA) {
    const pq = useTestIssuer({ listen: true, audience: AUDIENCE, algorithms: ['ML-DSA-65'] });
    it('verify checks an ML-DSA-65 token on this runtime', async () => {
      const token = await pq.sign({ sub: 'pq-user' });
      const result = await runCli(verifyCommand(pq, AUDIENCE)(token));
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/signature {2}ML-DSA-65, kid /);
    });
  } else {
    const jwksServer = useFixture(
      async () => {
        const server = createServer((_request, response) => {
          response.setHeader('content-type', 'application/json');
          response.end(JSON.stringify(ML_DSA_FIXTURE_JWKS));
        });
        return { server, port: await listen(server) };
      },
      ({ server }) => close(server),
      'the fixture JWKS server',
    );
    it(`verify refuses an ML-DSA-65 token, saying what Node.js ${process.versions.node} lacks`, async () => {
      const result = await runCli([
        'verify',
        ML_DSA_FIXTURE_TOKEN,
        '--issuer',
        'https://issuer.test',
        '--audience',
        AUDIENCE,
        '--jwks-uri',
        `http://127.0.0.1:${jwksServer.port}/jwks`,
      ]);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('ERR_ALG_NOT_ALLOWED');
      expect(result.stderr).toContain(
        `ML-DSA-65 needs Node.js 24.7 or later (node:crypto ML-DSA); this is Node.js ${process.versions.node}`,
      );
    });
  }
});

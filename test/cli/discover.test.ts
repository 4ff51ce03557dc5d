import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, parseJson, runCli } from './helpers.js';

let issuer: TestIssuer;
let oidcOnly: TestIssuer;

beforeAll(async () => {
  await ensureBuilt();
  [issuer, oidcOnly] = await Promise.all([
    createTestIssuer({ listen: true, algorithms: ['ES256', 'RS256', 'EdDSA'] }),
    createTestIssuer({ listen: true, algorithms: ['ES256'], discovery: 'oidc' }),
  ]);
}, BUILD_TIMEOUT_MS);

afterAll(async () => {
  await Promise.all([issuer?.close(), oidcOnly?.close()]);
});

beforeEach(() => {
  issuer.reset();
  oidcOnly.reset();
});

/** A node:http issuer serving the given documents, by path; its origin is the issuer. */
async function serve(
  documents: (origin: string) => Record<string, unknown>,
): Promise<{ origin: string; server: Server }> {
  let origin = '';
  const server = createServer((req, res) => {
    const body = documents(origin)[req.url ?? ''];
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body ?? { error: 'not_found' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { origin, server };
}

const close = (server: Server) =>
  new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });

describe('oauth-jwt-verify discover', () => {
  it('prints the well-known URL used, the metadata and a summary of each key', async () => {
    const result = await runCli(['discover', issuer.issuer]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `well-known  ${issuer.issuer}/.well-known/oauth-authorization-server (RFC 8414) → used`,
    );
    expect(result.stdout).toMatch(new RegExp(`token_endpoint\\s+${issuer.metadata.token_endpoint}`));
    expect(result.stdout).toContain(`jwks  ${issuer.metadata.jwks_uri} (3 usable keys)`);
    expect(result.stdout).toMatch(/kid\s+kty\s+alg\s+use\s+size/);
    const [es, rs, ed] = issuer.keys.map((key) => key.kid);
    expect(result.stdout).toMatch(new RegExp(`${es}\\s+EC\\s+ES256\\s+sig\\s+256 bits \\(P-256\\)`));
    expect(result.stdout).toMatch(new RegExp(`${rs}\\s+RSA\\s+RS256\\s+sig\\s+2048 bits`));
    expect(result.stdout).toMatch(new RegExp(`${ed}\\s+OKP\\s+EdDSA\\s+sig\\s+256 bits \\(Ed25519\\)`));
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('gives metadata, discovery and keys as JSON with --json', async () => {
    const result = await runCli(['discover', issuer.issuer, '--json']);
    expect(result.code).toBe(0);
    const output = parseJson(result);
    expect(output).toMatchObject({
      ok: true,
      issuer: issuer.issuer,
      discovery: {
        url: `${issuer.issuer}/.well-known/oauth-authorization-server`,
        kind: 'oauth',
        tried: [`${issuer.issuer}/.well-known/oauth-authorization-server`],
      },
      metadata: { issuer: issuer.issuer, jwks_uri: issuer.metadata.jwks_uri },
      jwks: { uri: issuer.metadata.jwks_uri, skipped: [] },
    });
    expect(output.jwks.keys).toEqual([
      { kid: issuer.keys[0]!.kid, kty: 'EC', alg: 'ES256', use: 'sig', crv: 'P-256', bits: 256 },
      { kid: issuer.keys[1]!.kid, kty: 'RSA', alg: 'RS256', use: 'sig', crv: null, bits: 2048 },
      { kid: issuer.keys[2]!.kid, kty: 'OKP', alg: 'EdDSA', use: 'sig', crv: 'Ed25519', bits: 256 },
    ]);
  });

  it('falls back to OpenID Connect discovery and says which URL it tried first', async () => {
    const result = await runCli(['discover', oidcOnly.issuer]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `tried       ${oidcOnly.issuer}/.well-known/oauth-authorization-server (RFC 8414) → not found`,
    );
    expect(result.stdout).toContain(
      `well-known  ${oidcOnly.issuer}/.well-known/openid-configuration (OpenID Connect Discovery) → used`,
    );
    const json = parseJson(await runCli(['discover', oidcOnly.issuer, '--json']));
    expect(json.discovery.kind).toBe('oidc');
    expect(json.discovery.tried).toHaveLength(2);
  });

  it('asks only for the OpenID Connect document with --discovery oidc', async () => {
    const result = await runCli(['discover', issuer.issuer, '--discovery', 'oidc', '--json']);
    expect(result.code).toBe(0);
    expect(parseJson(result).discovery.url).toBe(`${issuer.issuer}/.well-known/openid-configuration`);
    expect(issuer.requests.metadata).toBe(1);
  });

  it('lists keys a verifier would skip, with the reason', async () => {
    const { origin, server } = await serve((o) => ({
      '/.well-known/oauth-authorization-server': { issuer: o, jwks_uri: `${o}/jwks` },
      '/jwks': { keys: [issuer.keys[0]!.publicJwk, { kty: 'oct', kid: 'shared-secret', k: 'c2VjcmV0' }] },
    }));
    try {
      const result = await runCli(['discover', origin]);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('(1 usable key)');
      expect(result.stdout).toContain('skipped kid "shared-secret": holds private or symmetric key material');
      const json = parseJson(await runCli(['discover', origin, '--json']));
      expect(json.jwks.skipped).toEqual([
        { kid: 'shared-secret', reason: 'holds private or symmetric key material' },
      ]);
    } finally {
      await close(server);
    }
  });

  it('exits 2 with ERR_METADATA_INVALID when the metadata names another issuer', async () => {
    const { origin, server } = await serve(() => ({
      '/.well-known/oauth-authorization-server': {
        issuer: 'https://someone-else.test',
        jwks_uri: 'https://someone-else.test/jwks',
      },
    }));
    try {
      const result = await runCli(['discover', origin]);
      expect(result.code).toBe(2);
      expect(result.stderr).toMatch(
        /^✖ issuer failure ERR_METADATA_INVALID: .*issuer is "https:\/\/someone-else.test", expected/,
      );
      const json = parseJson(await runCli(['discover', origin, '--json']));
      expect(json.error.code).toBe('ERR_METADATA_INVALID');
      expect(json.ok).toBe(false);
    } finally {
      await close(server);
    }
  });

  it('exits 2 with ERR_ISSUER_UNAVAILABLE when the issuer fails', async () => {
    issuer.failNext('metadata', { status: 503, times: 2 });
    const result = await runCli(['discover', issuer.issuer, '--json']);
    expect(result.code).toBe(2);
    expect(parseJson(result).error.code).toBe('ERR_ISSUER_UNAVAILABLE');
  });

  it('exits 2 for an issuer that is not a URL', async () => {
    const result = await runCli(['discover', 'not a url']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('issuer is not a valid URL');
  });
});

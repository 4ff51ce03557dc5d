import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { useTestIssuer } from '../support/fixture.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, parseJson, runCli, verifyCommand } from './helpers.js';

const AUDIENCE = 'https://api.test';
beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);
const issuer = useTestIssuer({ listen: true, algorithms: ['ES256'], audience: AUDIENCE }, { reset: true });
const verifyArgs = verifyCommand(issuer, AUDIENCE);

/** A loopback URL nothing listens on: a port that was free a moment ago. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

describe('oauth-jwt-verify verify', () => {
  it('exits 0 for a valid token and says where the key came from', async () => {
    const token = await issuer.sign({ sub: 'user-1' });
    const result = await runCli(verifyArgs(token));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^✔ VALID/);
    expect(result.stdout).toContain(
      `discovery  ${issuer.issuer}/.well-known/oauth-authorization-server (RFC 8414)`,
    );
    expect(result.stdout).toContain(`key from ${issuer.metadata.jwks_uri}`);
    expect(result.stdout).toContain(`kid "${issuer.keys[0]!.kid}"`);
    expect(result.stdout).toContain('"sub": "user-1"');
    expect(result.stdout).toMatch(/exp\s+\S+Z\s+in /);
    expect(result.stdout + result.stderr).not.toContain(token);
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('reads the token from stdin with -', async () => {
    const token = await issuer.sign({ sub: 'from-stdin' });
    const result = await runCli(verifyArgs('-', '--json'), { input: `${token}\n` });
    expect(result.code).toBe(0);
    expect(parseJson(result).payload.sub).toBe('from-stdin');
  });

  it('gives the verified header, payload and sources with --json', async () => {
    const token = await issuer.sign({ sub: 'user-1', scope: 'read write' }, { header: { typ: 'at+jwt' } });
    const result = await runCli(
      verifyArgs(token, '--json', '--typ', 'at+jwt', '--scope', 'read', '--scope', 'write'),
    );
    expect(result.code).toBe(0);
    const output = parseJson(result);
    expect(output).toMatchObject({
      ok: true,
      verified: true,
      issuer: issuer.issuer,
      discovery: { url: `${issuer.issuer}/.well-known/oauth-authorization-server`, kind: 'oauth' },
      jwksUri: issuer.metadata.jwks_uri,
      header: { alg: 'ES256', typ: 'at+jwt', kid: issuer.keys[0]!.kid },
      payload: { sub: 'user-1', iss: issuer.issuer, aud: AUDIENCE },
      token: { prefix: token.slice(0, 12), length: token.length },
    });
    expect(output.times.exp.iso).toBe(new Date(output.payload.exp * 1000).toISOString());
    expect(result.stdout).not.toContain(token);
  });

  it('explains a wrong audience in one line, expected versus found, and exits 1', async () => {
    const token = await issuer.sign({ aud: 'https://other-api.test' });
    const result = await runCli(verifyArgs(token));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    const lines = result.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toBe(
      '✖ rejected ERR_AUDIENCE_MISMATCH: expected audience "https://api.test", found "https://other-api.test"',
    );
  });

  it('reports a rejection as JSON with the code, status and message', async () => {
    const token = await issuer.sign({}, { expiresIn: -120 });
    const result = await runCli(verifyArgs(token, '--json'));
    expect(result.code).toBe(1);
    const output = parseJson(result);
    expect(output.error.code).toBe('ERR_TOKEN_EXPIRED');
    expect(output).toMatchObject({ ok: false, verified: false, error: { status: 401 } });
    expect(output.error.message).toContain('the token expired at');
    expect(output.token).toEqual({ prefix: token.slice(0, 12), length: token.length });
    expect(output.payload).toBeUndefined();
    expect(result.stdout).not.toContain(token);
  });

  it.each([
    [
      'a tampered signature',
      async () => tamper(await issuer.sign({ sub: 'a' })),
      [],
      'ERR_SIGNATURE_INVALID',
    ],
    ['alg none', () => issuer.sign({}, { header: { alg: 'none' } }), [], 'ERR_ALG_NOT_ALLOWED'],
    ['another issuer', () => issuer.sign({ iss: 'https://evil.test' }), [], 'ERR_ISSUER_MISMATCH'],
    ['a missing typ', () => issuer.sign({}), ['--typ', 'at+jwt'], 'ERR_TYPE_MISMATCH'],
    [
      'a missing scope',
      () => issuer.sign({ scope: 'read' }),
      ['--scope', 'read write'],
      'ERR_INSUFFICIENT_SCOPE',
    ],
    ['an unknown key', () => issuer.sign({}, { unpublishedKey: true }), [], 'ERR_KEY_NOT_FOUND'],
  ] as const)('exits 1 for %s with its code', async (_label, makeToken, extra, code) => {
    const result = await runCli(verifyArgs(await makeToken(), ...extra, '--json'));
    expect(parseJson(result).error.code).toBe(code);
    expect(result.code).toBe(1);
  });

  it('tolerates clock skew with --clock-tolerance', async () => {
    const token = await issuer.sign({}, { expiresIn: -30 });
    const strict = await runCli(verifyArgs(token, '--json'));
    expect(parseJson(strict).error.code).toBe('ERR_TOKEN_EXPIRED');
    const tolerant = await runCli(verifyArgs(token, '--clock-tolerance', '120'));
    expect(tolerant.code).toBe(0);
  });

  it('uses --jwks-uri without discovery', async () => {
    const token = await issuer.sign({});
    const result = await runCli(verifyArgs(token, '--jwks-uri', issuer.metadata.jwks_uri!, '--json'));
    expect(result.code).toBe(0);
    expect(parseJson(result)).toMatchObject({ discovery: null, jwksUri: issuer.metadata.jwks_uri });
    expect(issuer.requests).toMatchObject({ metadata: 0, jwks: 1 });
  });

  it('uses OpenID Connect discovery with --discovery oidc', async () => {
    const token = await issuer.sign({});
    const result = await runCli(verifyArgs(token, '--discovery', 'oidc', '--json'));
    expect(result.code).toBe(0);
    expect(parseJson(result).discovery).toEqual({
      url: `${issuer.issuer}/.well-known/openid-configuration`,
      kind: 'oidc',
    });
  });

  it('exits 2 with ERR_ISSUER_UNAVAILABLE when the JWKS answers 500', async () => {
    issuer.failNext('jwks', { status: 500 });
    const result = await runCli(verifyArgs(await issuer.sign({})));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^✖ issuer failure ERR_ISSUER_UNAVAILABLE: .*500/);
  });

  it('exits 2 with ERR_ISSUER_UNAVAILABLE when nothing listens at the issuer', async () => {
    const down = await closedPortUrl();
    const result = await runCli([
      'verify',
      await issuer.sign({}),
      '--issuer',
      down,
      '--audience',
      AUDIENCE,
      '--json',
    ]);
    expect(result.code).toBe(2);
    const output = parseJson(result);
    expect(output.error.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(output.error.status).toBe(503);
  });

  it('exits 2 for plain http to a non-loopback issuer unless --allow-insecure-http', async () => {
    const result = await runCli([
      'verify',
      'a.b.c',
      '--issuer',
      'http://issuer.example',
      '--audience',
      AUDIENCE,
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('must use https:');
  });

  it('exits 2 for a bad --clock-tolerance or --discovery', async () => {
    const tolerance = await runCli(verifyArgs('a.b.c', '--clock-tolerance', 'soon'));
    expect(tolerance.code).toBe(2);
    expect(tolerance.stderr).toContain('--clock-tolerance must be a non-negative number');
    const discovery = await runCli(verifyArgs('a.b.c', '--discovery', 'magic'));
    expect(discovery.code).toBe(2);
    expect(discovery.stderr).toContain('--discovery must be auto, oauth or oidc');
  });
});

function tamper(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  return `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'admin' })).toString('base64url')}.${signature}`;
}

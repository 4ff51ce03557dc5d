import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, hasAnsi, parseJson, runCli } from './helpers.js';

let issuer: TestIssuer;
let token: string;

beforeAll(async () => {
  await ensureBuilt();
  // Signing only: decode never fetches, so the issuer need not listen.
  issuer = await createTestIssuer({ algorithms: ['ES256'] });
  token = await issuer.sign({ sub: 'user-1', scope: 'read' }, { notBefore: -10 });
}, BUILD_TIMEOUT_MS);

afterAll(() => issuer?.close());

describe('oauth-jwt-verify decode', () => {
  it('shows header and payload labelled UNVERIFIED, with times as dates', async () => {
    const result = await runCli(['decode', token]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^UNVERIFIED: decoded only/);
    expect(result.stdout).toContain('header (UNVERIFIED)');
    expect(result.stdout).toContain('payload (UNVERIFIED)');
    expect(result.stdout).toContain('"sub": "user-1"');
    expect(result.stdout).toContain('"alg": "ES256"');
    const { payload } = decodeParts(token);
    expect(result.stdout).toMatch(
      new RegExp(`exp\\s+${escape(new Date(payload.exp * 1000).toISOString())}\\s+in (60 minutes|1 hour)`),
    );
    expect(result.stdout).toMatch(
      new RegExp(`nbf\\s+${escape(new Date(payload.nbf * 1000).toISOString())}\\s+\\d+ seconds ago`),
    );
    expect(result.stdout).toMatch(/iat\s+\S+Z\s+\d+ seconds? ago/);
  });

  it('never prints the whole token, only a prefix and its length', async () => {
    const result = await runCli(['decode', token]);
    expect(result.stdout).not.toContain(token);
    expect(result.stdout).not.toContain(token.split('.')[2]);
    expect(result.stdout).toContain(`${token.slice(0, 12)}… (${token.length} characters)`);
  });

  it('reads the token from stdin with -, ignoring whitespace and a Bearer prefix', async () => {
    const result = await runCli(['decode', '-', '--json'], { input: `Bearer ${token}\n` });
    expect(result.code).toBe(0);
    expect(parseJson(result).payload.sub).toBe('user-1');
  });

  it('gives machine-readable output with --json', async () => {
    const result = await runCli(['decode', token, '--json']);
    expect(result.code).toBe(0);
    const output = parseJson(result);
    const { header, payload } = decodeParts(token);
    expect(output).toMatchObject({ ok: true, verified: false, header, payload });
    expect(output.warning).toMatch(/^UNVERIFIED/);
    expect(output.token).toEqual({ prefix: token.slice(0, 12), length: token.length });
    expect(output.times.exp).toEqual({
      value: payload.exp,
      iso: new Date(payload.exp * 1000).toISOString(),
      relative: expect.stringMatching(/^in /),
    });
    expect(output.times.iat.relative).toMatch(/ago$/);
    expect(result.stdout).not.toContain(token);
  });

  it('marks an expired token as expired', async () => {
    const expired = await issuer.sign({}, { expiresIn: -7200 });
    const result = await runCli(['decode', expired]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/exp\s+\S+Z\s+2 hours ago \(expired\)/);
  });

  it('exits 1 with ERR_TOKEN_MALFORMED for something that is not a JWT', async () => {
    const result = await runCli(['decode', 'not-a-jwt']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('ERR_TOKEN_MALFORMED');
    expect(result.stderr).toContain('3 dot-separated parts');
    const json = await runCli(['decode', 'a.b.c', '--json']);
    expect(json.code).toBe(1);
    expect(parseJson(json).error.code).toBe('ERR_TOKEN_MALFORMED');
    expect(parseJson(json).ok).toBe(false);
  });

  it('exits 2 when stdin holds no token', async () => {
    const result = await runCli(['decode', '-'], { input: '  \n' });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('stdin held no token');
  });

  it('colours only when asked to and never with NO_COLOR or --no-color', async () => {
    const plain = await runCli(['decode', token]);
    expect(hasAnsi(plain.stdout)).toBe(false); // a pipe, not a terminal
    const forced = await runCli(['decode', token], { env: { FORCE_COLOR: '1' } });
    expect(hasAnsi(forced.stdout)).toBe(true);
    const noColor = await runCli(['decode', token], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(hasAnsi(noColor.stdout)).toBe(false);
    expect(noColor.stdout).toContain('header (UNVERIFIED)');
    const flag = await runCli(['decode', token, '--no-color'], { env: { FORCE_COLOR: '1' } });
    expect(hasAnsi(flag.stdout)).toBe(false);
  });
});

function decodeParts(jwt: string): { header: Record<string, any>; payload: Record<string, any> } {
  const [header, payload] = jwt
    .split('.')
    .slice(0, 2)
    .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')));
  return { header, payload };
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

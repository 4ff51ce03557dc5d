// A resource server in another language: Python with Debian's python3-jwt (PyJWKClient)
// verifies tokens from the running `oauth-jwt-verify issuer` command through its discovery
// and JWKS, and follows a key rotation made through the control API.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { programPath } from '../../../scripts/test-prerequisites.mjs';
import { BUILD_TIMEOUT_MS, ensureBuilt } from '../../cli/helpers.js';
import { type IssuerCommand, startIssuerCommand } from '../../support/issuer-command.js';

const AUDIENCE = 'https://python-api.example';
let command: IssuerCommand;
let python: ChildProcess;
let api: string;

beforeAll(async () => {
  await ensureBuilt();
  command = await startIssuerCommand(['--admin', '--quiet'], {
    OJV_ISSUER_CONFIG: JSON.stringify({ audience: AUDIENCE, algorithms: ['ES256', 'RS256'] }),
  });
  const script = fileURLToPath(new URL('python/resource_server.py', import.meta.url));
  python = spawn(programPath('python3-jwt'), [script, command.issuer, AUDIENCE]);
  let stderr = '';
  python.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const port = await new Promise<string>((resolve, reject) => {
    python.stdout!.setEncoding('utf8').once('data', (line: string) => resolve(line.trim()));
    python.once('exit', (code) =>
      reject(new Error(`the Python resource server exited (${code}): ${stderr}`)),
    );
  });
  api = `http://127.0.0.1:${port}/`;
}, BUILD_TIMEOUT_MS);

afterAll(() => {
  python?.kill();
});

const mint = async (claims: Record<string, unknown>, options: Record<string, unknown> = {}) => {
  const response = await fetch(`${command.url}/_admin/tokens`, {
    method: 'POST',
    body: JSON.stringify({ claims, options }),
  });
  return ((await response.json()) as { access_token: string }).access_token;
};

const call = async (token: string) => {
  const response = await fetch(api, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.status, body: (await response.json()) as Record<string, string> };
};

describe('a Python resource server (PyJWT) trusting the issuer command', () => {
  it('accepts tokens the command issues, from the token endpoint and the control API', async () => {
    const issued = await fetch(`${command.url}/token`, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'python-client' }),
    });
    const { access_token } = (await issued.json()) as { access_token: string };
    expect(await call(access_token)).toEqual({
      status: 200,
      body: { sub: 'python-client', iss: command.issuer, kid: expect.any(String) },
    });
    expect((await call(await mint({ sub: 'alice' }, { alg: 'RS256' }))).body.sub).toBe('alice');
  });

  it('refuses a token for another audience, an expired one and one signed with an unpublished key', async () => {
    expect(await call(await mint({ sub: 'a', aud: 'https://other.example' }))).toEqual({
      status: 401,
      body: { error: 'invalid_token', reason: 'InvalidAudienceError' },
    });
    expect((await call(await mint({ sub: 'a' }, { expiresIn: -60 }))).body.reason).toBe(
      'ExpiredSignatureError',
    );
    expect((await call(await mint({ sub: 'a' }, { unpublishedKey: true }))).status).toBe(401);
  });

  it('follows a key rotation made through the control API', async () => {
    const rotated = await fetch(`${command.url}/_admin/rotate`, { method: 'POST' });
    const { keys } = (await rotated.json()) as { keys: { kid: string; alg: string; active: boolean }[] };
    const fresh = keys.find((key) => key.active && key.alg === 'ES256')!;
    expect(await call(await mint({ sub: 'after-rotation' }))).toEqual({
      status: 200,
      body: { sub: 'after-rotation', iss: command.issuer, kid: fresh.kid },
    });
  });
});

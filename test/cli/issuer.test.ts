import { execFile } from 'node:child_process';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decodeJwt } from 'jose';
import { Agent } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { startIssuerCommand } from '../support/issuer-command.js';
import { createTestCertificates, freePort } from '../support/network.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, runCli } from './helpers.js';

const run = promisify(execFile);

beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);

async function tempFile(name: string, content?: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'ojv-issuer-')), name);
  if (content !== undefined) await writeFile(path, content);
  return path;
}

/** Waits until `text()` holds `part`, checking each time the child writes. */
function waitForOutput(stream: NodeJS.ReadableStream, text: () => string, part: string): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!text().includes(part)) return;
      stream.off('data', check);
      resolve();
    };
    stream.on('data', check);
    check();
  });
}

const clientCredentials = (tokenEndpoint: string, clientId = 'svc') =>
  fetch(tokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId }),
  });

describe('oauth-jwt-verify issuer', () => {
  it('prints the issuer, its discovery URL and a curl that gets a token, then one log line per request', async () => {
    const port = await freePort();
    const { spawn } = await import('node:child_process');
    const { cliPath } = await import('./helpers.js');
    const child = spawn(process.execPath, [cliPath, 'issuer', '--port', String(port)], {
      env: { ...process.env, NO_COLOR: '1' },
    });
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    try {
      await waitForOutput(child.stdout, () => stdout, 'Ctrl-C to stop');
      const origin = `http://127.0.0.1:${port}`;
      expect(stdout).toContain(`default  ${origin}\n`);
      expect(stdout).toContain(`discovery  ${origin}/.well-known/oauth-authorization-server\n`);
      const curl = /token {6}(curl .*)\n/.exec(stdout)?.[1];
      expect(curl).toBe(`curl -s -d client_id=dev-client -d grant_type=client_credentials ${origin}/token`);
      const { stdout: answer } = await run('sh', ['-c', curl!]);
      const accessToken = JSON.parse(answer).access_token as string;
      expect(decodeJwt(accessToken)).toMatchObject({ iss: origin, sub: 'dev-client' });

      await fetch(`${origin}/token?code=SECRET-CODE&client_id=spa`);
      await waitForOutput(child.stdout, () => stdout, 'GET /token?code=');
      expect(stdout).toMatch(/^POST \/token 200 [\d.]+ms$/m);
      expect(stdout).toMatch(/^GET \/token\?code=…&client_id=spa 405 [\d.]+ms$/m);
      expect(stdout).not.toContain('SECRET-CODE');
      expect(stdout).not.toContain(accessToken.split('.')[1]);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });

  it('--json prints exactly one JSON line; GET /health answers 200', async () => {
    const command = await startIssuerCommand(['--quiet']);
    expect(Object.keys(command)).toEqual(expect.arrayContaining(['url', 'issuer', 'issuers']));
    expect(command.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(command.issuer).toBe(command.url);
    expect(command.issuers).toEqual({ default: command.url });
    const health = await fetch(`${command.url}/health`);
    expect(health.status).toBe(200);
    let stdout = '';
    command.child.stdout.on('data', (chunk: string) => (stdout += chunk));
    await clientCredentials(`${command.url}/token`);
    expect(await command.stop('SIGINT')).toBe(0);
    expect(stdout).toBe('');
  });

  it('serves many issuers from a --config file, each with its own iss, verified through discovery', async () => {
    const config = await tempFile(
      'issuer.json',
      JSON.stringify({
        audience: 'https://api.example',
        issuers: { 'tenant-a': { algorithms: ['ES256'] }, legacy: { profile: 'auth0' } },
      }),
    );
    const command = await startIssuerCommand(['--config', config]);
    expect(command.issuers).toEqual({
      'tenant-a': `${command.url}/tenant-a`,
      legacy: `${command.url}/legacy/`,
    });
    expect(command.issuer).toBe(`${command.url}/tenant-a`);
    for (const issuer of Object.values(command.issuers)) {
      const verifier = new JwtVerifier({ issuer, audience: 'https://api.example' });
      const { token_endpoint } = await verifier.metadata();
      const { access_token } = await (await clientCredentials(token_endpoint!)).json();
      expect((await verifier.verify(access_token)).payload.iss).toBe(issuer);
    }
    expect(command.stderr()).toMatch(/^POST \/tenant-a\/token 200 /m);
  });

  it('takes the configuration from OJV_ISSUER_CONFIG, and the control API with --admin', async () => {
    const command = await startIssuerCommand(['--admin'], {
      OJV_ISSUER_CONFIG: JSON.stringify({ audience: 'https://env.example' }),
    });
    const minted = await fetch(`${command.url}/_admin/tokens`, {
      method: 'POST',
      body: JSON.stringify({ claims: { sub: 'alice', roles: ['admin'] } }),
    });
    expect(minted.status).toBe(200);
    const { access_token } = await minted.json();
    expect(decodeJwt(access_token)).toMatchObject({
      sub: 'alice',
      roles: ['admin'],
      aud: 'https://env.example',
    });
    const bad = await fetch(`${command.url}/_admin/fail-next`, { method: 'POST', body: '{' });
    expect(bad.status).toBe(400);
  });

  it.each([
    [
      { issuers: { 'tenant-a': { algorithms: ['HS256'] } } },
      'issuers.tenant-a: each of algorithms must be one of RS256',
    ],
    [{ profile: 'okta' }, 'profile must be one of default, rfc8414, auth0, got okta'],
    [{ colour: 'red' }, 'colour is not a known field'],
    [{ issuers: { health: {} } }, 'issuers.health: the id "health" cannot be a path segment here'],
  ])('exits 2 on a bad --config file %j, naming the file, the field and why', async (config, message) => {
    const file = await tempFile('issuer.json', JSON.stringify(config));
    const result = await runCli(['issuer', '--port', '0', '--config', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`error: --config ${file}: ${message}`);
    expect(result.stdout).toBe('');
  });

  it('exits 2 on a --config that is not JSON, a missing file, bad flags', async () => {
    const notJson = await runCli(['issuer', '--port', '0'], { env: { OJV_ISSUER_CONFIG: '{ nope' } });
    expect(notJson.code).toBe(2);
    expect(notJson.stderr).toContain('error: OJV_ISSUER_CONFIG is not JSON: ');
    const missing = await runCli(['issuer', '--config', '/nonexistent/issuer.json']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('error: --config /nonexistent/issuer.json cannot be read: ');
    const port = await runCli(['issuer', '--port', 'eighty']);
    expect(port.stderr).toContain('error: --port must be an integer from 0 to 65535, got "eighty"');
    const https = await runCli(['issuer', '--https']);
    expect(https.stderr).toContain('error: --https needs --cert <file> and --key <file> (PEM)');
    const publicUrl = await runCli(['issuer', '--port', '0', '--public-url', 'http://x.test/idp']);
    expect(publicUrl.code).toBe(2);
    expect(publicUrl.stderr).toContain('error: --public-url must be an origin');
  });

  it('exits 2 and says so when the port is in use', async () => {
    const first = await startIssuerCommand(['--quiet']);
    const port = new URL(first.url).port;
    const result = await runCli(['issuer', '--port', port, '--json']);
    expect(result.code).toBe(2);
    const output = JSON.parse(result.stdout);
    expect(output.error.code).toBe('ERR_USAGE');
    expect(output.error.message).toBe(
      `127.0.0.1:${port} is already in use (EADDRINUSE): stop what runs there, or choose another port (0: any free port)`,
    );
  });

  it.each(['SIGINT', 'SIGTERM'] as const)(
    'finishes a request in flight on %s, then exits 0',
    async (signal) => {
      const command = await startIssuerCommand(['--admin']);
      await fetch(`${command.url}/_admin/fail-next`, {
        method: 'POST',
        body: JSON.stringify({ endpoint: 'jwks', delayMs: 1500 }),
      });
      const inFlight = fetch(`${command.url}/jwks`);
      // The request is in flight once the issuer counted it.
      while ((await (await fetch(`${command.url}/_admin/requests`)).json()).jwks === 0);
      const exitCode = command.stop(signal);
      const response = await inFlight;
      expect(response.status).toBe(200);
      expect((await response.json()).keys).toHaveLength(1);
      expect(await exitCode).toBe(0);
      expect(command.stderr()).toContain(`${signal}: finishing requests in flight, then stopping`);
    },
  );

  it('keeps keys in --keys (mode 0600) across a restart: a token from before verifies after', async () => {
    const keys = await tempFile('keys.json');
    const port = String(await freePort());
    const first = await startIssuerCommand(['--keys', keys, '--port', port, '--quiet']);
    const before = (await (await clientCredentials(`${first.url}/token`)).json()).access_token as string;
    expect(await first.stop()).toBe(0);
    expect((await stat(keys)).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(await readFile(keys, 'utf8'));
    expect(saved.issuers.default[0].d).toEqual(expect.any(String));

    const second = await startIssuerCommand(['--keys', keys, '--port', port, '--quiet']);
    const verifier = new JwtVerifier({ issuer: second.issuer, audience: 'https://api.test' });
    expect((await verifier.verify(before)).payload.sub).toBe('svc');
    expect(JSON.parse(await readFile(keys, 'utf8'))).toEqual(saved);
  });

  it('serves HTTPS with --https --cert --key (an openssl-made certificate)', async () => {
    const { ca, cert, key } = await createTestCertificates();
    const [certFile, keyFile] = await Promise.all([tempFile('cert.pem', cert), tempFile('key.pem', key)]);
    const command = await startIssuerCommand(['--https', '--cert', certFile, '--key', keyFile, '--quiet']);
    expect(command.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const dispatcher = new Agent({ connect: { ca } });
    const { fetch: undiciFetch } = await import('undici');
    const metadata = await (
      await undiciFetch(`${command.url}/.well-known/openid-configuration`, { dispatcher })
    ).json();
    expect((metadata as { issuer: string }).issuer).toBe(command.url);
    await dispatcher.close();
  });

  it('--public-url is the iss and the base of every metadata URL; --host 0.0.0.0 warns', async () => {
    const port = await freePort();
    const command = await startIssuerCommand([
      '--port',
      String(port),
      '--host',
      '0.0.0.0',
      '--public-url',
      'http://issuer.example:9000',
      '--quiet',
    ]);
    expect(command.issuer).toBe('http://issuer.example:9000');
    const metadata = await (await fetch(`http://127.0.0.1:${port}/.well-known/openid-configuration`)).json();
    expect(metadata.issuer).toBe('http://issuer.example:9000');
    expect(metadata.jwks_uri).toBe('http://issuer.example:9000/jwks');
    const token = await (await clientCredentials(`http://127.0.0.1:${port}/token`)).json();
    expect(decodeJwt(token.access_token).iss).toBe('http://issuer.example:9000');
    expect(command.stderr()).toContain('warning: listening on 0.0.0.0: this is a development server');
  });

  it('--help says what it does, its flags and where the guide is', async () => {
    const result = await runCli(['issuer', '--help']);
    expect(result.code).toBe(0);
    for (const flag of [
      '--port',
      '--host',
      '--config',
      'OJV_ISSUER_CONFIG',
      '--public-url',
      '--keys',
      '--https',
      '--cert',
      '--key',
      '--admin',
      '--json',
      '--quiet',
      'docs/dev-issuer.md',
    ]) {
      expect(result.stdout).toContain(flag);
    }
  });
});

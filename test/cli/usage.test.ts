import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, ensureBuilt, parseJson, root, runCli } from './helpers.js';

beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);

describe('oauth-jwt-verify usage', () => {
  it('lists every command with --help and exits 0', async () => {
    const result = await runCli(['--help']);
    expect(result.code).toBe(0);
    for (const command of ['demo', 'discover', 'verify', 'decode'])
      expect(result.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(result.stdout).toContain('Exit status: 0 ok, 1 rejected, 2 usage');
  });

  it.each(['demo', 'discover', 'verify', 'decode'])(
    'prints the help of %s with --help and -h, exit 0',
    async (command) => {
      const long = await runCli([command, '--help']);
      expect(long.code).toBe(0);
      expect(long.stdout).toContain(`Usage: oauth-jwt-verify ${command}`);
      expect(long.stdout).toContain('--json');
      const short = await runCli([command, '-h']);
      expect(short.stdout).toBe(long.stdout);
      const viaHelp = await runCli(['help', command]);
      expect(viaHelp.stdout).toBe(long.stdout);
    },
  );

  it('exits 2 with a pointer to --help for an unknown command', async () => {
    const result = await runCli(['verfy', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('unknown command "verfy"');
    expect(result.stderr).toContain('--help');
  });

  it('reports an unknown command as JSON with --json', async () => {
    const result = await runCli(['frobnicate', '--json']);
    expect(result.code).toBe(2);
    const output = parseJson(result);
    expect(output.error.code).toBe('ERR_USAGE');
    expect(output.ok).toBe(false);
    expect(output.error.message).toContain('frobnicate');
  });

  it('exits 2 and prints the help on stderr without any command', async () => {
    const result = await runCli([]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: oauth-jwt-verify <command>');
  });

  it('exits 2 for an unknown option, naming it', async () => {
    const result = await runCli(['decode', 'x.y.z', '--frobnicate']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--frobnicate');
    expect(result.stderr).toContain('oauth-jwt-verify decode --help');
  });

  it('exits 2 when verify lacks --issuer or --audience', async () => {
    const noIssuer = await runCli(['verify', 'x.y.z', '--audience', 'https://api.test']);
    expect(noIssuer.code).toBe(2);
    expect(noIssuer.stderr).toContain('--issuer is required');
    const noAudience = await runCli(['verify', 'x.y.z', '--issuer', 'https://issuer.test', '--json']);
    expect(noAudience.code).toBe(2);
    expect(parseJson(noAudience).error.code).toBe('ERR_USAGE');
    expect(parseJson(noAudience).error.message).toContain('--audience is required');
  });

  it('prints the package version with --version', async () => {
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const result = await runCli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });
});

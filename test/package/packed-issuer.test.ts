// `npx oauth-jwt-verify issuer` from an empty folder with only the packed tarball installed
// (no msw, no other peer): the development identity provider starts, answers over HTTP, and
// stops on Ctrl-C.
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import { startIssuerCommand } from '../support/issuer-command.js';
import { usePackedPackage } from './packed-package.js';

const packed = usePackedPackage('issuer', {}, { withPeers: false });

describe('npx oauth-jwt-verify issuer, from the packed package', () => {
  it('starts with --port 0 --json, issues tokens, serves the control API and stops on Ctrl-C', async () => {
    const command = await startIssuerCommand(
      ['--admin'],
      {},
      {
        command: ['npx', '--no', 'oauth-jwt-verify'],
        cwd: packed.project,
        processGroup: true,
      },
    );
    expect(command.issuers).toEqual({ default: command.url });
    expect((await fetch(`${command.url}/health`)).status).toBe(200);
    const metadata = await (await fetch(`${command.url}/.well-known/openid-configuration`)).json();
    expect(metadata.issuer).toBe(command.issuer);
    const token = await fetch(metadata.token_endpoint, {
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: 'packed' }),
    });
    expect(decodeJwt((await token.json()).access_token)).toMatchObject({
      iss: command.issuer,
      sub: 'packed',
    });
    const minted = await fetch(`${command.url}/_admin/tokens`, {
      method: 'POST',
      body: JSON.stringify({ claims: { sub: 'alice' } }),
    });
    expect(decodeJwt((await minted.json()).access_token).sub).toBe('alice');
    // Ctrl-C in a terminal signals npm and the server alike; npm dies of it, the server stops cleanly.
    await command.stop('SIGINT');
    expect(command.stderr()).toContain('SIGINT: finishing requests in flight, then stopping');
    await expect(fetch(`${command.url}/health`)).rejects.toThrow();
  }, 60_000);
});

// The CLI and DPoP-bound tokens: `decode` shows cnf, `verify --dpop <proof|-> --url --method`
// checks the proof with the token as an API would, against the stub issuer on 127.0.0.1.
import { beforeAll, describe, expect, it } from 'vitest';
import { createDpopProof } from '../../src/testing/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { type DpopClient, dpopClient } from '../support/dpop.js';
import { BUILD_TIMEOUT_MS, ensureBuilt, parseJson, runCli, verifyCommand } from './helpers.js';

const AUDIENCE = 'https://api.test';
const URL_ = 'https://api.test/orders';
beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);
const issuer = useTestIssuer({ listen: true, audience: AUDIENCE });
let client: DpopClient;
let token: string;
beforeAll(async () => {
  client = await dpopClient();
  token = await issuer.sign({ sub: 'alice' }, { dpopJkt: client.jkt });
});

const verifyToken = verifyCommand(issuer, AUDIENCE);
const verifyArgs = (...extra: string[]) => verifyToken(token, ...extra);
const proof = (options: { url?: string; method?: string } = {}) =>
  createDpopProof({
    key: client.key,
    method: options.method ?? 'GET',
    url: options.url ?? URL_,
    accessToken: token,
  });

describe('oauth-jwt-verify decode', () => {
  it('shows what a bound token is bound to (cnf), also with --json', async () => {
    const human = await runCli(['decode', token]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^cnf \(UNVERIFIED\)$/m);
    expect(human.stdout).toContain(`jkt  "${client.jkt}"  DPoP-bound`);
    const json = await runCli(['decode', token, '--json']);
    expect(parseJson(json).cnf).toEqual({ jkt: client.jkt });
    expect(parseJson(await runCli(['decode', await issuer.sign(), '--json'])).cnf).toBeNull();
  });
});

describe('oauth-jwt-verify verify --dpop', () => {
  it('exits 0 for a bound token with a proof of its key for the URL, and says what it checked', async () => {
    const result = await runCli(verifyArgs('--dpop', await proof(), '--url', URL_));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^✔ VALID/);
    expect(result.stdout).toContain(`dpop       ES256 proof for GET ${URL_}, key jkt ${client.jkt}`);
  });

  it('reads the proof from stdin with --dpop -, and reports it with --json', async () => {
    const result = await runCli(
      verifyArgs('--dpop', '-', '--url', `${URL_}/7`, '--method', 'delete', '--json'),
      {
        input: `${await proof({ url: `${URL_}/7`, method: 'DELETE' })}\n`,
      },
    );
    expect(result.code).toBe(0);
    expect(parseJson(result)).toMatchObject({
      ok: true,
      cnf: { jkt: client.jkt },
      dpop: { jkt: client.jkt, alg: 'ES256', htm: 'DELETE', htu: `${URL_}/7`, iat: expect.any(Number) },
    });
  });

  it('exits 1 with ERR_DPOP_PROOF_INVALID for a proof made for another URL', async () => {
    const result = await runCli(
      verifyArgs('--dpop', await proof({ url: 'https://api.test/admin' }), '--url', URL_, '--json'),
    );
    expect(result.code).toBe(1);
    expect(parseJson(result).error).toMatchObject({ code: 'ERR_DPOP_PROOF_INVALID' });
  });

  it('exits 1 with ERR_DPOP_BINDING for a proof from another key', async () => {
    const other = await dpopClient();
    const foreign = await createDpopProof({ key: other.key, method: 'GET', url: URL_, accessToken: token });
    const result = await runCli(verifyArgs('--dpop', foreign, '--url', URL_));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ERR_DPOP_BINDING: the token is bound to key/);
  });

  it('without --dpop, verifies a bound token and notes that an API refuses it as Bearer', async () => {
    const result = await runCli(verifyArgs());
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/note\s+DPoP-bound \(cnf\.jkt\): an API refuses it as Bearer/);
  });

  it.each([
    [['--dpop', 'x'], /--dpop needs --url/],
    [['--url', URL_], /--url and --method go with --dpop/],
    [['--dpop', 'x', '--url', '/orders'], /--url must be an absolute/],
  ])('exits 2 for %j', async (extra, message) => {
    const result = await runCli(verifyArgs(...extra));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
  });

  it('exits 2 when both the token and the proof are to come from stdin', async () => {
    const result = await runCli(verifyToken('-', '--dpop', '-', '--url', URL_));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/only one of the token and the --dpop proof/);
  });
});

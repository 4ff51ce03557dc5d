import { beforeAll, describe, expect, it } from 'vitest';
import { BUILD_TIMEOUT_MS, ensureBuilt, expectOutputToContain, parseJson, runCli } from './helpers.js';

beforeAll(ensureBuilt, BUILD_TIMEOUT_MS);

const STEPS = [
  'Stub issuer listening',
  'Discovery',
  'JWKS fetched',
  'Valid tokens verified',
  'Bad tokens rejected',
  'Key rotation picked up on first sight',
  'Issuer outage survived from cache',
  'PKCE login completed against the stub',
];

describe('oauth-jwt-verify demo', () => {
  it('narrates every step, each behaving as expected, and exits 0', async () => {
    const result = await runCli(['demo']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expectOutputToContain(
      result.stdout,
      STEPS.map((title, i) => `✔ ${i + 1}. ${title}`),
    );
    expect(result.stdout).not.toContain('✖');
    expect(result.stdout).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-authorization-server \(RFC 8414, tried first\)/,
    );
    expectOutputToContain(result.stdout, [
      'tampered (payload sub changed to admin) → ERR_SIGNATURE_INVALID',
      'expired 5 minutes ago → ERR_TOKEN_EXPIRED',
      'for another API → ERR_AUDIENCE_MISMATCH',
      'alg: none, no signature → ERR_ALG_NOT_ALLOWED',
      'after one JWKS refetch (jwks 1 → 2)',
      'GET /authorize → 302',
      'access token verified (typ at+jwt',
      'All 8 steps behaved as expected.',
    ]);
  });

  it('reports the steps and the facts they checked as JSON', async () => {
    const result = await runCli(['demo', '--json']);
    expect(result.code).toBe(0);
    const output = parseJson(result);
    expect(output.ok).toBe(true);
    expect(output.issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(output.steps.map((s: { title: string }) => s.title)).toEqual(STEPS);
    expect(output.steps.every((s: { ok: boolean }) => s.ok)).toBe(true);
    const facts = Object.fromEntries(
      output.steps.map((s: { id: string; facts: unknown }) => [s.id, s.facts]),
    );
    expect(facts.discovery).toMatchObject({ kind: 'oauth', metadataRequests: 1 });
    expect(facts.rejections.codes).toEqual({
      ERR_SIGNATURE_INVALID: 'ERR_SIGNATURE_INVALID',
      ERR_TOKEN_EXPIRED: 'ERR_TOKEN_EXPIRED',
      ERR_AUDIENCE_MISMATCH: 'ERR_AUDIENCE_MISMATCH',
      ERR_ALG_NOT_ALLOWED: 'ERR_ALG_NOT_ALLOWED',
    });
    expect(facts.rotation).toMatchObject({ jwksBefore: 1, jwksAfterFirst: 2, jwksAfterSecond: 2 });
    expect(facts.outage).toMatchObject({
      servingStale: true,
      jwksBefore: 2,
      jwksAfterFirst: 3,
      jwksAfterSecond: 3,
    });
    expect(facts.pkce).toMatchObject({ authorizeStatus: 302, typ: 'at+jwt' });
  });

  it('prints no colour codes with NO_COLOR even when colours are forced', async () => {
    const result = await runCli(['demo'], { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
    expect(result.code).toBe(0);
    expect(result.stdout).not.toContain('\u001b[');
  });
});

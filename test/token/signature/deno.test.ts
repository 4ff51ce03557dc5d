// The Deno path's routing (signature-deno): node:crypto for RSA and EdDSA while fewer than
// offload.threshold checks are in flight, jose for ECDSA and for everything past that.
import { describe, expect, it, vi } from 'vitest';
import type { JwsAlgorithm } from '../../../src/token/algorithms.js';
import type { JwksKey } from '../../../src/token/jwk.js';
import type { ParsedToken } from '../../../src/token/parse.js';
import { offload } from '../../../src/token/signature/offload.js';

const { counting } = await vi.hoisted(() => import('../../support/counting.js'));
const calls = vi.hoisted(() => ({ node: { count: 0 }, web: { count: 0 } }));
vi.mock('../../../src/token/signature/node.js', async (original) =>
  counting(
    await original<typeof import('../../../src/token/signature/node.js')>(),
    'checkSignature',
    calls.node,
  ),
);
vi.mock('../../../src/token/signature/web.js', async (original) =>
  counting(
    await original<typeof import('../../../src/token/signature/web.js')>(),
    'checkSignature',
    calls.web,
  ),
);
const { checkSignature } = await import('../../../src/token/signature/deno.js');

const token = {
  signingInput: 'e30.e30',
  encodedSignature: 'AA',
  signature: new Uint8Array(1),
} as ParsedToken;
const key: JwksKey = { kid: 'k', jwk: { kty: 'oct' } as never };

/** Which path one check with `alg` and `inFlight` took. */
async function pathOf(alg: JwsAlgorithm, inFlight: number): Promise<'node' | 'web'> {
  const before = { node: calls.node.count, web: calls.web.count };
  await checkSignature(token, key, alg, inFlight);
  expect(calls.node.count - before.node + calls.web.count - before.web).toBe(1);
  return calls.node.count > before.node ? 'node' : 'web';
}

describe('signature-deno', () => {
  it.each([
    ['RS256', 1, 'node'],
    ['PS256', offload.threshold - 1, 'node'],
    ['EdDSA', 1, 'node'],
    ['RS256', offload.threshold, 'web'],
    ['EdDSA', 64, 'web'],
    ['ES256', 1, 'web'],
    ['ES384', 64, 'web'],
  ] as const)('%s with %i in flight goes through %s', async (alg, inFlight, path) => {
    expect(await pathOf(alg, inFlight)).toBe(path);
  });
});

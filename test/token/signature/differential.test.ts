import { beforeAll, describe, it } from 'vitest';
import * as node from '../../../src/token/signature/node.js';
import * as web from '../../../src/token/signature/web.js';
import * as deno from '../../../src/token/signature/deno.js';
import { SEGMENT_CHECKS } from '../segment-cases.js';
import { type Differential, SIGNATURE_CHECKS, createDifferential } from './cases.js';

// The same tokens through both signature paths (node:crypto on Node and Bun, jose elsewhere)
// must get the same decision, whether the node path answers synchronously or on the thread
// pool. The cases live in signature-cases.ts, so that test/runtimes/signature-differential.ts
// runs them, against the built dist, on Bun and Deno too (.ci/run).

const paths = { node, web };
let differential: Differential;

beforeAll(async () => {
  differential = await createDifferential(paths);
});

describe('node:crypto and jose signature paths', () => {
  it.each(SIGNATURE_CHECKS.map((check) => [check.name, check] as const))('%s', async (_, check) => {
    await check.run(differential);
  });
});

// Deno's mix (node:crypto for RSA and EdDSA, jose for ECDSA and under load), here on Node.
let denoDifferential: Differential;
beforeAll(async () => {
  denoDifferential = await createDifferential({ node: deno, web });
});

describe('the Deno path (signature-deno) and jose', () => {
  it.each(SIGNATURE_CHECKS.map((check) => [check.name, check] as const))('%s', async (_, check) => {
    await check.run(denoDifferential);
  });
});

describe('Node and portable segment decoders agree, and with the strict rule', () => {
  it.each(SEGMENT_CHECKS.map((check) => [check.name, check] as const))('%s', (_, check) => check.run(paths));
});

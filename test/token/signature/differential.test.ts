import { beforeAll, describe, it } from 'vitest';
import * as node from '../../../src/token/signature/node.js';
import * as web from '../../../src/token/signature/web.js';
import * as deno from '../../../src/token/signature/deno.js';
import { SEGMENT_CHECKS } from '../segment-cases.js';
import { type Differential, SIGNATURE_CHECKS, createDifferential } from './cases.js';

// The same tokens through both signature paths (node:crypto on Node and Bun, Web Crypto with
// keys imported by jose elsewhere) must get jose's own decision, whether the node path answers
// synchronously or on the thread pool, and the Web Crypto path before or after its key is
// imported. The cases live in cases.ts, so that test/runtimes/signature-differential.ts
// runs them, against the built dist, on Bun and Deno too (.ci/run).

const paths = { node, web };
let differential: Differential;

beforeAll(async () => {
  differential = await createDifferential(paths);
});

describe('the node:crypto and Web Crypto signature paths, held to jose', () => {
  it.each(SIGNATURE_CHECKS.map((check) => [check.name, check] as const))('%s', async (_, check) => {
    await check.run(differential);
  });
});

// Deno's mix (node:crypto for RSA and EdDSA, Web Crypto for ECDSA and under load), here on Node.
let denoDifferential: Differential;
beforeAll(async () => {
  denoDifferential = await createDifferential({ node: deno, web });
});

describe('the Deno path (signature-deno) and Web Crypto, held to jose', () => {
  it.each(SIGNATURE_CHECKS.map((check) => [check.name, check] as const))('%s', async (_, check) => {
    await check.run(denoDifferential);
  });
});

describe('Node and portable segment decoders agree, and with the strict rule', () => {
  it.each(SEGMENT_CHECKS.map((check) => [check.name, check] as const))('%s', (_, check) => check.run(paths));
});

// The refresh-ahead timer must never keep a process alive: a child Node process warms a
// verifier against a live stub issuer, verifies a token and reaches the end of its script
// without close(); it must then exit on its own.
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';

let issuer: TestIssuer;
let dir: string;

const CHILD = `
import { JwtVerifier } from './index.js';
const [issuerUrl, token] = process.argv.slice(2);
const events = [];
const verifier = new JwtVerifier({ issuer: issuerUrl, audience: 'https://api.test', onEvent: (e) => events.push(e.type) });
await verifier.warmup();
const { payload } = await verifier.verify(token);
console.log(JSON.stringify({ sub: payload.sub, events }));
// No close(): the refresh timer is armed, and must not hold the process.
`;

beforeAll(async () => {
  issuer = await createTestIssuer({ listen: true, audience: 'https://api.test' });
  dir = await mkdtemp(join(tmpdir(), 'oauth-jwt-verify-exit-'));
  await build({
    entryPoints: { index: 'src/index.ts' },
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outdir: dir,
    logLevel: 'silent',
  });
  await writeFile(join(dir, 'child.mjs'), CHILD);
});
afterAll(async () => {
  await issuer.close();
  await rm(dir, { recursive: true, force: true });
});

describe('process lifetime', () => {
  it('lets a process with a warm verifier exit on its own when its work is done', async () => {
    const token = await issuer.sign({ sub: 'child-user' });
    const child = spawn(process.execPath, [join(dir, 'child.mjs'), issuer.issuer, token], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    // A child held open by a timer would never exit; kill it after the test's patience runs out
    // so the failure is reported as "did not exit", not as a hung suite.
    const guard = setTimeout(() => child.kill('SIGKILL'), 15_000);
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal])),
    );
    clearTimeout(guard);
    expect(signal, 'the child had to be killed: something kept it alive').toBeNull();
    expect(code, stderr).toBe(0);
    const report = JSON.parse(stdout) as { sub: string; events: string[] };
    expect(report.sub).toBe('child-user');
    expect(report.events).toContain('jwks_fetched');
  });
});

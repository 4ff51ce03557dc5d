#!/usr/bin/env node
// node bench/issuer.mjs [--quick] [--ms=3000] [--connections=32]
//
// How fast the development identity provider answers: `oauth-jwt-verify issuer` (the built
// CLI) runs in its own process; this process is the load, undici Pools of keep-alive
// connections with one request in flight each. Measured: JWKS answers, discovery answers and
// client-credentials tokens (ES256) per second. The claim: a user's load test is not held
// back by it (targets: 5,000 JWKS answers/s and 1,000 tokens/s on a 2-core machine).
// Also run by `npm run bench` (--only=issuer). Prints a table; `--json` prints one JSON line.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { ensureBuilt } from '../scripts/ensure-build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const quick = args.includes('--quick');
const ms = Number(flag('ms') ?? (quick ? 1000 : 3000));
const connections = Number(flag('connections') ?? 32);
const TARGETS = { jwks: 5000, discovery: 5000, token: 1000 };

/** Starts the built command and resolves to its base URL and the child process. */
async function startCommand() {
  const child = spawn(
    process.execPath,
    [join(root, 'dist/cli/index.js'), 'issuer', '--port', '0', '--json', '--quiet'],
    {
      env: { ...process.env, OJV_ISSUER_CONFIG: JSON.stringify({ algorithms: ['ES256'] }) },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const line = await new Promise((resolve, reject) => {
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('\n')) resolve(stdout.split('\n', 1)[0]);
    });
    child.once('exit', (code) => reject(new Error(`the issuer command exited with ${code}`)));
  });
  return { url: JSON.parse(line).url, child };
}

/**
 * The child's CPU time so far in ms (Linux /proc; `undefined` elsewhere): CPU per answer is a
 * figure a busy shared machine does not distort the way answers per second are.
 */
function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in 1/100 s
  } catch {
    return undefined;
  }
}

/** Answers per second of `request` with `connections` loops for `durationMs`, after a warm-up. */
async function measure(pool, request, durationMs) {
  const run = async (duration) => {
    let ok = 0;
    let failed = 0;
    const end = performance.now() + duration;
    const loop = async () => {
      while (performance.now() < end) {
        const { statusCode, body } = await pool.request(request());
        await body.dump();
        if (statusCode === 200) ok++;
        else failed++;
      }
    };
    const started = performance.now();
    const cpuBefore = cpuMs(pool.serverPid);
    await Promise.all(Array.from({ length: connections }, loop));
    const cpu = cpuMs(pool.serverPid);
    return {
      perSecond: Math.round((ok * 1000) / (performance.now() - started)),
      failed,
      serverCpuUsPerAnswer:
        cpu === undefined ? undefined : Math.round(((cpu - cpuBefore) * 1000) / (ok + failed)),
    };
  };
  return run(durationMs);
}

/** `count` requests of `request`, so the JIT has compiled both processes' paths before measuring. */
async function warmUp(pool, request, count) {
  let left = count;
  const loop = async () => {
    while (left-- > 0) await (await pool.request(request())).body.dump();
  };
  await Promise.all(Array.from({ length: connections }, loop));
}

ensureBuilt();
const { url, child } = await startCommand();
const pool = Object.assign(new Pool(url, { connections, pipelining: 1 }), { serverPid: child.pid });
const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: 'bench' }).toString();
const scenarios = {
  jwks: () => ({ method: 'GET', path: '/jwks' }),
  discovery: () => ({ method: 'GET', path: '/.well-known/openid-configuration' }),
  token: () => ({
    method: 'POST',
    path: '/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  }),
};
const results = {};
try {
  for (const request of Object.values(scenarios)) await warmUp(pool, request, quick ? 1000 : 3000);
  for (const [name, request] of Object.entries(scenarios)) {
    results[name] = { ...(await measure(pool, request, ms)), target: TARGETS[name] };
  }
} finally {
  await pool.close();
  child.kill('SIGTERM');
}

if (args.includes('--json')) {
  process.stdout.write(`${JSON.stringify({ ms, connections, results })}\n`);
} else {
  process.stdout.write(
    `\nDevelopment issuer (oauth-jwt-verify issuer, ES256), ${connections} keep-alive connections, ${ms} ms each\n`,
  );
  for (const [name, { perSecond, failed, target, serverCpuUsPerAnswer: cpu }] of Object.entries(results)) {
    const verdict = perSecond >= target ? 'meets' : 'BELOW';
    const perCore = cpu ? `; server CPU ${cpu} µs/answer = ${Math.round(1e6 / cpu)}/s per core` : '';
    process.stdout.write(
      `  ${name.padEnd(10)} ${String(perSecond).padStart(7)} answers/s  (${verdict} the ${target}/s target${failed ? `, ${failed} not 200` : ''}${perCore})\n`,
    );
  }
}

#!/usr/bin/env node
// npm run bench [-- --quick] [--only=throughput,cold,flood,rotation,memory,issuer] [--alg=RS256,...]
// npm run bench -- --runtime node|bun|deno [--quick]: ours, jose and the runtime's raw
//   primitives, measured in that runtime (bench/runtimes.mjs)
//
// Runs every (scenario, algorithm, contender) in its own child process against one stub
// issuer served over HTTP on 127.0.0.1 by this process, prints tables and writes
// bench/results/<timestamp>.json (and latest.json). See docs/performance.md.
import { execFile, fork } from 'node:child_process';
import { KeyObject, sign as cryptoSign } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTENDERS, NETWORKED } from './contenders.mjs';
import { RUNTIME_ALGORITHMS, benchRuntimes, runtimeList, runtimeTables } from './runtimes.mjs';
import { ensureBuilt } from '../scripts/ensure-build.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const flag = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const quick = args.includes('--quick');
const runtimes = runtimeList(args); // --runtime: the per-runtime bench instead of the peers' one
const only =
  flag('only')?.split(',') ??
  (runtimes ? ['runtime'] : ['target', 'throughput', 'cold', 'flood', 'rotation', 'memory', 'issuer']);
const algorithms =
  flag('alg')?.split(',') ?? (runtimes ? RUNTIME_ALGORITHMS : ['RS256', 'PS256', 'ES256', 'EdDSA']);
const contenderFilter = flag('contenders')?.split(',');
const settings = {
  ms: Number(flag('ms') ?? (quick ? 200 : 400)),
  distinct: Number(flag('distinct') ?? (quick ? 200 : 1000)),
  concurrent: 1000,
  memoryTokens: Number(flag('memory-tokens') ?? (quick ? 10_000 : 100_000)),
  rotationGiveUpMs: quick ? 1500 : 3000,
  rotationRetryMs: 100,
  rounds: Number(flag('rounds') ?? (quick ? 5 : 9)),
  sliceMs: Number(flag('slice-ms') ?? (quick ? 60 : 100)),
};

// Bench the built package, as users get it: build when dist/ is missing or older than
// src/, then copy it aside, so a rebuild during the run cannot pull it from under us.
ensureBuilt();
const packageDir = join(root, '.tmp/bench-package');
rmSync(packageDir, { recursive: true, force: true });
mkdirSync(packageDir, { recursive: true });
cpSync(join(root, 'dist'), join(packageDir, 'dist'), { recursive: true });
cpSync(join(root, 'package.json'), join(packageDir, 'package.json'));
process.env.BENCH_PACKAGE_DIR = packageDir; // read by contenders.mjs in the children
const { createTestIssuer } = await import(join(packageDir, 'dist/testing/index.js'));

const startedAt = new Date();
const loadAtStart = os.loadavg().map((n) => Number(n.toFixed(2)));
const work = mkdtempSync(join(os.tmpdir(), 'oauth-jwt-verify-bench-'));
// The per-runtime memory jobs verify ES256 tokens, whatever --alg says.
const issuer = await createTestIssuer({
  listen: true,
  algorithms: runtimes ? [...new Set([...algorithms, 'ES256'])] : algorithms,
});
const audience = 'https://api.test';
const jwksUri = issuer.metadata.jwks_uri;
const log = (line) => process.stderr.write(`${line}\n`);

async function signMany(alg, count, claims = () => ({})) {
  const list = [];
  for (let i = 0; i < count; i++) list.push(await issuer.sign({ sub: `user-${i}`, ...claims(i) }, { alg }));
  return list;
}

/** Fast bulk signing with node:crypto for the memory scenario (100k tokens). */
function signBulk(alg, count) {
  const key = issuer.keys.filter((k) => k.alg === alg && k.active).at(-1);
  const privateKey = KeyObject.from(key.privateKey);
  const header = Buffer.from(JSON.stringify({ alg, typ: 'JWT', kid: key.kid })).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const lines = [];
  for (let i = 0; i < count; i++) {
    const payload = Buffer.from(
      JSON.stringify({
        iss: issuer.issuer,
        aud: audience,
        sub: `user-${i}`,
        iat: now,
        exp: now + 3600,
        jti: `m${i}`,
      }),
    ).toString('base64url');
    const input = `${header}.${payload}`;
    const signature = cryptoSign('sha256', Buffer.from(input), {
      key: privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    lines.push(`${input}.${signature.toString('base64url')}`);
  }
  return lines;
}

function write(name, lines) {
  const file = join(work, name);
  writeFileSync(file, lines.join('\n'));
  return file;
}

function runChild(job) {
  return new Promise((resolve, reject) => {
    const child = fork(join(root, 'bench/child.mjs'), [JSON.stringify(job)], {
      execArgv: ['--expose-gc'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let result;
    child.on('message', async (message) => {
      if (message.result) return void (result = message.result);
      let value;
      if (message.op === 'counts') value = { ...issuer.requests };
      else if (message.op === 'reset') issuer.reset();
      else if (message.op === 'token') value = await issuer.sign({ sub: 'warm' }, { alg: message.alg });
      else if (message.op === 'rotate') {
        await issuer.rotateKeys();
        value = await issuer.sign({ sub: 'rotated' }, { alg: message.alg });
      }
      child.send({ id: message.id, value });
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      result ? resolve(result) : reject(new Error(`${job.scenario}/${job.contender} exited with ${code}`)),
    );
  });
}

const contenders = Object.keys(CONTENDERS).filter(
  (name) => !contenderFilter || contenderFilter.includes(name),
);
const results = {
  target: {},
  throughput: {},
  cold: {},
  flood: {},
  rotation: {},
  memory: {},
  runtime: {},
  issuer: undefined,
};
const context = (alg) => ({ issuer: issuer.issuer, audience, jwksUri, alg });
const tokenFiles = {};
async function distinctTokens(alg) {
  if (!tokenFiles[alg]) {
    log(`signing ${settings.distinct} ${alg} tokens`);
    tokenFiles[alg] = write(`${alg}.txt`, await signMany(alg, settings.distinct));
  }
  return tokenFiles[alg];
}

if (only.includes('target')) {
  for (const alg of algorithms) {
    log(`target check ${alg}: ours vs raw node:crypto, interleaved`);
    results.target[alg] = await runChild({
      scenario: 'target',
      contender: 'ours',
      context: context(alg),
      tokensFile: await distinctTokens(alg),
      rounds: settings.rounds,
      sliceMs: settings.sliceMs,
    });
  }
}

if (only.includes('throughput')) {
  for (const alg of algorithms) {
    const tokensFile = await distinctTokens(alg);
    results.throughput[alg] = {};
    for (const contender of contenders) {
      log(`throughput ${alg} ${contender}`);
      results.throughput[alg][contender] = await runChild({
        scenario: 'throughput',
        contender,
        context: context(alg),
        tokensFile,
        ms: settings.ms,
      });
    }
  }
}

// Peers left out keep no per-token state (like jose-floor) and would take most of the time budget.
const MEMORY_CONTENDERS = ['ours', 'ours-cached', 'jose-floor'];
const networked = contenders.filter((name) => NETWORKED.includes(name) || name === 'jose-floor');
const withKeyCache = networked.filter((name) => name !== 'jose-floor');
const eventAlg = algorithms.includes('ES256') ? 'ES256' : algorithms[0];
/** One child per contender for `scenario` (its tokens signed with `alg`), into results[scenario]. */
async function runEach(scenario, label, names, alg, job) {
  for (const contender of names) {
    log(`${label} ${contender}`);
    results[scenario][contender] = await runChild({ scenario, contender, context: context(alg), ...job });
  }
}
if (only.includes('cold')) {
  const tokensFile = write('cold.txt', await signMany(eventAlg, settings.concurrent));
  await runEach('cold', 'cold start', networked, eventAlg, { tokensFile });
}
if (only.includes('flood')) {
  const flood = [];
  for (let i = 0; i < settings.concurrent; i++) {
    // Signed by a key the JWKS does not hold, each with its own invented kid.
    flood.push(
      await issuer.sign(
        { sub: `flood-${i}` },
        { alg: eventAlg, unpublishedKey: true, header: { kid: `unknown-${i}` } },
      ),
    );
  }
  const floodFile = write('flood.txt', flood);
  await runEach('flood', 'unknown-kid flood', withKeyCache, eventAlg, { floodFile });
}
if (only.includes('rotation')) {
  await runEach('rotation', 'rotation', withKeyCache, eventAlg, {
    rotationGiveUpMs: settings.rotationGiveUpMs,
    rotationRetryMs: settings.rotationRetryMs,
  });
}
if (only.includes('memory') && algorithms.includes('ES256')) {
  log(`signing ${settings.memoryTokens} ES256 tokens for the memory scenario`);
  const memoryFile = write('memory.txt', signBulk('ES256', settings.memoryTokens));
  const memoryContenders = contenders.filter((name) => MEMORY_CONTENDERS.includes(name));
  await runEach('memory', 'memory', memoryContenders, 'ES256', { memoryFile });
}
if (only.includes('runtime')) {
  let memoryFile;
  results.runtime = await benchRuntimes({
    runtimes: runtimes ?? ['node'],
    algorithms,
    settings,
    context,
    distinctTokens,
    memoryFile: async () =>
      (memoryFile ??= write('runtime-memory.txt', signBulk('ES256', settings.memoryTokens))),
    work,
    log,
  });
}
await issuer.close();
rmSync(work, { recursive: true, force: true });
if (only.includes('issuer')) {
  // The development identity provider (`oauth-jwt-verify issuer`): bench/issuer.mjs, on its own.
  log('benchmarking the development issuer (bench/issuer.mjs)');
  const { stdout } = await new Promise((resolve, reject) =>
    execFile(
      process.execPath,
      [join(root, 'bench/issuer.mjs'), '--json', ...(quick ? ['--quick'] : [])],
      (error, out) => (error ? reject(error) : resolve({ stdout: out })),
    ),
  );
  results.issuer = JSON.parse(stdout.trim().split('\n').at(-1));
}

// ---- report ----------------------------------------------------------------------------
const machine = {
  node: process.version,
  platform: `${os.platform()} ${os.release()} ${os.arch()}`,
  cpu: os.cpus()[0]?.model ?? 'unknown',
  cores: os.availableParallelism?.() ?? os.cpus().length,
  memoryGb: Math.round(os.totalmem() / 2 ** 30),
  loadAverageAtStart: loadAtStart,
  loadAverageAtEnd: os.loadavg().map((n) => Number(n.toFixed(2))),
  threadPoolSize: Number(process.env.UV_THREADPOOL_SIZE ?? 4),
};
const fmt = (n, digits = 0) =>
  n === undefined || Number.isNaN(n)
    ? '–'
    : n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a, b) => (a && b ? `${(a / b).toFixed(2)}x` : '–');
const lines = [];
const out = (line = '') => lines.push(line);

out(
  `Machine: ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGb} GB, ${machine.platform}, Node ${machine.node}, load average ${machine.loadAverageAtStart.join(' ')} at start, ${machine.loadAverageAtEnd.join(' ')} at end`,
);
if (machine.loadAverageAtStart[0] > machine.cores) {
  out(
    `Warning: the load average exceeded the core count: other processes shared the CPUs, so the figures are noisy; rerun on an idle machine.`,
  );
}
out(
  `Settings: ${settings.ms} ms per measurement${quick ? ' (--quick)' : ''}, ${settings.distinct} distinct tokens`,
);
out();
const modes = [
  ['one-seq', 'one token, 1 in flight'],
  ['one-64', 'one token, 64 in flight'],
  ['distinct-seq', `${settings.distinct} tokens, 1 in flight`],
  ['distinct-64', `${settings.distinct} tokens, 64 in flight`],
];
if (Object.keys(results.target).length) {
  out(
    `### Target check: ours ÷ best raw node:crypto, same process, interleaved (median of ${settings.rounds} rounds of ${settings.sliceMs} ms slices; ${settings.distinct} distinct tokens)`,
  );
  out();
  out(
    '| alg | 1 in flight: ours ÷ raw sync | ours ops/s | raw sync ops/s | 64 in flight: ours ÷ best raw | ours ops/s | raw sync ops/s | raw pool ops/s |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const [alg, t] of Object.entries(results.target)) {
    out(
      `| ${alg} | ${t.seq.medianRatio.toFixed(2)}x | ${fmt(t.seq.ours)} | ${fmt(t.seq.rawSync)} | ${t['64'].medianRatio.toFixed(2)}x | ${fmt(t['64'].ours)} | ${fmt(t['64'].rawSync)} | ${fmt(t['64'].rawPool)} |`,
    );
  }
  out();
}
const summary = {};
for (const [alg, byContender] of Object.entries(results.throughput)) {
  out(`### Throughput, ${alg} (ops/s, × jose floor, p99 µs)`);
  out();
  out(`| contender | ${modes.map(([, title]) => title).join(' | ')} |`);
  out(`|---|${modes.map(() => '---:').join('|')}|`);
  for (const [name, result] of Object.entries(byContender)) {
    const cells = modes.map(([mode]) => {
      const r = result[mode];
      if (!r) return 'n/a';
      const floor = byContender['jose-floor']?.[mode]?.opsPerSecond;
      const fail = r.failures ? ` (${r.failures} failed)` : '';
      return `${fmt(r.opsPerSecond)} · ${ratio(r.opsPerSecond, floor)} · ${fmt(r.p99Us)}${fail}`;
    });
    out(`| ${name} | ${cells.join(' | ')} |`);
  }
  const ours = byContender.ours;
  if (ours && byContender['raw-sync'] && byContender['raw-pool']) {
    summary[alg] = {};
    for (const [mode] of modes) {
      const sync = byContender['raw-sync'][mode]?.opsPerSecond;
      const pool = byContender['raw-pool'][mode]?.opsPerSecond;
      const best = mode.endsWith('seq') ? sync : Math.max(sync, pool);
      const peers = Object.entries(byContender)
        .filter(([name]) => !name.startsWith('raw') && !name.startsWith('ours') && name !== 'jose-floor')
        .map(([, r]) => r[mode]?.opsPerSecond ?? 0);
      summary[alg][mode] = {
        vsBestRaw: ours[mode].opsPerSecond / best,
        vsFloor: ours[mode].opsPerSecond / byContender['jose-floor'][mode].opsPerSecond,
        aheadOfPeers: ours[mode].opsPerSecond > Math.max(...peers),
        cachedVsUncached: byContender['ours-cached']
          ? byContender['ours-cached'][mode].opsPerSecond / ours[mode].opsPerSecond
          : undefined,
      };
    }
    out();
    out(
      `ours ÷ best raw node:crypto (sync for 1 in flight; better of sync and pool for 64): ${modes.map(([mode, title]) => `${title} ${summary[alg][mode].vsBestRaw.toFixed(2)}x`).join(', ')}`,
    );
    if (byContender['ours-cached']) {
      out(
        `ours with verifiedTokens ÷ ours without: ${modes.map(([mode, title]) => `${title} ${summary[alg][mode].cachedVsUncached.toFixed(1)}x`).join(', ')}`,
      );
    }
  }
  out();
}
const requests = (r) => (r.requests ? `${r.requests.metadata} + ${r.requests.jwks}` : '–');
if (Object.keys(results.cold).length) {
  const floor = results.cold['jose-floor'];
  out(`### Cold start: ${settings.concurrent} concurrent first verifications (${eventAlg})`);
  out();
  out('| contender | time ms | × jose floor | verified | requests (metadata + JWKS) |');
  out('|---|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(results.cold)) {
    out(
      r.unsupported
        ? `| ${name} | n/a | | | |`
        : `| ${name} | ${fmt(r.ms, 1)} | ${ratio(r.ms, floor?.ms)} | ${r.ok} | ${requests(r)} |`,
    );
  }
  out();
}
if (Object.keys(results.flood).length) {
  out(
    `### Unknown-kid flood: ${settings.concurrent} tokens with invented kids on a warm verifier (${eventAlg})`,
  );
  out();
  out(
    '| contender | time ms | rejected | refusal latency p50 ms | refusal latency p99 ms | requests (metadata + JWKS) |',
  );
  out('|---|---:|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(results.flood)) {
    out(
      r.unsupported
        ? `| ${name} | n/a | | | | |`
        : `| ${name} | ${fmt(r.ms, 1)} | ${r.rejected} | ${fmt(r.refusalP50Ms, 2)} | ${fmt(r.refusalP99Ms, 2)} | ${requests(r)} |`,
    );
  }
  out();
}
if (Object.keys(results.rotation).length) {
  out(
    `### Rotation: a token signed with a just-published key (${eventAlg}; retried every ${settings.rotationRetryMs} ms, up to ${settings.rotationGiveUpMs} ms)`,
  );
  out();
  out('| contender | verified | attempts | ms | requests (metadata + JWKS) |');
  out('|---|---|---:|---:|---:|');
  for (const [name, r] of Object.entries(results.rotation)) {
    out(
      r.unsupported
        ? `| ${name} | n/a | | | |`
        : `| ${name} | ${r.verified ? 'yes' : 'no'} | ${r.attempts} | ${fmt(r.ms, 1)} | ${requests(r)} |`,
    );
  }
  out();
}
if (Object.keys(results.memory).length) {
  const floor = results.memory['jose-floor'];
  out(`### Memory after ${fmt(settings.memoryTokens)} distinct ES256 tokens (64 in flight)`);
  out();
  out('| contender | heap growth MB | × jose floor ops/s | ops/s | RSS MB |');
  out('|---|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(results.memory)) {
    out(
      r.unsupported
        ? `| ${name} | n/a | | | |`
        : `| ${name} | ${fmt(r.heapGrowthMb, 1)} | ${ratio(r.opsPerSecond, floor?.opsPerSecond)} | ${fmt(r.opsPerSecond)} | ${fmt(r.rssMb)} |`,
    );
  }
  out();
}
runtimeTables(results.runtime, { out, fmt, settings });
if (results.issuer) {
  const { ms, connections, results: answers } = results.issuer;
  out(
    `### Development issuer (oauth-jwt-verify issuer, ES256): ${connections} keep-alive connections, ${ms} ms each`,
  );
  out();
  out('| answer | per second | target | server CPU µs/answer |');
  out('|---|---:|---:|---:|');
  for (const [name, r] of Object.entries(answers)) {
    out(`| ${name} | ${fmt(r.perSecond)} | ${fmt(r.target)} | ${fmt(r.serverCpuUsPerAnswer)} |`);
  }
  out();
}
const seconds = (Date.now() - startedAt.getTime()) / 1000;
out(`Total ${seconds.toFixed(0)} s.`);
console.log(lines.join('\n'));

const dir = join(root, 'bench/results');
mkdirSync(dir, { recursive: true });
const report = {
  startedAt: startedAt.toISOString(),
  seconds,
  quick,
  settings,
  machine,
  contenders: Object.fromEntries(Object.entries(CONTENDERS).map(([name, c]) => [name, c.label])),
  results,
  summary,
  table: lines.join('\n'),
};
const file = join(dir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, JSON.stringify(report, null, 2));
writeFileSync(join(dir, 'latest.json'), JSON.stringify(report, null, 2));
console.log(`\nWrote ${file}`);

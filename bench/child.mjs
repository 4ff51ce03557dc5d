// One scenario for one contender, in its own process (forked by run.mjs). Talks to the
// parent, which runs the issuer, over the IPC channel; prints nothing, sends one result.
import { readFileSync } from 'node:fs';
import { CONTENDERS } from './contenders.mjs';

const job = JSON.parse(process.argv[2]);
let nextId = 0;
const pending = new Map();
process.on('message', (message) => {
  pending.get(message.id)?.(message.value);
  pending.delete(message.id);
});
/** Asks the parent (the issuer's process): counts, reset, token, rotate. */
function ask(op, args = {}) {
  const id = nextId++;
  return new Promise((resolve) => {
    pending.set(id, resolve);
    process.send({ id, op, ...args });
  });
}

const tokens = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

async function create() {
  const verify = await CONTENDERS[job.contender].create(job.context);
  if (!verify) return undefined;
  return verify;
}

/**
 * Runs `inFlight` loops calling verify on tokens for `ms`, after a warm-up; returns
 * operations per second and latency percentiles in microseconds.
 */
async function throughput(verify, list, inFlight, ms) {
  const run = async (durationMs, samples) => {
    let next = 0;
    let done = 0;
    let failures = 0;
    const end = performance.now() + durationMs;
    const loop = async () => {
      while (performance.now() < end) {
        const token = list[next++ % list.length];
        const start = performance.now();
        try {
          await verify(token);
        } catch {
          failures++;
        }
        if (samples && done < samples.length) samples[done] = performance.now() - start;
        done++;
      }
    };
    const started = performance.now();
    const cpu = process.cpuUsage();
    await Promise.all(Array.from({ length: inFlight }, loop));
    const used = process.cpuUsage(cpu);
    return { done, failures, seconds: (performance.now() - started) / 1000, cpuUs: used.user + used.system };
  };
  await run(Math.min(100, ms / 4));
  const samples = new Float64Array(1_000_000);
  const { done, failures, seconds, cpuUs } = await run(ms, samples);
  const sorted = samples.subarray(0, Math.min(done, samples.length)).sort();
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 1000;
  // CPU time per operation (all threads): steadier than wall time on a busy machine.
  return {
    opsPerSecond: done / seconds,
    p50Us: at(0.5),
    p99Us: at(0.99),
    cpuUsPerOp: cpuUs / done,
    failures,
  };
}

/** Verifies every token once: warms JIT, connections and whatever caches have room. */
async function seeAll(verify, list) {
  for (const token of list) {
    try {
      await verify(token);
    } catch {}
  }
}

/**
 * Verifies every token at once; the time until all have settled, and each rejection's
 * latency (from its own call to its refusal) as p50/p99 in milliseconds.
 */
async function settleAll(verify, list) {
  const started = performance.now();
  let ok = 0;
  const refusals = [];
  await Promise.all(
    list.map(async (token) => {
      const start = performance.now();
      try {
        await verify(token);
        ok++;
      } catch {
        refusals.push(performance.now() - start);
      }
    }),
  );
  const ms = performance.now() - started;
  refusals.sort((a, b) => a - b);
  const at = (q) => refusals[Math.min(refusals.length - 1, Math.floor(q * refusals.length))];
  return {
    ms,
    ok,
    rejected: refusals.length,
    refusalP50Ms: refusals.length ? at(0.5) : undefined,
    refusalP99Ms: refusals.length ? at(0.99) : undefined,
  };
}

const scenarios = {
  async throughput() {
    const verify = await create();
    if (!verify) return { unsupported: true };
    const distinct = tokens(job.tokensFile);
    await seeAll(verify, distinct);
    const results = {};
    for (const [mode, list, inFlight] of [
      ['one-seq', distinct.slice(0, 1), 1],
      ['one-64', distinct.slice(0, 1), 64],
      ['distinct-seq', distinct, 1],
      ['distinct-64', distinct, 64],
    ]) {
      results[mode] = await throughput(verify, list, inFlight, job.ms);
    }
    return results;
  },

  /**
   * Our verifier against raw node:crypto in the same process, in alternating short slices,
   * so that a machine whose load drifts affects all three alike; the median of the
   * per-round ratios is the figure.
   */
  async target() {
    const [ours, sync, pool] = await Promise.all(
      ['ours', 'raw-sync', 'raw-pool'].map((name) => CONTENDERS[name].create(job.context)),
    );
    const list = tokens(job.tokensFile);
    for (const verify of [ours, sync, pool]) await seeAll(verify, list);
    const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];
    const out = {};
    for (const inFlight of [1, 64]) {
      const rounds = [];
      for (let round = 0; round < job.rounds; round++) {
        const o = await throughput(ours, list, inFlight, job.sliceMs);
        const s = await throughput(sync, list, inFlight, job.sliceMs);
        const p = await throughput(pool, list, inFlight, job.sliceMs);
        const best = inFlight === 1 ? s.opsPerSecond : Math.max(s.opsPerSecond, p.opsPerSecond);
        rounds.push({
          ratio: o.opsPerSecond / best,
          ours: o.opsPerSecond,
          sync: s.opsPerSecond,
          pool: p.opsPerSecond,
        });
      }
      out[inFlight === 1 ? 'seq' : '64'] = {
        medianRatio: median(rounds.map((r) => r.ratio)),
        ours: median(rounds.map((r) => r.ours)),
        rawSync: median(rounds.map((r) => r.sync)),
        rawPool: median(rounds.map((r) => r.pool)),
        rounds: rounds.length,
      };
    }
    return out;
  },

  async cold() {
    const verify = await create();
    if (!verify) return { unsupported: true };
    await ask('reset');
    const outcome = await settleAll(verify, tokens(job.tokensFile));
    return { ...outcome, requests: await ask('counts') };
  },

  async flood() {
    const verify = await create();
    if (!verify) return { unsupported: true };
    await verify(await ask('token', { alg: job.context.alg }));
    await ask('reset');
    const outcome = await settleAll(verify, tokens(job.floodFile));
    return { ...outcome, requests: await ask('counts') };
  },

  async rotation() {
    const verify = await create();
    if (!verify) return { unsupported: true };
    await verify(await ask('token', { alg: job.context.alg }));
    const fresh = await ask('rotate', { alg: job.context.alg });
    await ask('reset');
    const started = performance.now();
    for (let attempt = 1; ; attempt++) {
      try {
        await verify(fresh);
        return {
          verified: true,
          attempts: attempt,
          ms: performance.now() - started,
          requests: await ask('counts'),
        };
      } catch {
        if (performance.now() - started > job.rotationGiveUpMs) {
          return {
            verified: false,
            attempts: attempt,
            ms: performance.now() - started,
            requests: await ask('counts'),
          };
        }
        await new Promise((resolve) => setTimeout(resolve, job.rotationRetryMs));
      }
    }
  },

  async memory() {
    const verify = await create();
    if (!verify) return { unsupported: true };
    const list = tokens(job.memoryFile);
    await verify(list[0]);
    globalThis.gc();
    const before = process.memoryUsage();
    let next = 0;
    let failures = 0;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: 64 }, async () => {
        while (next < list.length) {
          try {
            await verify(list[next++]);
          } catch {
            failures++;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    globalThis.gc();
    const after = process.memoryUsage();
    return {
      tokens: list.length,
      failures,
      opsPerSecond: list.length / seconds,
      heapGrowthMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
      rssMb: after.rss / 2 ** 20,
    };
  },
};

const result = await scenarios[job.scenario]();
process.send({ result });
process.disconnect();

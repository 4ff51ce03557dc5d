// One scenario for one contender, in its own process (forked by run.mjs). Talks to the
// parent, which runs the issuer, over the IPC channel; prints nothing, sends one result.
import { readFileSync } from 'node:fs';
import { CONTENDERS } from './contenders.mjs';
import { heapGrowth, median, seeAll, throughput } from './measure.mjs';

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

/** With the issuer's request counts reset: settleAll() over the tokens in `file`, and the requests it cost. */
async function settleCounted(verify, file) {
  await ask('reset');
  const outcome = await settleAll(verify, tokens(file));
  return { ...outcome, requests: await ask('counts') };
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
    return settleCounted(verify, job.tokensFile);
  },

  async flood() {
    const verify = await create();
    if (!verify) return { unsupported: true };
    await verify(await ask('token', { alg: job.context.alg }));
    return settleCounted(verify, job.floodFile);
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
    return heapGrowth(verify, list);
  },
};

const result = await scenarios[job.scenario]();
process.send({ result });
process.disconnect();

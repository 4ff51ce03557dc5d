// Measuring helpers shared by bench/child.mjs (forked Node children), bench/runtime-child.mjs
// (Node, Bun and Deno) and bench/browser-child.mjs: runtime-neutral (no Node built-ins, so it
// bundles for a browser), no IPC.
const process = globalThis.process;

/** The raw primitives: signature only, no parsing, no claims (bench/contenders.mjs). */
export const RAW_CONTENDERS = ['raw-webcrypto', 'raw-sync', 'raw-pool'];

/** The median of `values` (sorts them in place). */
export const median = (values) => values.sort((a, b) => a - b)[values.length >> 1];

/**
 * Runs `inFlight` loops calling verify on tokens for `ms`, after a warm-up; returns
 * operations per second and latency percentiles in microseconds.
 */
export async function throughput(verify, list, inFlight, ms) {
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
    const cpu = process?.cpuUsage?.();
    await Promise.all(Array.from({ length: inFlight }, loop));
    const used = cpu && process.cpuUsage(cpu);
    return {
      done,
      failures,
      seconds: (performance.now() - started) / 1000,
      cpuUs: used ? used.user + used.system : undefined,
    };
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
    cpuUsPerOp: cpuUs === undefined ? undefined : cpuUs / done,
    failures,
  };
}

/** Verifies every token once: warms JIT, connections and whatever caches have room. */
export async function seeAll(verify, list) {
  for (const token of list) {
    try {
      await verify(token);
    } catch {}
  }
}

/** A full garbage collection: Node with --expose-gc, Deno with --v8-flags=--expose-gc, Bun. */
export function collectGarbage() {
  if (globalThis.Bun) globalThis.Bun.gc(true);
  else if (typeof globalThis.gc === 'function') globalThis.gc();
  else
    throw new Error('no way to collect garbage: run Node with --expose-gc, Deno with --v8-flags=--expose-gc');
}

/** Heap in use (and RSS where known): process.memoryUsage, or Chromium's performance.memory. */
function memory() {
  if (process?.memoryUsage) return process.memoryUsage();
  return { heapUsed: performance.memory.usedJSHeapSize, rss: undefined };
}

/**
 * Verifies every token of `list` once, 64 in flight, and measures what stayed on the heap
 * (after a full collection before and after): what a verifier keeps per token.
 */
export async function heapGrowth(verify, list) {
  await verify(list[0]);
  collectGarbage();
  const before = memory();
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
  collectGarbage();
  const after = memory();
  return {
    tokens: list.length,
    failures,
    opsPerSecond: list.length / seconds,
    heapGrowthMb: (after.heapUsed - before.heapUsed) / 2 ** 20,
    rssMb: after.rss === undefined ? undefined : after.rss / 2 ** 20,
  };
}

/** `{ name: verify }` for the contenders this runtime can run; the reasons for the others. */
export async function createAll(contenders, names, context) {
  const verifiers = {};
  const missing = {};
  for (const name of names) {
    try {
      const verify = await contenders[name].create(context);
      if (verify) verifiers[name] = verify;
      else missing[name] = 'does not support the algorithm';
    } catch (error) {
      missing[name] = String(error?.message ?? error);
    }
  }
  return { verifiers, missing };
}

/**
 * Ours, jose and the raw primitives in one process, `inFlight` at a time, in alternating
 * slices (each round starts with another contender), so that load drifting on the machine
 * touches all alike; ratios are taken per round, and the medians are the figures.
 */
export async function compareAt(verifiers, list, { inFlight, rounds: count, sliceMs }) {
  const names = Object.keys(verifiers);
  const rounds = [];
  const failures = Object.fromEntries(names.map((name) => [name, 0]));
  for (let round = 0; round < count; round++) {
    const ops = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      const measured = await throughput(verifiers[name], list, inFlight, sliceMs);
      ops[name] = measured.opsPerSecond;
      failures[name] += measured.failures;
    }
    const raw = RAW_CONTENDERS.filter((name) => ops[name] !== undefined);
    const fastestRaw = raw.reduce((best, name) => (ops[name] > ops[best] ? name : best), raw[0]);
    rounds.push({
      ops,
      fastestRaw,
      vsFastestRaw: ops.ours / ops[fastestRaw],
      vsJose: ops.ours / ops['jose-floor'],
    });
  }
  const opsPerSecond = Object.fromEntries(
    names.map((name) => [name, median(rounds.map((r) => r.ops[name]))]),
  );
  const raw = RAW_CONTENDERS.filter((name) => opsPerSecond[name] !== undefined);
  return {
    opsPerSecond,
    // The raw primitive with the highest median, and ours ÷ each round's fastest, as a median.
    fastestRaw: raw.reduce((best, name) => (opsPerSecond[name] > opsPerSecond[best] ? name : best), raw[0]),
    vsFastestRaw: median(rounds.map((r) => r.vsFastestRaw)),
    vsJose: median(rounds.map((r) => r.vsJose)),
    rounds: rounds.length,
    // Every token verifies: a contender that failed any was not measuring verification.
    failures,
  };
}

/**
 * Creates the contenders named (`contenders`: name → { create }), verifies every token once
 * with each, then compares them at each count in `inFlight` (compareAt).
 */
export async function compareContenders(contenders, names, context, { list, inFlight, rounds, sliceMs }) {
  const { verifiers, missing } = await createAll(contenders, names, context);
  for (const required of ['ours', 'jose-floor']) {
    if (!verifiers[required]) throw new Error(`${required} could not run: ${missing[required]}`);
  }
  for (const verify of Object.values(verifiers)) await seeAll(verify, list);
  const modes = {};
  for (const count of inFlight)
    modes[count] = await compareAt(verifiers, list, { inFlight: count, rounds, sliceMs });
  return { missing, modes };
}

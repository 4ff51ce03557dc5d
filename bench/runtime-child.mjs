// One job of the per-runtime bench (`npm run bench -- --runtime node|bun|deno`), run by that
// runtime's binary: `<runtime> bench/runtime-child.mjs <job.json>`. No IPC (runtimes differ
// in it): the job comes as a file, the result goes to stdout as one `BENCH_RESULT {json}` line.
//
//   compare: ours, jose and the runtime's raw primitives in one process, in alternating
//            slices, 1 and 64 in flight; ratios per round, medians over the rounds
//   memory:  one contender, heap kept after verifying the memory tokens once (64 in flight)
import { readFileSync } from 'node:fs';
import process from 'node:process';
import { CONTENDERS, PATH_CONTENDERS } from './contenders.mjs';
import { compareContenders, createAll, heapGrowth } from './measure.mjs';

const runtime = globalThis.Bun
  ? `bun ${globalThis.Bun.version}`
  : globalThis.Deno
    ? `deno ${globalThis.Deno.version.deno}`
    : `node ${process.version}`;
const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const tokens = (file) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
// The signature module the package's `#signature` import gives this runtime (the bench's
// copy of the package has the same package.json as this repository).
const signaturePath = import.meta.resolve('#signature').split('/').at(-1);
// Node and Bun against jose's path; Deno's mix against jose's path too (what it had before).
const otherPath = signaturePath === 'signature-web.js' ? 'ours-node-path' : 'ours-web-path';

const scenarios = {
  async compare() {
    // Of the forced-path copies, only the one this runtime does not get by default.
    const names = job.contenders.filter((name) => !PATH_CONTENDERS[name] || name === otherPath);
    const compared = await compareContenders({ ...CONTENDERS, ...PATH_CONTENDERS }, names, job.context, {
      list: tokens(job.tokensFile),
      inFlight: job.inFlight,
      rounds: job.rounds,
      sliceMs: job.sliceMs,
    });
    return { signaturePath, ...compared };
  },

  async memory() {
    const { verifiers, missing } = await createAll(CONTENDERS, [job.contender], job.context);
    const verify = verifiers[job.contender];
    if (!verify) return { unsupported: missing[job.contender] };
    return heapGrowth(verify, tokens(job.memoryFile));
  },
};

let result;
try {
  result = { ok: true, runtime, ...(await scenarios[job.scenario]()) };
} catch (error) {
  result = { ok: false, runtime, error: String(error?.stack ?? error) };
}
console.log(`BENCH_RESULT ${JSON.stringify(result)}`);

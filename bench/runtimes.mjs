// The per-runtime bench: `npm run bench -- --runtime node|bun|deno|chromium` (several:
// --runtime=node,bun). run.mjs (on Node) runs the issuer and signs the tokens; each job runs
// in a process of the runtime under test (bench/runtime-child.mjs; in Chromium, a page:
// bench/chromium.mjs), which measures ours, jose and that runtime's raw primitives side by
// side. Binaries: NODE_BIN (default: this Node), BUN_BIN, DENO_BIN, CHROMIUM_PATH, as
// smoke/run.mjs takes them. See docs/performance.md, "Per runtime".
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const childScript = fileURLToPath(new URL('runtime-child.mjs', import.meta.url));
const repositoryModules = fileURLToPath(new URL('../node_modules', import.meta.url));
const JOB_TIMEOUT_MS = 10 * 60_000;

/** Measured side by side in each runtime: ours, the floor every peer builds on, the raw primitives. */
export const RUNTIME_CONTENDERS = ['ours', 'jose-floor', 'raw-webcrypto', 'raw-sync', 'raw-pool'];
// Ours through the path the runtime does not get by default (the child keeps one of the two).
const OTHER_PATHS = ['ours-node-path', 'ours-web-path'];
/** The warm path, the verified-token cache, and jose for scale. */
const MEMORY_CONTENDERS = ['ours', 'ours-cached', 'jose-floor'];
export const RUNTIME_ALGORITHMS = ['RS256', 'ES256', 'EdDSA', ...(signsMlDsa() ? ['ML-DSA-65'] : [])];
const IN_FLIGHT = [1, 64];

/**
 * Whether this Node (which runs the issuer and signs the tokens) has ML-DSA: Node.js 24.7+.
 * The ML-DSA-65 row is measured then; a runtime under test without it shows n/a cells.
 */
function signsMlDsa() {
  try {
    generateKeyPairSync('ml-dsa-65');
    return true;
  } catch {
    return false;
  }
}
// The issue 22 targets: at least this share of the fastest raw primitive, never behind jose.
const TARGET_VS_RAW = 0.9;
const TARGET_VS_JOSE = 1;

const RUNTIMES = {
  node: () => [process.env.NODE_BIN || process.execPath, ['--expose-gc']],
  bun: () => [process.env.BUN_BIN, []], // Bun.gc needs no flag
  deno: () => [
    process.env.DENO_BIN,
    [
      'run',
      '--quiet',
      '--no-prompt',
      // Resolve jose and the package from node_modules, never from a registry.
      '--node-modules-dir=manual',
      '--allow-read',
      '--allow-env',
      '--allow-sys',
      '--allow-net=127.0.0.1',
      '--v8-flags=--expose-gc',
    ],
  ],
  chromium: null, // not a command: a page in headless Chromium (bench/chromium.mjs)
};

/** The runtimes asked for (`--runtime bun`, `--runtime=node,deno`); undefined without the flag. */
export function runtimeList(args) {
  const index = args.findIndex((arg) => arg === '--runtime' || arg.startsWith('--runtime='));
  if (index === -1) return undefined;
  const value = args[index].includes('=') ? args[index].split('=')[1] : args[index + 1];
  const list = (value ?? '').split(',').filter(Boolean);
  const unknown = list.filter((name) => !Object.hasOwn(RUNTIMES, name));
  if (list.length === 0 || unknown.length > 0) {
    throw new Error(
      `--runtime takes ${Object.keys(RUNTIMES).join(', ')} (comma-separated for several), got ${value}`,
    );
  }
  return list;
}

/**
 * Copies of the bench's package (BENCH_PACKAGE_DIR) whose `#signature` maps to one path under
 * every condition, for PATH_CONTENDERS (bench/contenders.mjs); their folders go to the children
 * as BENCH_PACKAGE_NODE_PATH and BENCH_PACKAGE_WEB_PATH. They live outside the repository,
 * with a link to its node_modules: inside it, Deno resolved the copies' `#signature` through
 * the repository's own package.json, so "ours through the other path" measured ours again.
 */
function forcedPathCopies() {
  const base = process.env.BENCH_PACKAGE_DIR;
  for (const [variable, path] of [
    ['BENCH_PACKAGE_NODE_PATH', 'signature-node'],
    ['BENCH_PACKAGE_WEB_PATH', 'signature-web'],
  ]) {
    const dir = mkdtempSync(join(tmpdir(), `oauth-jwt-verify-bench-${path}-`));
    cpSync(base, dir, { recursive: true });
    symlinkSync(repositoryModules, join(dir, 'node_modules'), 'dir');
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    manifest.imports['#signature'] = `./dist/${path}.js`;
    writeFileSync(join(dir, 'package.json'), JSON.stringify(manifest, null, 2));
    process.env[variable] = dir;
  }
}

async function runJob(runtime, job, work) {
  if (runtime === 'chromium') {
    const { runInChromium } = await import('./chromium.mjs');
    const result = await runInChromium(job, JOB_TIMEOUT_MS);
    if (!result.ok) throw new Error(`chromium (${result.runtime}): ${result.error}`);
    return result;
  }
  const [bin, flags] = RUNTIMES[runtime]();
  if (!bin) throw new Error(`set ${runtime.toUpperCase()}_BIN to the ${runtime} binary`);
  const jobFile = join(work, `job-${runtime}-${job.scenario}-${job.contender ?? job.context.alg}.json`);
  writeFileSync(jobFile, JSON.stringify(job));
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      [...flags, childScript, jobFile],
      { timeout: JOB_TIMEOUT_MS, maxBuffer: 16 * 2 ** 20, env: { ...process.env, NO_COLOR: '1' } },
      (error, stdout, stderr) => {
        const line = stdout.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
        if (!line) {
          return reject(new Error(`${runtime} gave no result (${error?.message ?? 'no error'}):\n${stderr}`));
        }
        const result = JSON.parse(line.slice('BENCH_RESULT '.length));
        if (!result.ok) return reject(new Error(`${runtime} (${result.runtime}): ${result.error}`));
        resolve(result);
      },
    );
  });
}

/**
 * Runs the comparison for every algorithm and the memory jobs in every runtime asked for.
 * `distinctTokens(alg)` and `memoryFile()` give files of tokens (signed once, by run.mjs).
 */
export async function benchRuntimes({
  runtimes,
  algorithms,
  settings,
  context,
  distinctTokens,
  memoryFile,
  work,
  log,
}) {
  forcedPathCopies();
  const results = {};
  for (const runtime of runtimes) {
    const entry = (results[runtime] = { compare: {}, memory: {} });
    for (const alg of algorithms) {
      log(`${runtime}: ${alg}, ${RUNTIME_CONTENDERS.join(', ')} interleaved`);
      const result = await runJob(
        runtime,
        {
          scenario: 'compare',
          contenders: [...RUNTIME_CONTENDERS, ...OTHER_PATHS],
          context: context(alg),
          tokensFile: await distinctTokens(alg),
          inFlight: IN_FLIGHT,
          rounds: settings.rounds,
          sliceMs: settings.sliceMs,
        },
        work,
      );
      entry.runtime = result.runtime;
      entry.signaturePath = result.signaturePath;
      entry.compare[alg] = { missing: result.missing, modes: result.modes };
    }
    for (const contender of MEMORY_CONTENDERS) {
      log(`${runtime}: memory ${contender}`);
      const {
        ok,
        runtime: version,
        ...result
      } = await runJob(
        runtime,
        { scenario: 'memory', contender, context: context('ES256'), memoryFile: await memoryFile() },
        work,
      );
      entry.runtime = version;
      entry.memory[contender] = result;
    }
  }
  for (const variable of ['BENCH_PACKAGE_NODE_PATH', 'BENCH_PACKAGE_WEB_PATH'])
    rmSync(process.env[variable], { recursive: true, force: true });
  return results;
}

/** "met", or by how much a ratio falls short of its target. */
const verdict = (ratio, target) =>
  ratio >= target ? 'met' : `short by ${(((target - ratio) / target) * 100).toFixed(0)} %`;

/** Appends the per-runtime tables to the report (`out` takes one line). */
export function runtimeTables(results, { out, fmt, settings }) {
  if (!results || Object.keys(results).length === 0) return;
  const cell = (mode, name) => {
    const ops = mode.opsPerSecond[name];
    if (ops === undefined) return 'n/a';
    return mode.failures[name] ? `${fmt(ops)} (${mode.failures[name]} failed)` : fmt(ops);
  };
  out(
    `### Per runtime: ours ÷ fastest raw primitive and ÷ jose, same process, interleaved (median of ${settings.rounds} rounds of ${settings.sliceMs} ms slices; ${settings.distinct} distinct tokens)`,
  );
  out();
  out(
    `| runtime (ours' path) | alg | in flight | ours ops/s | jose ops/s | Web Crypto ops/s | node:crypto sync ops/s | node:crypto callback ops/s | fastest raw | ours ÷ fastest raw (target ${TARGET_VS_RAW}) | ours ÷ jose (target ${TARGET_VS_JOSE}) | ours through the other path |`,
  );
  out('|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|');
  for (const [runtime, { runtime: version, signaturePath, compare }] of Object.entries(results)) {
    for (const [alg, { modes }] of Object.entries(compare)) {
      for (const [inFlight, mode] of Object.entries(modes)) {
        const other = OTHER_PATHS.find((name) => mode.opsPerSecond[name] !== undefined);
        const otherCell = other
          ? `${other.slice('ours-'.length)}: ${cell(mode, other)} (${(mode.opsPerSecond[other] / mode.opsPerSecond.ours).toFixed(2)}x ours)`
          : 'n/a';
        out(
          `| ${version ?? runtime} (${signaturePath}) | ${alg} | ${inFlight} | ${RUNTIME_CONTENDERS.map((name) => cell(mode, name)).join(' | ')} | ${mode.fastestRaw} | ${mode.vsFastestRaw.toFixed(2)}x, ${verdict(mode.vsFastestRaw, TARGET_VS_RAW)} | ${mode.vsJose.toFixed(2)}x, ${verdict(mode.vsJose, TARGET_VS_JOSE)} | ${otherCell} |`,
        );
      }
    }
  }
  out();
  // Not scaled to a count: what the verified-token cache keeps is bounded, not proportional.
  out(
    `### Per runtime: heap kept after ${fmt(settings.memoryTokens)} distinct ES256 tokens (100,000 in the full run; 64 in flight, after a full collection)`,
  );
  out();
  out('| runtime | contender | heap growth MB | ops/s | RSS MB |');
  out('|---|---|---:|---:|---:|');
  for (const [runtime, { runtime: version, memory }] of Object.entries(results)) {
    for (const [name, r] of Object.entries(memory)) {
      out(
        r.unsupported
          ? `| ${version ?? runtime} | ${name} | n/a | | |`
          : `| ${version ?? runtime} | ${name} | ${fmt(r.heapGrowthMb, 1)} | ${fmt(r.opsPerSecond)} | ${fmt(r.rssMb)} |`,
      );
    }
  }
  out();
}

// Entry for the command-line runtimes (Node, Deno, Bun): the config comes as one JSON
// argument, the result goes to stdout as one line `SMOKE_RESULT {json}`.
import { smoke } from './smoke.mjs';

const args = globalThis.Deno ? globalThis.Deno.args : globalThis.process.argv.slice(2);
const runtime = globalThis.Deno
  ? `deno ${globalThis.Deno.version.deno}`
  : globalThis.Bun
    ? `bun ${globalThis.Bun.version}`
    : `node ${globalThis.process.version}`;
try {
  const result = await smoke(JSON.parse(args[0]));
  console.log(`SMOKE_RESULT ${JSON.stringify({ ok: true, runtime, ...result })}`);
} catch (error) {
  console.log(`SMOKE_RESULT ${JSON.stringify({ ok: false, runtime, error: String(error?.stack ?? error) })}`);
}

// The CLI's dispatcher: picks the command, parses its flags, maps outcomes to exit codes.
import { errorReason } from '../errors.js';
import { readFileSync } from 'node:fs';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { COMMON_OPTIONS, type Command, type CommandContext, type OptionValues } from './command.js';
import { decodeCommand } from './decode.js';
import { demoCommand } from './demo.js';
import { discoverCommand } from './discover.js';
import { errorJson, isInvalidArgument } from './errors.js';
import { type CliIo, EXIT, type ExitCode, UsageError } from './io.js';
import { colorsWanted, createStyle } from './style.js';
import { issuerCommand } from './issuer.js';
import { verifyCommand } from './verify.js';

const COMMANDS: readonly Command[] = [
  demoCommand,
  discoverCommand,
  verifyCommand,
  decodeCommand,
  issuerCommand,
];

function generalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: oauth-jwt-verify <command> [options]

Verify JWTs from an OAuth 2.0 / OpenID Connect issuer, and see why one is rejected.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}

Run oauth-jwt-verify <command> --help for a command's options and examples.
Every command takes --json (one JSON document on stdout) and --no-color.

Exit status: 0 ok, 1 rejected, 2 usage error or the issuer could not be reached.`;
}

function createContext(io: CliIo, json: boolean, noColor: boolean): CommandContext {
  return {
    io,
    json,
    style: createStyle(colorsWanted(io.stdout, io.env, noColor)),
    errorStyle: createStyle(colorsWanted(io.stderr, io.env, noColor)),
    out: (line = '') => void io.stdout.write(`${line}\n`),
    err: (line = '') => void io.stderr.write(`${line}\n`),
    emitJson: (value) => void io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
  };
}

/** The package's version, read from the package.json next to the build (or the sources). */
function version(): string {
  for (const path of ['../../package.json', '../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'oauth-jwt-verify' && pkg.version) return pkg.version;
    } catch {
      // Not there: try the next candidate.
    }
  }
  return 'unknown';
}

/**
 * Runs the CLI on `argv` (without `node` and the script) and resolves to the exit status:
 * 0 ok, 1 rejected, 2 usage error or network/issuer failure.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  const [first, ...rest] = argv;
  const json = argv.includes('--json');
  const noColor = argv.includes('--no-color');
  const ctx = createContext(io, json, noColor);
  const usageError = (message: string, command?: Command): ExitCode => {
    if (json) ctx.emitJson({ ok: false, error: { code: 'ERR_USAGE', message } });
    else {
      ctx.err(`${ctx.errorStyle.red('error')}: ${message}`);
      ctx.err(`Run oauth-jwt-verify ${command ? `${command.name} ` : ''}--help for usage.`);
    }
    return EXIT.usage;
  };

  if (first === undefined) {
    ctx.err(generalHelp());
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h') {
    ctx.out(generalHelp());
    return EXIT.ok;
  }
  if (first === '--version' || first === '-v') {
    ctx.out(version());
    return EXIT.ok;
  }
  if (first === 'help') {
    const topic = rest.find((arg) => !arg.startsWith('-'));
    const command = COMMANDS.find((c) => c.name === topic);
    if (topic !== undefined && !command) return usageError(`unknown command ${JSON.stringify(topic)}`);
    ctx.out(command ? command.help : generalHelp());
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (!command) {
    return usageError(
      first.startsWith('-')
        ? `expected a command before ${JSON.stringify(first)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`
        : `unknown command ${JSON.stringify(first)}; commands: ${COMMANDS.map((c) => c.name).join(', ')}`,
    );
  }

  let values: OptionValues;
  let positionals: string[];
  try {
    const config: ParseArgsConfig = {
      args: [...rest],
      options: { ...COMMON_OPTIONS, ...command.options },
      allowPositionals: true,
      strict: true,
    };
    ({ values, positionals } = parseArgs(config) as { values: OptionValues; positionals: string[] });
  } catch (error) {
    return usageError(errorReason(error), command);
  }
  if (values.help === true) {
    ctx.out(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run(ctx, values, positionals);
  } catch (error) {
    if (error instanceof UsageError || isInvalidArgument(error)) return usageError(error.message, command);
    const { code, message } = errorJson(error);
    if (json) ctx.emitJson({ ok: false, error: { code, message } });
    else ctx.err(`${ctx.errorStyle.red('internal error')} ${code}: ${message}`);
    return EXIT.usage;
  }
}

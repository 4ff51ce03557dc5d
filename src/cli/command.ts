// The shape of a CLI command: its name, summary, flags (node:util parseArgs) and run function.
import type { ParseArgsConfig } from 'node:util';
import { type CliIo, type ExitCode, UsageError } from './io.js';
import type { Style } from './style.js';

export type OptionsConfig = NonNullable<ParseArgsConfig['options']>;
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

/** What a command gets to run with. */
export interface CommandContext {
  readonly io: CliIo;
  /** `--json`: exactly one JSON document on stdout, nothing else there. */
  readonly json: boolean;
  /** Styling for stdout and for stderr (each is coloured only when it is a terminal). */
  readonly style: Style;
  readonly errorStyle: Style;
  out(line?: string): void;
  err(line?: string): void;
  emitJson(value: unknown): void;
}

/** One subcommand of the CLI. */
export interface Command {
  readonly name: string;
  /** One line, for the general help. */
  readonly summary: string;
  /** The command's `--help` text. */
  readonly help: string;
  /** Its own options; `--json`, `--no-color` and `--help` are added to every command. */
  readonly options: OptionsConfig;
  run(ctx: CommandContext, values: OptionValues, positionals: string[]): Promise<ExitCode>;
}

/** Options every command takes. */
export const COMMON_OPTIONS: OptionsConfig = {
  json: { type: 'boolean' },
  'no-color': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const COMMON_HELP = `  --json             machine-readable output: one JSON document on stdout
  --no-color         no colours (also: NO_COLOR=1); colours appear only on a terminal
  -h, --help         this help`;

export function stringValue(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(values: OptionValues, name: string): string {
  const value = stringValue(values, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

export function stringList(values: OptionValues, name: string): string[] {
  const value = values[name];
  const list = Array.isArray(value) ? value : value === undefined ? [] : [value];
  return list.filter((item): item is string => typeof item === 'string');
}

/** A non-negative number of the given option, or `undefined` when it is not given. */
export function numberValue(values: OptionValues, name: string): number | undefined {
  const text = stringValue(values, name);
  if (text === undefined) return undefined;
  const number = Number(text);
  if (text.trim() === '' || !Number.isFinite(number) || number < 0) {
    throw new UsageError(`--${name} must be a non-negative number, got ${JSON.stringify(text)}`);
  }
  return number;
}

export function discoveryValue(values: OptionValues): 'auto' | 'oauth' | 'oidc' | undefined {
  const mode = stringValue(values, 'discovery');
  if (mode === undefined || mode === 'auto' || mode === 'oauth' || mode === 'oidc') return mode;
  throw new UsageError(`--discovery must be auto, oauth or oidc, got ${JSON.stringify(mode)}`);
}

/** Exactly one positional argument, named `name` in the message when missing. */
export function onePositional(positionals: string[], name: string): string {
  if (positionals.length === 0) throw new UsageError(`missing <${name}>`);
  if (positionals.length > 1) {
    throw new UsageError(`expected one <${name}>, got ${positionals.length} arguments`);
  }
  return positionals[0]!;
}

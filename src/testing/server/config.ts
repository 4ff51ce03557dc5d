// Checks startIssuerServer's configuration before anything starts, naming the field at fault.
import { invalidArgument } from '../../errors.js';
import { resolveOptions } from '../options.js';
import type { TestIssuerOptions } from '../types.js';
import type { IssuerConfig, IssuerServerConfig } from './types.js';

/**
 * Every `createTestIssuer` option, and whether a server configuration may set it (`true`) or
 * why not. Typed over all of `TestIssuerOptions`, so a new option cannot be forgotten here.
 */
const ISSUER_FIELDS: Record<keyof TestIssuerOptions, true | string> = {
  issuer: 'the server sets it: its URL (or publicUrl, --public-url) and the issuer id',
  audience: true,
  algorithms: true,
  discovery: true,
  profile: true,
  listen: 'the server listens itself (port and host options, --port and --host)',
  tokenTtlSeconds: true,
  subject: true,
  clients: true,
  users: true,
  requestMappings: true,
  interactiveLogin: true,
  now: 'the server uses the system clock',
  accessTokenFormat: true,
  requireDpopNonce: true,
  encryptAccessTokens: true,
  keys: 'the server keeps keys in keysFile (--keys)',
};
const SERVER_FIELDS = ['issuers', 'admin'];

/** An issuer id: safe as a URL path segment and not a path the server itself uses. */
const ID = /^[A-Za-z0-9][A-Za-z0-9._~-]{0,63}$/;
const RESERVED_IDS = ['health'];

/** The id of the one issuer of a configuration without `issuers`. */
export const DEFAULT_ID = 'default';

/** A checked configuration: each issuer's options, by id, in the configuration's order. */
export interface CheckedConfig {
  /** `true` when served at the root (no `issuers`). */
  root: boolean;
  admin: boolean;
  issuers: Map<string, TestIssuerOptions>;
}

function fail(message: string): never {
  throw invalidArgument(`config: ${message}`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `createTestIssuer`'s message for `options`, its field prefixed with `path` (`issuers.a.algorithms …`). */
function checkIssuerOptions(options: TestIssuerOptions, path: string): void {
  try {
    resolveOptions(options);
  } catch (error) {
    const reason = (error as Error).message.replace(/^createTestIssuer: /, '');
    if (!path) fail(reason);
    const field = /^[A-Za-z]+/.exec(reason)?.[0] ?? '';
    const named = Object.hasOwn(ISSUER_FIELDS, field) && /^[A-Za-z]+[[. ]/.test(reason);
    fail(named ? `${path}.${reason}` : `${path}: ${reason}`);
  }
}

function checkFields(value: Record<string, unknown>, path: string, extra: readonly string[]): void {
  for (const [name, member] of Object.entries(value)) {
    if (member === undefined) continue;
    const where = path ? `${path}.${name}` : name;
    const allowed = (ISSUER_FIELDS as Record<string, true | string>)[name];
    if (allowed === true || extra.includes(name)) continue;
    if (typeof allowed === 'string') fail(`${where} cannot be set here: ${allowed}`);
    fail(`${where} is not a known field`);
  }
}

function issuerOptions(config: IssuerConfig): TestIssuerOptions {
  return { interactiveLogin: true, ...config };
}

/**
 * Checks a server configuration: known fields only, valid issuer ids, and every issuer's
 * options as `createTestIssuer` checks them. Throws a `TypeError` (`ERR_INVALID_ARGUMENT`)
 * whose message starts with `config: ` and names the field.
 */
export function checkConfig(value: unknown): CheckedConfig {
  const config = value ?? {};
  if (!isRecord(config)) fail('must be a JSON object');
  checkFields(config, '', SERVER_FIELDS);
  if (config.admin !== undefined && typeof config.admin !== 'boolean') fail('admin must be a boolean');
  const { issuers, admin, ...defaults } = config as IssuerServerConfig;
  checkIssuerOptions(issuerOptions(defaults), '');
  const checked: CheckedConfig = { root: issuers === undefined, admin: admin ?? false, issuers: new Map() };
  if (issuers === undefined) {
    checked.issuers.set(DEFAULT_ID, issuerOptions(defaults));
    return checked;
  }
  if (!isRecord(issuers)) fail('issuers must be an object of { [id]: issuer options }');
  if (Object.keys(issuers).length === 0) fail('issuers must name at least one issuer');
  for (const [id, own] of Object.entries(issuers)) {
    const path = `issuers.${id}`;
    if (!ID.test(id) || RESERVED_IDS.includes(id)) {
      fail(
        `${path}: the id ${JSON.stringify(id)} cannot be a path segment here: use letters, digits, ` +
          `'-', '.', '_' or '~', starting with a letter or digit, at most 64, and not ${RESERVED_IDS.join(', ')}`,
      );
    }
    if (!isRecord(own)) fail(`${path} must be an object of issuer options`);
    checkFields(own, path, []);
    const options = issuerOptions({ ...defaults, ...own });
    checkIssuerOptions(options, path);
    checked.issuers.set(id, options);
  }
  return checked;
}

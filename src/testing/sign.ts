// Signing tokens as the stub issuer: claims filled in, then the JWS.
import type { CryptoKey } from 'jose';
import { invalidArgument } from '../errors.js';
import { algorithmOf, signCompact } from './jws.js';
import type { TokenEncrypter } from './encrypt.js';
import type { KeyRing } from './keys.js';
import { ALGORITHMS } from './options.js';
import { randomToken } from './random.js';
import type { SignOptions } from './types.js';

/** What signing needs from the issuer. */
export interface SignContext {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly tokenTtlSeconds: number;
  /** Milliseconds since the epoch. */
  now(): number;
  readonly keys: KeyRing;
  /** Encrypts signed access tokens (`encryptAccessTokens`); none: they go out signed only. */
  readonly encrypt?: TokenEncrypter | undefined;
}

function fail(message: string): never {
  throw invalidArgument(`sign: ${message}`);
}

/** Drops the members whose value is `undefined` (how callers remove a default). */
function withoutUndefined(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined));
}

async function chooseKey(
  keys: KeyRing,
  options: SignOptions,
): Promise<{ key: CryptoKey; alg: string; kid?: string }> {
  const { alg, kid } = options;
  if (kid !== undefined && (options.key || options.unpublishedKey)) {
    fail('kid picks a published key; to put a kid on another key, use header: { kid }');
  }
  if (options.key) return { key: options.key, alg: alg ?? algorithmOf(options.key) };
  if (alg !== undefined && !(ALGORITHMS as readonly string[]).includes(alg)) {
    fail(`alg must be one of ${ALGORITHMS.join(', ')} (or pass key), got ${alg}`);
  }
  const pair = options.unpublishedKey
    ? await keys.unpublished(alg)
    : kid !== undefined
      ? keys.find(kid)
      : keys.signing(alg);
  if (alg !== undefined && pair.alg !== alg) fail(`the key ${pair.kid} is ${pair.alg}, not ${alg}`);
  return { key: pair.privateKey, alg: pair.alg, kid: pair.kid };
}

/**
 * The claims of a token: `iss`, `aud`, `iat`, `exp` and `jti` filled in (`nbf` with
 * `notBefore`), then the caller's claims over them, `undefined` ones left out, and
 * `cnf.jkt` with `dpopJkt`.
 */
export function tokenClaims(
  ctx: SignContext,
  claims: Record<string, unknown> = {},
  options: Pick<SignOptions, 'expiresIn' | 'notBefore' | 'dpopJkt'> = {},
): Record<string, unknown> {
  for (const name of ['expiresIn', 'notBefore'] as const) {
    const value = options[name];
    if (value !== undefined && !Number.isFinite(value)) {
      fail(`${name} must be a number of seconds, got ${String(value)}`);
    }
  }
  if (options.dpopJkt !== undefined && (typeof options.dpopJkt !== 'string' || options.dpopJkt === '')) {
    fail('dpopJkt must be a key thumbprint string (see dpopThumbprint)');
  }
  const now = Math.floor(ctx.now() / 1000);
  return withoutUndefined({
    iss: ctx.issuer,
    aud: ctx.audience,
    iat: now,
    exp: now + (options.expiresIn ?? ctx.tokenTtlSeconds),
    jti: randomToken(16),
    ...(options.notBefore === undefined ? {} : { nbf: now + options.notBefore }),
    ...claims,
    ...(options.dpopJkt === undefined ? {} : { cnf: { ...(claims.cnf as object), jkt: options.dpopJkt } }),
  });
}

/**
 * Signs a JWT with {@link tokenClaims}; header `{ alg, typ: 'JWT', kid }` with
 * `options.header` over it; then, when the issuer encrypts access tokens and
 * `options.encrypt` is not `false`, encrypts it.
 */
export async function signToken(
  ctx: SignContext,
  claims: Record<string, unknown> = {},
  options: SignOptions = {},
): Promise<string> {
  const payload = tokenClaims(ctx, claims, options);
  const { key, alg, kid } = await chooseKey(ctx.keys, options);
  const header = withoutUndefined({ alg, typ: 'JWT', kid, ...options.header });
  const signed = await signCompact(header, payload, key);
  return ctx.encrypt !== undefined && options.encrypt !== false ? ctx.encrypt(signed) : signed;
}

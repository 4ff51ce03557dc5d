// `discover`: an issuer's metadata and JWKS as a verifier would find them.
import {
  discoverMetadata,
  discoveryUrls,
  parseDiscoveryMode,
  parseIssuerOption,
} from '../issuer/discovery.js';
import { JwtVerifyError, isJwtVerifyError } from '../errors.js';
import { type ResolvedHttpOptions, requestJson } from '../issuer/http.js';
import { resolveHttpOptions } from '../issuer/verifier-http.js';
import { type PublicJwk, type SkippedKey, readJwks, rsaModulusBits } from '../token/jwk.js';
import { COMMON_HELP, type Command, discoveryValue, numberValue, onePositional } from './command.js';
import { errorJson, exitCodeFor, isInvalidArgument } from './errors.js';
import { table } from './format.js';
import { EXIT, UsageError } from './io.js';
import { kindName } from './verify.js';

/** One JWKS key as `discover` summarises it. */
export interface KeySummary {
  kid: string | null;
  kty: string;
  alg: string | null;
  use: string | null;
  crv: string | null;
  /** RSA modulus or curve size in bits. */
  bits: number | null;
}

const CURVE_BITS: Record<string, number> = { 'P-256': 256, 'P-384': 384, 'P-521': 521, Ed25519: 256 };

export function summarizeKey(jwk: PublicJwk): KeySummary {
  const crv = typeof jwk.crv === 'string' ? jwk.crv : null;
  return {
    kid: jwk.kid ?? null,
    kty: jwk.kty,
    alg: jwk.alg ?? null,
    use: jwk.use ?? null,
    crv,
    bits:
      jwk.kty === 'RSA' && typeof jwk.n === 'string'
        ? rsaModulusBits(jwk.n)
        : crv
          ? (CURVE_BITS[crv] ?? null)
          : null,
  };
}

async function fetchKeys(
  url: string,
  http: ResolvedHttpOptions,
): Promise<{ keys: KeySummary[]; skipped: SkippedKey[] }> {
  const { body } = await requestJson(url, http);
  const jwks = readJwks(body);
  if (!jwks) {
    throw new JwtVerifyError(
      'ERR_ISSUER_UNAVAILABLE',
      `${url} did not answer with a JWKS (no "keys" array)`,
      {
        details: { url },
      },
    );
  }
  return { keys: jwks.keys.map((key) => summarizeKey(key.jwk)), skipped: jwks.skipped };
}

export const discoverCommand: Command = {
  name: 'discover',
  summary: 'show what an issuer publishes: metadata, the well-known URL used, its JWKS keys',
  help: `Usage: oauth-jwt-verify discover <issuer> [options]

Discovers an issuer as JwtVerifier does (RFC 8414 /.well-known/oauth-authorization-server,
then OpenID Connect /.well-known/openid-configuration), checks that the metadata's issuer
is exactly <issuer>, and fetches its JWKS. Prints the well-known URL that answered, the
metadata, and each key: kid, kty, alg, use and size.

Options:
  --discovery <mode>        auto (default), oauth or oidc
  --timeout-ms <ms>         per HTTP request (default 5000)
  --allow-insecure-http     allow http: to hosts other than loopback
${COMMON_HELP}

Examples:
  oauth-jwt-verify discover https://issuer.example.com
  oauth-jwt-verify discover https://tenant.auth0.example/ --discovery oidc
  oauth-jwt-verify discover https://issuer.example.com --json | jq '.jwks.keys[].kid'

Exit status: 0 found, 2 usage, or the issuer could not be reached or its metadata is
invalid (ERR_ISSUER_UNAVAILABLE, ERR_METADATA_INVALID).`,
  options: {
    discovery: { type: 'string' },
    'timeout-ms': { type: 'string' },
    'allow-insecure-http': { type: 'boolean' },
  },
  async run(ctx, values, positionals) {
    const issuerArgument = onePositional(positionals, 'issuer');
    let http: ResolvedHttpOptions;
    let issuer: string;
    let mode: ReturnType<typeof parseDiscoveryMode>;
    try {
      http = resolveHttpOptions({
        timeoutMs: numberValue(values, 'timeout-ms'),
        allowInsecureHttp: values['allow-insecure-http'] === true,
      });
      issuer = parseIssuerOption(issuerArgument, http.allowInsecureHttp);
      mode = parseDiscoveryMode(discoveryValue(values));
    } catch (error) {
      if (isInvalidArgument(error)) throw new UsageError(error.message);
      throw error;
    }
    const candidates = discoveryUrls(issuer, mode);
    try {
      const found = await discoverMetadata(issuer, mode, http);
      const tried = candidates.slice(0, candidates.findIndex((c) => c.url === found.url) + 1);
      const jwksUri = found.metadata.jwks_uri;
      const jwks = jwksUri ? { uri: jwksUri, ...(await fetchKeys(jwksUri, http)) } : null;
      if (ctx.json) {
        ctx.emitJson({
          ok: true,
          issuer,
          discovery: { url: found.url, kind: found.kind, tried: tried.map((c) => c.url) },
          metadata: found.metadata,
          jwks,
        });
        return EXIT.ok;
      }
      const { style } = ctx;
      ctx.out(`${style.green(style.bold('✔ issuer'))}  ${issuer}`);
      for (const candidate of tried) {
        const used = candidate.url === found.url;
        ctx.out(
          `  ${used ? 'well-known' : 'tried     '}  ${candidate.url} (${kindName(candidate.kind)})` +
            (used ? style.green(' → used') : style.dim(' → not found')),
        );
      }
      ctx.out(style.bold('metadata'));
      for (const line of table(
        Object.entries(found.metadata).map(([name, value]) => [
          name,
          Array.isArray(value) ? value.join(' ') : String(value),
        ]),
      )) {
        ctx.out(line);
      }
      if (!jwks) {
        ctx.out(style.yellow('no jwks_uri in the metadata: a verifier needs --jwks-uri'));
        return EXIT.ok;
      }
      ctx.out(
        `${style.bold('jwks')}  ${jwks.uri} (${jwks.keys.length} usable key${jwks.keys.length === 1 ? '' : 's'})`,
      );
      const rows = jwks.keys.map((key) => [
        key.kid ?? undefined,
        key.kty,
        key.alg ?? undefined,
        key.use ?? undefined,
        key.bits === null ? undefined : `${key.bits} bits${key.crv ? ` (${key.crv})` : ''}`,
      ]);
      for (const line of table([['kid', 'kty', 'alg', 'use', 'size'], ...rows])) ctx.out(line);
      for (const skipped of jwks.skipped) {
        ctx.out(
          style.yellow(
            `  skipped ${skipped.kid === undefined ? 'a key without kid' : `kid ${JSON.stringify(skipped.kid)}`}: ${skipped.reason}`,
          ),
        );
      }
      return EXIT.ok;
    } catch (error) {
      if (!isJwtVerifyError(error)) throw error;
      if (ctx.json) ctx.emitJson({ ok: false, issuer, error: errorJson(error) });
      else
        ctx.err(
          `${ctx.errorStyle.red('✖ issuer failure')} ${ctx.errorStyle.bold(error.code)}: ${error.message}`,
        );
      return exitCodeFor(error);
    }
  },
};

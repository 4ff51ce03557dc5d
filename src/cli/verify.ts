// `verify`: verifies a token against an issuer and says why it is rejected.
import { createPrivateKey } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import {
  type DecryptionKey,
  type JwtVerifierOptions,
  JwtVerifier,
  type RequestVerifyResult,
  type VerifierEvent,
  isJwtVerifyError,
} from '../index.js';
import {
  COMMON_HELP,
  type Command,
  discoveryValue,
  numberValue,
  onePositional,
  requiredString,
  stringList,
  stringValue,
} from './command.js';
import { errorJson, exitCodeFor, isInvalidArgument } from './errors.js';
import { formatShortToken, shortToken, timeClaimsObject } from './format.js';
import { EXIT, UsageError } from './io.js';
import { decodeJweHeaderUnverified, isCompactJwe } from '../token/jwe.js';
import { readTokenArgument } from './token-input.js';
import { cnfOf, printHeaderAndPayload } from './token-report.js';

export const verifyCommand: Command = {
  name: 'verify',
  summary: 'verify a token against the live issuer; say why when it is rejected',
  help: `Usage: oauth-jwt-verify verify <token|-> --issuer <url> --audience <aud> [options]

Verifies a JWT the way a resource server using JwtVerifier would: discovers the issuer,
fetches its JWKS, checks the signature, then iss, aud, exp, nbf, iat and the options
below. On rejection it prints the error code and what was expected versus what was found,
in one line. Pass - as the token to read it from stdin (keeps it out of shell history).

Options:
  --issuer <url>            the exact expected iss, and the discovery base (required)
  --audience <aud>          an accepted audience; repeat for several (required)
  --typ <typ>               required typ header, e.g. at+jwt (RFC 9068)
  --scope <scope>           a required scope; repeat, or space-separate, for several
  --jwks-uri <url>          use this JWKS and skip discovery
  --discovery <mode>        auto (RFC 8414, then OpenID Connect; default), oauth or oidc
  --clock-tolerance <s>     seconds of clock skew tolerated for exp, nbf, iat (default 0)
  --max-token-age <s>       largest age in seconds since iat
  --timeout-ms <ms>         per HTTP request (default 5000)
  --allow-insecure-http     allow http: to hosts other than loopback
  --dpop <proof|->          check a DPoP proof with the token, as an API would (RFC 9449);
                            - reads the proof from stdin (the token is then an argument)
  --url <url>               the URL of the request the proof is for (required with --dpop)
  --method <method>         the method of the request the proof is for (default GET)
  --decryption-key <file>   decrypt an encrypted token (JWE) with this private key: a JWK,
                            a JWKS of private keys, or a PEM file; repeat for several
${COMMON_HELP}

Examples:
  oauth-jwt-verify verify - --issuer https://issuer.example.com --audience https://api.example.com < token.txt
  oauth-jwt-verify verify "$TOKEN" --issuer https://issuer.example.com/ --audience api --typ at+jwt --scope read:orders
  oauth-jwt-verify verify - --issuer https://issuer.example.com --audience api --json | jq .error.code
  oauth-jwt-verify verify "$TOKEN" --issuer https://issuer.example.com --audience api --dpop - --url https://api.example.com/orders < proof.txt

Exit status: 0 valid, 1 rejected (the code says why), 2 usage, or the issuer could not be
reached or answered badly (ERR_ISSUER_UNAVAILABLE, ERR_METADATA_INVALID).`,
  options: {
    issuer: { type: 'string' },
    audience: { type: 'string', multiple: true },
    typ: { type: 'string' },
    scope: { type: 'string', multiple: true },
    'jwks-uri': { type: 'string' },
    discovery: { type: 'string' },
    'clock-tolerance': { type: 'string' },
    'max-token-age': { type: 'string' },
    'timeout-ms': { type: 'string' },
    'allow-insecure-http': { type: 'boolean' },
    dpop: { type: 'string' },
    url: { type: 'string' },
    method: { type: 'string' },
    'decryption-key': { type: 'string', multiple: true },
  },
  async run(ctx, values, positionals) {
    const tokenArgument = onePositional(positionals, 'token');
    const issuer = requiredString(values, 'issuer');
    const audience = stringList(values, 'audience');
    if (audience.length === 0)
      throw new UsageError('--audience is required (the API identifier the token must be issued for)');
    const scopes = stringList(values, 'scope').flatMap((scope) => scope.split(/\s+/).filter(Boolean));
    const events: VerifierEvent[] = [];
    const options: JwtVerifierOptions = {
      issuer,
      audience,
      typ: stringValue(values, 'typ'),
      requiredScopes: scopes.length ? scopes : undefined,
      jwksUri: stringValue(values, 'jwks-uri'),
      discovery: discoveryValue(values),
      clockTolerance: numberValue(values, 'clock-tolerance'),
      maxTokenAge: numberValue(values, 'max-token-age'),
      timeoutMs: numberValue(values, 'timeout-ms'),
      allowInsecureHttp: values['allow-insecure-http'] === true,
      onEvent: (event) => events.push(event),
    };
    const dpop = dpopRequest(values, tokenArgument);
    if (dpop) options.dpop = {};
    const decryptionKeys = await readDecryptionKeys(stringList(values, 'decryption-key'));
    if (decryptionKeys.length > 0) options.decryption = { keys: decryptionKeys };
    let verifier: JwtVerifier;
    try {
      verifier = new JwtVerifier(options);
    } catch (error) {
      if (isInvalidArgument(error)) throw new UsageError(error.message);
      throw error;
    }
    const token = await readTokenArgument(tokenArgument, ctx.io);
    const proof = dpop && (await readTokenArgument(dpop.proof, ctx.io));
    const now = Date.now();

    const sources = () => {
      const discovery = events.find((event) => event.type === 'discovery');
      const jwks = events.find((event) => event.type === 'jwks_fetched');
      return {
        discovery: discovery ? { url: discovery.url, kind: discovery.kind } : null,
        jwksUri: jwks?.url ?? options.jwksUri ?? null,
      };
    };

    try {
      const {
        header,
        payload,
        dpop: proven,
      }: RequestVerifyResult = dpop
        ? await verifier.verifyRequest({
            method: dpop.method,
            url: dpop.url,
            headers: { authorization: `DPoP ${token}`, dpop: proof! },
          })
        : // A diagnosis, not a resource server: the report shows what a bound token is bound to.
          await verifier.verify(token, { allowBoundTokens: true });
      const { discovery, jwksUri } = sources();
      const proofJson = proven && {
        jkt: proven.jkt,
        alg: proven.proof.header.alg,
        htm: proven.proof.payload.htm,
        htu: proven.proof.payload.htu,
        iat: proven.proof.payload.iat,
        jti: proven.jti,
      };
      if (ctx.json) {
        ctx.emitJson({
          ok: true,
          verified: true,
          token: shortToken(token),
          issuer,
          discovery,
          jwksUri,
          header,
          payload,
          times: timeClaimsObject(payload, now),
          cnf: cnfOf(payload),
          dpop: proofJson ?? null,
        });
        return EXIT.ok;
      }
      const { style } = ctx;
      const checks = [
        `iss ${JSON.stringify(issuer)}`,
        `aud ${audience.map((a) => JSON.stringify(a)).join(' or ')}`,
        'exp/nbf/iat',
        ...(options.typ ? [`typ ${JSON.stringify(options.typ)}`] : []),
        ...(scopes.length ? [`scope ${scopes.join(' ')}`] : []),
        ...(proofJson ? ['the DPoP proof (htm, htu, iat, ath, cnf.jkt)'] : []),
      ];
      ctx.out(`${style.green(style.bold('✔ VALID'))}  ${formatShortToken(token)}`);
      ctx.out(
        `  signature  ${header.alg}${header.kid === undefined ? '' : `, kid ${JSON.stringify(header.kid)}`}` +
          (jwksUri ? `, key from ${jwksUri}` : ''),
      );
      if (isCompactJwe(token)) {
        const jwe = decodeJweHeaderUnverified(token);
        ctx.out(
          `  decrypted  ${String(jwe.alg)} + ${String(jwe.enc)}${jwe.kid === undefined ? '' : `, kid ${JSON.stringify(jwe.kid)}`}`,
        );
      }
      if (discovery) ctx.out(`  discovery  ${discovery.url} (${kindName(discovery.kind)})`);
      ctx.out(`  checked    ${checks.join(', ')}`);
      if (proofJson) {
        ctx.out(
          `  dpop       ${proofJson.alg} proof for ${proofJson.htm} ${proofJson.htu}, key jkt ${proofJson.jkt}`,
        );
      } else if (typeof cnfOf(payload)?.jkt === 'string') {
        ctx.out(
          `  ${style.yellow('note')}       DPoP-bound (cnf.jkt): an API refuses it as Bearer; check it as sent with --dpop <proof> --url <url>`,
        );
      }
      printHeaderAndPayload(ctx, { header, payload }, now);
      return EXIT.ok;
    } catch (error) {
      if (!isJwtVerifyError(error)) throw error;
      const exitCode = exitCodeFor(error);
      if (ctx.json) {
        ctx.emitJson({
          ok: false,
          verified: false,
          token: shortToken(token),
          issuer,
          ...sources(),
          error: errorJson(error),
        });
      } else {
        const { errorStyle } = ctx;
        const label = exitCode === EXIT.rejected ? 'rejected' : 'issuer failure';
        ctx.err(`${errorStyle.red(`✖ ${label}`)} ${errorStyle.bold(error.code)}: ${error.message}`);
      }
      return exitCode;
    }
  },
};

/** The keys of `--decryption-key` files: a JWK, a JWKS (`{ keys: [...] }`) or a PEM private key each. */
async function readDecryptionKeys(files: readonly string[]): Promise<DecryptionKey[]> {
  const keys: DecryptionKey[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new UsageError(`--decryption-key: cannot read ${file}: ${(error as Error).message}`);
    }
    if (text.trimStart().startsWith('{')) {
      let json: { keys?: unknown };
      try {
        json = JSON.parse(text);
      } catch {
        throw new UsageError(`--decryption-key: ${file} is not valid JSON (a JWK or a JWKS)`);
      }
      keys.push(...(Array.isArray(json.keys) ? (json.keys as DecryptionKey[]) : [json as DecryptionKey]));
      continue;
    }
    try {
      keys.push(createPrivateKey(text));
    } catch {
      throw new UsageError(`--decryption-key: ${file} holds neither a JWK nor a PEM private key`);
    }
  }
  return keys;
}

/** The request `--dpop` describes, or `undefined` without `--dpop`. */
function dpopRequest(
  values: Parameters<Command['run']>[1],
  tokenArgument: string,
): { proof: string; url: string; method: string } | undefined {
  const proof = stringValue(values, 'dpop');
  const url = stringValue(values, 'url');
  const method = stringValue(values, 'method');
  if (proof === undefined) {
    if (url !== undefined || method !== undefined)
      throw new UsageError('--url and --method go with --dpop <proof>');
    return undefined;
  }
  if (proof === '-' && tokenArgument === '-') {
    throw new UsageError('only one of the token and the --dpop proof can be read from stdin');
  }
  if (url === undefined) throw new UsageError('--dpop needs --url, the URL of the request the proof is for');
  if (!/^https?:\/\//i.test(url))
    throw new UsageError(`--url must be an absolute http(s) URL, got ${JSON.stringify(url)}`);
  if (method !== undefined && !/^[A-Za-z]+$/.test(method)) {
    throw new UsageError(`--method must be an HTTP method, got ${JSON.stringify(method)}`);
  }
  return { proof, url, method: (method ?? 'GET').toUpperCase() };
}

export function kindName(kind: 'oauth' | 'oidc'): string {
  return kind === 'oauth' ? 'RFC 8414' : 'OpenID Connect Discovery';
}

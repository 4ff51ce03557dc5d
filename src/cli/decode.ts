// `decode`: shows a token's header and claims without verifying it (JWS or JWE).
import { decodeUnverified, isJwtVerifyError } from '../index.js';
import { decodeJweHeaderUnverified, isCompactJwe } from '../token/jwe.js';
import { COMMON_HELP, type Command, type CommandContext, onePositional } from './command.js';
import { errorJson, exitCodeFor } from './errors.js';
import { formatShortToken, indentJson, shortToken, timeClaimsObject } from './format.js';
import { EXIT, type ExitCode } from './io.js';
import { readTokenArgument } from './token-input.js';
import { cnfOf, printHeaderAndPayload } from './token-report.js';

const WARNING =
  'UNVERIFIED: decoded only; neither the signature nor any claim was checked (use `verify` for that)';
const ENCRYPTED =
  'ENCRYPTED (JWE): only its header can be read; `verify --decryption-key FILE` decrypts and verifies it';

export const decodeCommand: Command = {
  name: 'decode',
  summary: 'show a token’s header and payload, UNVERIFIED, with its times as dates',
  help: `Usage: oauth-jwt-verify decode <token|-> [options]

Decodes a JWT's header and payload WITHOUT verifying anything, and shows exp, iat and nbf
as dates and relative times, and what a bound token is bound to (cnf: a DPoP key's jkt,
a certificate's x5t#S256). Of an encrypted token (JWE) it shows the header, the only part
readable without the key. Pass - to read the token from stdin (keeps it out of shell
history). Nothing is fetched. Use \`verify\` to know whether the token can be trusted.

Options:
${COMMON_HELP}

Examples:
  oauth-jwt-verify decode eyJhbGciOiJSUzI1NiIs...
  pbpaste | oauth-jwt-verify decode -
  oauth-jwt-verify decode - --json < token.txt | jq .payload.sub

Exit status: 0 decoded, 1 not a JWT (ERR_TOKEN_MALFORMED), 2 usage.`,
  options: {},
  async run(ctx, _values, positionals) {
    const token = await readTokenArgument(onePositional(positionals, 'token'), ctx.io);
    const now = Date.now();
    if (isCompactJwe(token)) return showEncrypted(ctx, token);
    let decoded: ReturnType<typeof decodeUnverified>;
    try {
      decoded = decodeUnverified(token);
    } catch (error) {
      return refuse(ctx, token, error, 'not a JWT');
    }
    const { header, payload } = decoded;
    if (ctx.json) {
      ctx.emitJson({
        ok: true,
        verified: false,
        warning: WARNING,
        token: shortToken(token),
        header,
        payload,
        times: timeClaimsObject(payload, now),
        cnf: cnfOf(payload),
      });
      return EXIT.ok;
    }
    const { style } = ctx;
    ctx.out(style.yellow(style.bold(WARNING)));
    ctx.out(`token    ${formatShortToken(token)}`);
    ctx.out('');
    printHeaderAndPayload(ctx, decoded, now, ' (UNVERIFIED)');
    return EXIT.ok;
  },
};

/** What `decode` says about input it cannot decode; anything but a JwtVerifyError is rethrown. */
function refuse(ctx: CommandContext, token: string, error: unknown, label: string): ExitCode {
  if (!isJwtVerifyError(error)) throw error;
  if (ctx.json)
    ctx.emitJson({ ok: false, verified: false, token: shortToken(token), error: errorJson(error) });
  else ctx.err(`${ctx.errorStyle.red(label)} ${ctx.errorStyle.bold(error.code)}: ${error.message}`);
  return exitCodeFor(error);
}

/** An encrypted token: its protected header, the only part readable without the key. */
function showEncrypted(ctx: CommandContext, token: string): ExitCode {
  let header: Record<string, unknown>;
  try {
    header = decodeJweHeaderUnverified(token);
  } catch (error) {
    return refuse(ctx, token, error, 'not a JWE');
  }
  if (ctx.json) {
    ctx.emitJson({
      ok: true,
      verified: false,
      encrypted: true,
      warning: ENCRYPTED,
      token: shortToken(token),
      header,
    });
    return EXIT.ok;
  }
  const { style } = ctx;
  ctx.out(style.yellow(style.bold(ENCRYPTED)));
  ctx.out(`token    ${formatShortToken(token)}`);
  ctx.out('');
  ctx.out(style.bold('header') + style.yellow(' (UNVERIFIED)'));
  ctx.out(indentJson(header));
  return EXIT.ok;
}

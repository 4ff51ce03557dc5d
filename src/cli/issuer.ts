// The `issuer` command: a development identity provider from the shell, a thin shell over startIssuerServer.
import { readFile } from 'node:fs/promises';
import { discoveryUrls } from '../index.js';
import {
  type IssuerServer,
  type IssuerServerConfig,
  type TestIssuer,
  startIssuerServer,
} from '../testing/index.js';
import { COMMON_HELP, type Command, type CommandContext, type OptionValues, stringValue } from './command.js';
import { isInvalidArgument } from './errors.js';
import { EXIT, type ExitCode, UsageError } from './io.js';

const HELP = `Usage: oauth-jwt-verify issuer [options]

Runs a development identity provider until Ctrl-C: the stub issuer of oauth-jwt-verify/testing
as a long-lived OAuth 2.0 / OpenID Connect server for APIs in any language, an SPA's local
development and end-to-end tests. Not for production. Serves RFC 8414 and OpenID Connect
metadata, a JWKS, /authorize (a login page: pick a user, or type a subject and claims;
login_hint skips it), /token (authorization code + PKCE, refresh, client credentials, DPoP,
token exchange, JWT bearer; private_key_jwt), /userinfo, /logout, and GET /health.

Options:
  --port <n>          port (default 8080; 0: any free port)
  --host <address>    address to listen on (default 127.0.0.1; 0.0.0.0 in a container)
  --config <file>     JSON configuration (or the OJV_ISSUER_CONFIG variable holding the JSON):
                      { issuers?: { <id>: {...} }, interactiveLogin?, admin?, audience?,
                        algorithms?, profile?, users?, clients?, requestMappings?, ... }
                      with issuers, each is served at /<id> with its own keys
  --public-url <url>  the origin clients reach the server at (port map, proxy): it is the iss
  --keys <file>       signing keys kept across restarts (created on first start, mode 0600)
  --https             serve HTTPS with --cert <file> and --key <file> (PEM)
  --admin             the control API for loopback callers, under each issuer:
                      POST _admin/rotate, POST _admin/fail-next, GET _admin/requests,
                      POST _admin/reset, POST _admin/tokens {"claims":{...}}
  --quiet             no log line per request
${COMMON_HELP}
                     (here: one line {"url","issuer","issuers"} once the server is ready)

Examples:
  npx oauth-jwt-verify issuer
  npx oauth-jwt-verify issuer --host 0.0.0.0 --public-url http://localhost:8080 --keys keys.json
  curl -s -X POST http://127.0.0.1:8080/_admin/tokens -d '{"claims":{"sub":"alice"}}'

Full guide: docs/dev-issuer.md. Exit status: 0 stopped by SIGINT/SIGTERM, 2 bad flags or
configuration (the field is named), or the port in use.`;

function portValue(values: OptionValues): number {
  const text = stringValue(values, 'port') ?? '8080';
  const port = Number(text);
  if (!/^\d+$/.test(text) || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, got ${JSON.stringify(text)}`);
  }
  return port;
}

async function readText(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`${flag} ${path} cannot be read: ${(error as Error).message}`);
  }
}

/** The configuration from --config or OJV_ISSUER_CONFIG, and where it came from (for messages). */
async function configValue(
  ctx: CommandContext,
  values: OptionValues,
): Promise<{ config: unknown; from: string }> {
  const file = stringValue(values, 'config');
  const text = file ? await readText(file, '--config') : ctx.io.env.OJV_ISSUER_CONFIG;
  const from = file ? `--config ${file}` : 'OJV_ISSUER_CONFIG';
  if (text === undefined || text.trim() === '') return { config: {}, from };
  try {
    return { config: JSON.parse(text) as unknown, from };
  } catch (error) {
    throw new UsageError(`${from} is not JSON: ${(error as Error).message}`);
  }
}

async function httpsValue(values: OptionValues): Promise<{ cert: string; key: string } | undefined> {
  const cert = stringValue(values, 'cert');
  const key = stringValue(values, 'key');
  if (values.https !== true) {
    if (cert || key) throw new UsageError('--cert and --key go with --https');
    return undefined;
  }
  if (!cert || !key) throw new UsageError('--https needs --cert <file> and --key <file> (PEM)');
  return { cert: await readText(cert, '--cert'), key: await readText(key, '--key') };
}

/** A word for a shell, single-quoted unless it is plain. */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A `curl` that gets a token from `issuer` with the client credentials grant. */
export function clientCredentialsCurl(
  issuer: TestIssuer,
  clients: readonly { clientId: string; clientSecret?: string }[] | undefined,
): string {
  const client = clients?.find((one) => one.clientSecret !== undefined) ??
    clients?.[0] ?? { clientId: 'dev-client' };
  const credentials =
    client.clientSecret !== undefined
      ? `-u ${shellWord(`${client.clientId}:${client.clientSecret}`)}`
      : `-d client_id=${shellWord(client.clientId)}`;
  return `curl -s ${credentials} -d grant_type=client_credentials ${shellWord(issuer.metadata.token_endpoint!)}`;
}

function discoveryUrl(issuer: TestIssuer): string {
  // The OpenID Connect document is `metadata` only when it is the one served.
  const mode = issuer.metadata.subject_types_supported ? 'oidc' : 'oauth';
  return discoveryUrls(issuer.issuer, mode)[0]!.url;
}

function printBanner(ctx: CommandContext, server: IssuerServer, config: unknown, admin: boolean): void {
  const { style } = ctx;
  const all = (config as { clients?: []; issuers?: Record<string, { clients?: [] }> }) ?? {};
  ctx.out(`${style.bold('oauth-jwt-verify issuer')}: a development identity provider (not for production)`);
  for (const [id, issuer] of Object.entries(server.issuers)) {
    const clients = all.issuers?.[id]?.clients ?? all.clients;
    ctx.out();
    ctx.out(`  ${style.bold(id)}  ${issuer.issuer}`);
    ctx.out(`    discovery  ${discoveryUrl(issuer)}`);
    ctx.out(`    jwks       ${issuer.metadata.jwks_uri}`);
    ctx.out(`    token      ${clientCredentialsCurl(issuer, clients)}`);
    if (admin) ctx.out(`    admin      ${issuer.issuer.replace(/\/$/, '')}/_admin/ (loopback callers only)`);
  }
  ctx.out();
  ctx.out(`health ${server.url}/health · Ctrl-C to stop`);
}

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      // A second signal while requests finish: stop at once.
      process.once('SIGINT', () => process.exit(130));
      process.once('SIGTERM', () => process.exit(143));
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export const issuerCommand: Command = {
  name: 'issuer',
  summary: 'run a development identity provider (many issuers, login page, control API) until Ctrl-C',
  help: HELP,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    config: { type: 'string' },
    'public-url': { type: 'string' },
    keys: { type: 'string' },
    https: { type: 'boolean' },
    cert: { type: 'string' },
    key: { type: 'string' },
    admin: { type: 'boolean' },
    quiet: { type: 'boolean' },
  },
  async run(ctx, values, positionals): Promise<ExitCode> {
    if (positionals.length) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const port = portValue(values);
    const host = stringValue(values, 'host') ?? '127.0.0.1';
    const { config, from } = await configValue(ctx, values);
    const admin = values.admin === true || (config as { admin?: unknown } | null)?.admin === true;
    const withAdmin =
      values.admin === true && typeof config === 'object' && config !== null
        ? { ...config, admin: true }
        : config;
    const quiet = values.quiet === true;
    const log = ctx.json ? ctx.err : ctx.out;
    let server: IssuerServer;
    try {
      server = await startIssuerServer({
        // Checked by startIssuerServer, which names the field at fault.
        config: withAdmin as IssuerServerConfig,
        port,
        host,
        publicUrl: stringValue(values, 'public-url'),
        keysFile: stringValue(values, 'keys'),
        https: await httpsValue(values),
        onRequest: quiet
          ? undefined
          : (entry) => log(`${entry.method} ${entry.path} ${entry.status} ${entry.ms}ms`),
      });
    } catch (error) {
      if (!isInvalidArgument(error)) throw error;
      const message = error.message.replace(/^startIssuerServer: /, '').replace(/^config: /, `${from}: `);
      throw new UsageError(message.replace(/^publicUrl/, '--public-url').replace(/^https:/, '--https:'));
    }
    if (!['127.0.0.1', 'localhost', '::1'].includes(host)) {
      ctx.err(
        `${ctx.errorStyle.yellow('warning')}: listening on ${host}: this is a development server that issues ` +
          'tokens to anyone who asks; never expose it to a network you do not trust',
      );
    }
    const issuers = Object.fromEntries(Object.entries(server.issuers).map(([id, one]) => [id, one.issuer]));
    if (ctx.json) {
      ctx.io.stdout.write(
        `${JSON.stringify({ url: server.url, issuer: Object.values(issuers)[0], issuers })}\n`,
      );
    } else printBanner(ctx, server, config, admin);
    const signal = await waitForSignal();
    if (!quiet) ctx.err(`${signal}: finishing requests in flight, then stopping`);
    await server.close();
    return EXIT.ok;
  },
};

// `demo`: the whole product on an embedded local issuer, step by step.
import { JwtVerifier, type VerifierEvent, discoveryUrls, isJwtVerifyError } from '../index.js';
import type { JwtVerifyErrorCode } from '../index.js';
import {
  buildAuthorizationUrl,
  discover as discoverForSpa,
  exchangeAuthorizationCode,
  parseAuthorizationResponse,
} from '../pkce/index.js';
import { type TestIssuer, createTestIssuer } from '../testing/index.js';
import { COMMON_HELP, type Command, type CommandContext } from './command.js';
import { errorJson } from './errors.js';
import { formatShortToken, relativeTime } from './format.js';
import { EXIT } from './io.js';
import { kindName } from './verify.js';

const AUDIENCE = 'https://api.demo.test';
const CLIENT_ID = 'demo-spa';
/** Never visited: the demo reads the redirect's Location instead of following it. */
const REDIRECT_URI = 'http://127.0.0.1/demo-callback';
/** Past the JWKS and metadata cache lifetime the verifier uses by default (10 minutes). */
const CACHE_EXPIRY_JUMP_MS = 11 * 60_000;

/** One narrated step, as `--json` reports it. */
export interface DemoStep {
  id: string;
  title: string;
  ok: boolean;
  /** The narration, one line per entry. */
  lines: string[];
  /** Facts the step checked: request counts, codes, URLs. */
  facts: Record<string, unknown>;
}

type StepBody = (note: (line: string) => void, facts: Record<string, unknown>) => Promise<boolean>;

export const demoCommand: Command = {
  name: 'demo',
  summary: 'run the whole product against a stub issuer on 127.0.0.1 and narrate it',
  help: `Usage: oauth-jwt-verify demo [options]

Starts the stub issuer from oauth-jwt-verify/testing on 127.0.0.1 (a free port) and, over
real HTTP, shows a JwtVerifier at work: discovery (which well-known URL, what it found),
the JWKS fetch, a valid ES256 and RS256 token verified, a tampered, an expired, a
wrong-audience and an alg:none token rejected with their codes, a key rotation picked up
on first sight, an issuer outage survived from cache, and a PKCE authorization-code login
(oauth-jwt-verify/pkce) completed against the stub. Nothing leaves the loopback interface.

Options:
${COMMON_HELP}

Exit status: 0 when every step behaved as it should, 1 when one did not, 2 usage or the
stub issuer could not start.`,
  options: {},
  async run(ctx) {
    return runDemo(ctx);
  },
};

async function runDemo(ctx: CommandContext): Promise<0 | 1 | 2> {
  const { style } = ctx;
  let issuer: TestIssuer;
  try {
    issuer = await createTestIssuer({ listen: true, algorithms: ['ES256', 'RS256'], audience: AUDIENCE });
  } catch (error) {
    if (ctx.json) ctx.emitJson({ ok: false, error: errorJson(error), steps: [] });
    else ctx.err(`${ctx.errorStyle.red('✖ the stub issuer could not start')}: ${(error as Error).message}`);
    return EXIT.usage;
  }
  const steps: DemoStep[] = [];
  const step = async (id: string, title: string, body: StepBody): Promise<void> => {
    const lines: string[] = [];
    const facts: Record<string, unknown> = {};
    let ok: boolean;
    try {
      ok = await body((line) => lines.push(line), facts);
    } catch (error) {
      ok = false;
      const { code, message } = errorJson(error);
      lines.push(`unexpected failure ${code}: ${message}`);
      facts.error = { code, message };
    }
    steps.push({ id, title, ok, lines, facts });
    if (ctx.json) return;
    const mark = ok ? style.green('✔') : style.red('✖');
    ctx.out(`${mark} ${style.bold(`${steps.length}. ${title}`)}`);
    for (const line of lines) ctx.out(`     ${line}`);
  };

  if (!ctx.json) {
    ctx.out(style.bold('oauth-jwt-verify demo'));
    ctx.out(style.dim('A stub issuer on 127.0.0.1, a JwtVerifier, real HTTP; nothing beyond loopback.'));
    ctx.out('');
  }
  try {
    await narrate(issuer, step, style.dim);
  } finally {
    await issuer.close();
  }

  const failed = steps.filter((s) => !s.ok);
  if (ctx.json) {
    ctx.emitJson({ ok: failed.length === 0, issuer: issuer.issuer, steps });
  } else {
    ctx.out('');
    if (failed.length === 0)
      ctx.out(style.green(style.bold(`All ${steps.length} steps behaved as expected.`)));
    else
      ctx.err(
        ctx.errorStyle.red(
          `${failed.length} of ${steps.length} steps did not behave as expected: ${failed.map((s) => s.title).join('; ')}`,
        ),
      );
  }
  return failed.length === 0 ? EXIT.ok : EXIT.rejected;
}

async function narrate(
  issuer: TestIssuer,
  step: (id: string, title: string, body: StepBody) => Promise<void>,
  dim: (text: string) => string,
): Promise<void> {
  const events: VerifierEvent[] = [];
  let clockOffsetMs = 0;
  const verifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: AUDIENCE,
    onEvent: (event) => events.push(event),
    now: () => Date.now() + clockOffsetMs,
  });
  const counts = () => `requests so far: metadata ${issuer.requests.metadata}, jwks ${issuer.requests.jwks}`;
  const eventsOf = <T extends VerifierEvent['type']>(type: T) =>
    events.filter((e): e is Extract<VerifierEvent, { type: T }> => e.type === type);

  await step('issuer', 'Stub issuer listening', async (note, facts) => {
    const host = new URL(issuer.issuer).hostname;
    note(`${issuer.issuer} (oauth-jwt-verify/testing, listen: true)`);
    note(`signing keys: ${issuer.keys.map((k) => `${k.alg} kid ${shortKid(k.kid)}`).join(', ')}`);
    Object.assign(facts, { issuer: issuer.issuer, host, keys: issuer.keys.length });
    return host === '127.0.0.1';
  });

  await step('discovery', 'Discovery', async (note, facts) => {
    await verifier.warmup();
    const [found] = eventsOf('discovery');
    const metadata = await verifier.metadata();
    const expectedUrl = discoveryUrls(issuer.issuer, 'auto')[0]!.url;
    note(`GET ${found?.url} (${found ? kindName(found.kind) : '?'}, tried first)`);
    note(`found issuer ${metadata.issuer} (matches exactly, RFC 8414 §3.3)`);
    note(`jwks_uri ${metadata.jwks_uri}`);
    note(
      `authorization_endpoint ${metadata.authorization_endpoint}, token_endpoint ${metadata.token_endpoint}`,
    );
    note(`PKCE methods: ${(metadata.code_challenge_methods_supported ?? []).join(', ') || 'none'}`);
    Object.assign(facts, { url: found?.url, kind: found?.kind, metadataRequests: issuer.requests.metadata });
    return found?.url === expectedUrl && metadata.issuer === issuer.issuer && issuer.requests.metadata === 1;
  });

  await step('jwks', 'JWKS fetched', async (note, facts) => {
    const [fetched] = eventsOf('jwks_fetched');
    note(
      `GET ${fetched?.url}: ${fetched?.kids.length ?? 0} keys (${fetched?.kids.map(shortKid).join(', ')}), fresh for ${Math.round((fetched?.freshForMs ?? 0) / 1000)} s`,
    );
    note(counts());
    Object.assign(facts, { url: fetched?.url, kids: fetched?.kids, jwksRequests: issuer.requests.jwks });
    return fetched !== undefined && fetched.kids.length === issuer.keys.length && issuer.requests.jwks === 1;
  });

  await step('valid', 'Valid tokens verified', async (note, facts) => {
    const verified: string[] = [];
    for (const alg of ['ES256', 'RS256'] as const) {
      const token = await issuer.sign({ sub: 'alice', scope: 'read:orders', client_id: CLIENT_ID }, { alg });
      const { payload, header } = await verifier.verify(token);
      note(`${alg} token ${formatShortToken(token)} → valid (kid ${shortKid(header.kid)})`);
      note(
        dim(
          `  sub ${payload.sub}, aud ${String(payload.aud)}, scope "${payload.scope}", exp ${new Date(payload.exp! * 1000).toISOString()} (${relativeTime(payload.exp!, Date.now())})`,
        ),
      );
      verified.push(alg);
    }
    note(`${counts()} (keys came from the cache)`);
    Object.assign(facts, { verified, jwksRequests: issuer.requests.jwks });
    return verified.length === 2 && issuer.requests.jwks === 1;
  });

  await step('rejections', 'Bad tokens rejected', async (note, facts) => {
    const genuine = await issuer.sign({ sub: 'alice' });
    const cases: [string, string, JwtVerifyErrorCode][] = [
      ['tampered (payload sub changed to admin)', tamper(genuine, { sub: 'admin' }), 'ERR_SIGNATURE_INVALID'],
      [
        'expired 5 minutes ago',
        await issuer.sign({ sub: 'alice' }, { expiresIn: -300 }),
        'ERR_TOKEN_EXPIRED',
      ],
      [
        'for another API',
        await issuer.sign({ sub: 'alice', aud: 'https://other-api.demo.test' }),
        'ERR_AUDIENCE_MISMATCH',
      ],
      [
        'alg: none, no signature',
        await issuer.sign({ sub: 'alice' }, { header: { alg: 'none' } }),
        'ERR_ALG_NOT_ALLOWED',
      ],
    ];
    const results: Record<string, string> = {};
    let allAsExpected = true;
    for (const [label, token, expected] of cases) {
      const outcome = await rejection(verifier, token);
      results[expected] = outcome.code;
      const asExpected = outcome.code === expected;
      allAsExpected &&= asExpected;
      note(`${label} → ${outcome.code}${asExpected ? '' : ` (expected ${expected})`}`);
      note(dim(`  ${outcome.message}`));
    }
    note(counts());
    Object.assign(facts, { codes: results, jwksRequests: issuer.requests.jwks });
    return allAsExpected && issuer.requests.jwks === 1;
  });

  await step('rotation', 'Key rotation picked up on first sight', async (note, facts) => {
    const before = issuer.requests.jwks;
    const added = await issuer.rotateKeys();
    note(
      `the issuer rotates: new keys ${added.map((k) => `${k.alg} kid ${shortKid(k.kid)}`).join(', ')} (old ones stay published)`,
    );
    const token = await issuer.sign({ sub: 'alice' });
    const { header } = await verifier.verify(token);
    const afterFirst = issuer.requests.jwks;
    note(
      `token with the new kid ${shortKid(header.kid)} → valid, after one JWKS refetch (jwks ${before} → ${afterFirst})`,
    );
    const [rotated] = eventsOf('key_rotated');
    note(`key_rotated event: added ${rotated?.added.map(shortKid).join(', ') || 'none'}`);
    await verifier.verify(await issuer.sign({ sub: 'bob' }));
    note(`a second new-key token → valid with no further request (jwks ${issuer.requests.jwks})`);
    Object.assign(facts, {
      jwksBefore: before,
      jwksAfterFirst: afterFirst,
      jwksAfterSecond: issuer.requests.jwks,
      added: rotated?.added,
    });
    return (
      afterFirst === before + 1 &&
      issuer.requests.jwks === afterFirst &&
      rotated?.added.includes(header.kid!) === true
    );
  });

  await step('outage', 'Issuer outage survived from cache', async (note, facts) => {
    const token = await issuer.sign({ sub: 'alice' });
    issuer.failNext('metadata', { status: 503, times: Infinity });
    issuer.failNext('jwks', { status: 503, times: Infinity });
    clockOffsetMs += CACHE_EXPIRY_JUMP_MS;
    const jwksBefore = issuer.requests.jwks;
    note(
      `the issuer answers 503 to everything; the verifier's clock jumps ${CACHE_EXPIRY_JUMP_MS / 60_000} minutes, past its cache lifetime`,
    );
    await verifier.verify(token);
    const jwksAfterFirst = issuer.requests.jwks;
    const failed = eventsOf('jwks_failed').at(-1);
    note(
      `token signed with a known key → valid: the refetch failed (${failed?.error.code}) and the cached keys kept serving`,
    );
    await verifier.verify(await issuer.sign({ sub: 'bob' }));
    const jwksAfterSecond = issuer.requests.jwks;
    note(
      `next token → valid without asking the failing issuer again (jwks ${jwksBefore} → ${jwksAfterFirst} → ${jwksAfterSecond})`,
    );
    issuer.reset();
    note('the issuer recovers');
    Object.assign(facts, { jwksBefore, jwksAfterFirst, jwksAfterSecond, servingStale: failed?.servingStale });
    return (
      failed?.servingStale === true && jwksAfterFirst === jwksBefore + 1 && jwksAfterSecond === jwksAfterFirst
    );
  });

  await step('pkce', 'PKCE login completed against the stub', async (note, facts) => {
    const metadata = await discoverForSpa(issuer.issuer);
    const request = await buildAuthorizationUrl(metadata, {
      clientId: CLIENT_ID,
      redirectUri: REDIRECT_URI,
      scope: 'openid read:orders',
    });
    const authorizeUrl = new URL(request.url);
    note(`buildAuthorizationUrl (oauth-jwt-verify/pkce): ${authorizeUrl.origin}${authorizeUrl.pathname}`);
    note(
      dim(
        `  ?${['response_type', 'client_id', 'scope', 'code_challenge_method'].map((p) => `${p}=${authorizeUrl.searchParams.get(p)}`).join('&')}&code_challenge=…&state=…&nonce=…`,
      ),
    );
    const answer = await fetch(request.url, { redirect: 'manual' });
    const location = answer.headers.get('location') ?? '';
    note(
      `GET /authorize → ${answer.status}, redirect to ${new URL(location, request.url).origin}${new URL(location, request.url).pathname}?code=…&state=…&iss=…`,
    );
    const { code } = parseAuthorizationResponse(location, { expectedState: request.state, metadata });
    note('parseAuthorizationResponse: state and RFC 9207 iss checked, code received');
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: CLIENT_ID,
      code,
      codeVerifier: request.codeVerifier,
      redirectUri: REDIRECT_URI,
    });
    note(
      `exchangeAuthorizationCode: ${tokens.token_type} access token ${formatShortToken(tokens.access_token)}`,
    );
    const api = new JwtVerifier({
      issuer: issuer.issuer,
      audience: AUDIENCE,
      typ: 'at+jwt',
      requiredScopes: ['read:orders'],
    });
    const { payload, header } = await api.verify(tokens.access_token);
    note(`access token verified (typ ${header.typ}, scope "${payload.scope}", sub ${payload.sub})`);
    Object.assign(facts, {
      authorizeStatus: answer.status,
      typ: header.typ,
      scope: payload.scope,
      sub: payload.sub,
    });
    return answer.status === 302 && header.typ === 'at+jwt';
  });
}

/** Key ids are thumbprints here: their first characters tell them apart. */
function shortKid(kid: string | undefined): string {
  if (kid === undefined) return '(none)';
  return kid.length > 12 ? `${kid.slice(0, 8)}…` : kid;
}

/** The token with some payload claims replaced, its signature kept: what a forger would try. */
function tamper(token: string, claims: Record<string, unknown>): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const forged = { ...JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')), ...claims };
  return `${header}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${signature}`;
}

async function rejection(verifier: JwtVerifier, token: string): Promise<{ code: string; message: string }> {
  try {
    await verifier.verify(token);
    return { code: 'accepted', message: 'the token was accepted' };
  } catch (error) {
    if (!isJwtVerifyError(error)) throw error;
    return { code: error.code, message: error.message };
  }
}

// Every error code through every writer of a WWW-Authenticate challenge (the Express, Fastify
// and Hono adapters, authenticate() on node:http and on a Fetch handler, mcpBearerAuth, and the
// MCP SDK's own requireBearerAuth with mcpTokenVerifier), with a message as hostile as a
// verifier's can be ("quotes", a backslash, non-ASCII, control characters): each header
// must read under a strict RFC 9110 §11.6.1 / RFC 6750 §3 parser, and read well. And the
// messages themselves: every string in src/ that can become one is plain ASCII.
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ERROR_STATUS,
  JwtVerifyError,
  type JwtVerifyErrorCode,
  type TokenVerifier,
  protectedResourceMetadata,
} from '../../src/index.js';
import { withChallenge } from '../../src/dpop/challenge.js';
import { mcpBearerAuth, mcpTokenVerifier } from '../../src/mcp/index.js';
import { parseChallenges } from '../support/challenges.js';
import { requireBearerAuth } from '../support/mcp-sdk.js';
import { ROUTE_SCOPE, type Target, closeAll, startAll, startExpressApp } from '../support/servers.js';

const CODES = Object.keys(ERROR_STATUS) as JwtVerifyErrorCode[];
const HOSTILE =
  'expected audience "https://api.test", found "a\\b" (RFC 9449 section 7.2) ünï\u00a0\u0007\ttab\r\nX-Injected: 1';
const METADATA = protectedResourceMetadata({
  resource: 'https://api.test/orders',
  authorizationServers: ['https://issuer.test'],
});

/** The error a verifier rejects with for the "token" that names a code. */
function errorFor(token: string): JwtVerifyError {
  const code = token as JwtVerifyErrorCode;
  return new JwtVerifyError(code, HOSTILE, {
    details: code === 'ERR_INSUFFICIENT_SCOPE' ? { requiredScopes: [ROUTE_SCOPE] } : {},
  });
}

/** A verifier with only verify(): the base class writes its challenge. */
const plain: TokenVerifier = { verify: (token) => Promise.reject(errorFor(token)) };
/** A verifier that accepts DPoP too: its rejections carry both challenges, with a nonce. */
const withDpop: TokenVerifier = {
  verify: (token) => Promise.reject(errorFor(token)),
  verifyRequest: (request) => {
    const headers = request.headers as { get?: (name: string) => string | null; authorization?: string };
    const authorization =
      typeof headers.get === 'function' ? headers.get('authorization') : headers.authorization;
    const error = errorFor(/\S+$/.exec(authorization ?? '')![0]);
    const challenge = {
      schemes: ['Bearer', 'DPoP'],
      algorithms: ['ES256', 'EdDSA'],
      scheme: 'Bearer',
    } as const;
    return Promise.reject(withChallenge(error, challenge, 'nonce-1'));
  },
};

/** Express apps guarded by mcpBearerAuth and by the SDK's requireBearerAuth, as targets. */
async function startMcpGuards(verifier: TokenVerifier): Promise<Target[]> {
  const guards = {
    mcpBearerAuth: mcpBearerAuth(verifier, { resourceMetadata: METADATA, realm: 'mcp "tools"' }),
    "the SDK's requireBearerAuth": requireBearerAuth({
      verifier: mcpTokenVerifier(verifier),
      requiredScopes: [ROUTE_SCOPE],
      resourceMetadataUrl: 'https://api.test/.well-known/oauth-protected-resource/orders',
    }),
  };
  return Promise.all(
    Object.entries(guards).map(([name, guard]) => {
      const app = express();
      app.use(guard);
      app.get('/orders', (_req, res) => void res.json({ ok: true }));
      return startExpressApp(name, app);
    }),
  );
}

const targets: Array<{ verifier: string; target: Target }> = [];
beforeAll(async () => {
  for (const [name, verifier] of [
    ['verify() only', plain],
    ['with DPoP', withDpop],
  ] as const) {
    const started = [
      ...(await startAll(verifier, { realm: 'api "v2" §1', resourceMetadata: METADATA })),
      ...(await startMcpGuards(verifier)),
    ];
    targets.push(...started.map((target) => ({ verifier: name, target })));
  }
});
afterAll(() => closeAll(targets.map(({ target }) => target)));

describe('the strict challenge parser', () => {
  it('reads challenges, auth-params and token68', () => {
    expect(
      parseChallenges('Bearer realm="api", error="invalid_token", DPoP algs="ES256 EdDSA", Basic abc=='),
    ).toEqual([
      { scheme: 'Bearer', params: { realm: 'api', error: 'invalid_token' } },
      { scheme: 'DPoP', params: { algs: 'ES256 EdDSA' } },
      { scheme: 'Basic', params: {}, token68: 'abc==' },
    ]);
    expect(parseChallenges('Bearer')).toEqual([{ scheme: 'Bearer', params: {} }]);
  });

  it.each([
    ['a quote inside a quoted value', 'Bearer error_description="say "hi""'],
    ['a backslash inside a quoted value', 'Bearer error_description="a\\"b"'],
    ['non-ASCII', 'Bearer error_description="s\u00e9"'],
    ['a control character', 'Bearer error_description="a\tb"'],
    ['an unterminated quoted value', 'Bearer realm="api'],
    ['a parameter twice', 'Bearer realm="a", realm="b"'],
    ['an empty list element', 'Bearer realm="a",, DPoP'],
    ['a trailing comma', 'Bearer realm="a",'],
    ['a value that is no token', 'Bearer realm=a b'],
    ['no scheme', '="x"'],
  ])('refuses %s', (_what, header) => {
    expect(() => parseChallenges(header)).toThrow();
  });
});

describe('every error code through every writer of a challenge', () => {
  it('gives a well-formed, readable WWW-Authenticate (or none, for an outage)', async () => {
    const seen = new Set<string>();
    for (const code of CODES) {
      for (const { verifier, target } of targets) {
        const where = `${code} through ${target.name} (${verifier})`;
        const answer = await target.get(`Bearer ${code}`);
        const status = ERROR_STATUS[code];
        if (status >= 500) {
          // 503 with Retry-After from our writers; the SDK knows no 503 and answers 500.
          expect(answer.status, where).toBe(target.name.includes('SDK') ? 500 : 503);
          expect(answer.wwwAuthenticate, where).toBeNull();
          continue;
        }
        expect(answer.status, where).toBe(status);
        const header = answer.wwwAuthenticate;
        expect(header, where).toBeTypeOf('string');
        const challenges = (() => {
          try {
            return parseChallenges(header!);
          } catch (error) {
            throw new Error(`${where}: ${(error as Error).message}`);
          }
        })();
        const described = challenges.filter((challenge) => challenge.params.error !== undefined);
        if (code === 'ERR_TOKEN_MISSING' && !target.name.includes('SDK')) {
          expect(described, where).toEqual([]);
          continue;
        }
        expect(described, where).toHaveLength(1);
        const { error, error_description: description } = described[0]!.params;
        expect(error, where).toMatch(
          /^(invalid_token|insufficient_scope|invalid_dpop_proof|use_dpop_nonce|insufficient_user_authentication)$/,
        );
        expect(description, where).toContain(
          "expected audience 'https://api.test', found 'a?b' (RFC 9449 section 7.2)",
        );
        seen.add(target.name);
      }
    }
    expect([...seen].sort()).toEqual(
      [
        'express',
        'fastify',
        'hono',
        'node:http',
        'fetch handler',
        'mcpBearerAuth',
        "the SDK's requireBearerAuth",
      ].sort(),
    );
  });
});

describe('the messages of src/', () => {
  it('are plain ASCII wherever they can reach a header: no § read as ?, no typographic quotes', async () => {
    const src = join(import.meta.dirname, '..', '..', 'src');
    // The SPA helpers, the stub issuer and the CLI write no challenge of ours.
    const elsewhere = /^(pkce|testing|cli)\//;
    const files = (await readdir(src, { recursive: true })).filter(
      (file) => file.endsWith('.ts') && !elsewhere.test(file.replaceAll('\\', '/')),
    );
    expect(files.length).toBeGreaterThan(50);
    const found: string[] = [];
    for (const file of files) {
      const lines = (await readFile(join(src, file), 'utf8')).split('\n');
      lines.forEach((line, index) => {
        const code = line.trim();
        if (/^(\*|\/\/|\/\*)/.test(code)) return; // comments may cite §
        if (/[^\x20-\x7e]/.test(code.replace(/\s+\/\/.*$/, '')))
          found.push(`src/${file}:${index + 1}: ${code}`);
      });
    }
    expect(found).toEqual([]);
  });
});

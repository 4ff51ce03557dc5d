// The token helpers over real HTTP, against node:http servers on 127.0.0.1 (no msw), shaped
// like servers whose token-endpoint errors are not RFC 6749's 400/401 with JSON: Auth0 (403
// invalid_grant), Glewlwyd 2.7 (403 with its own codes, empty 401 and 400 bodies), rate
// limits (429 with Retry-After), 5xx, an HTML page from a gateway, and broken connections.
import { createHash } from 'node:crypto';
import { type IncomingHttpHeaders, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthorizationServerMetadata,
  JwtVerifyError,
  TokenEndpointError,
  TokenEndpointRefusedError,
  createPkcePair,
  exchangeAuthorizationCode,
  isJwtVerifyError,
  refreshTokens,
  revokeToken,
} from '../../src/pkce/index.js';
import { expectAnswerError } from './fixtures.js';
import { caught } from '../support/rejections.js';

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  /** The raw form, as it came over the wire. */
  raw: string;
  form: URLSearchParams;
}

type Handler = (request: Received, res: ServerResponse) => void;

let handle: Handler = (_request, res) => res.writeHead(500).end();
const received: Received[] = [];
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString('utf8');
    const request = { path: req.url ?? '/', headers: req.headers, raw, form: new URLSearchParams(raw) };
    received.push(request);
    handle(request, res);
  });
});
let origin = '';

beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  received.length = 0;
});
afterAll(async () => {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeAllConnections();
  await closed;
});

/** A server of its own for one test, on another port (so no pooled connection is shared). */
async function ownServer(
  handler: Parameters<typeof createServer>[1] = () => undefined,
): Promise<{ port: number; close: () => Promise<void> }> {
  const own = createServer(handler);
  await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
  return {
    port: (own.address() as AddressInfo).port,
    close: async () => {
      const closed = new Promise<void>((resolve) => own.close(() => resolve()));
      own.closeAllConnections();
      await closed;
    },
  };
}

/**
 * For a describe block: the server answers with `handler` (set in beforeAll); returns the
 * metadata of its token and revocation endpoints.
 */
function shapedServer(tokenPath: string, revokePath: string, handler: Handler) {
  beforeAll(() => {
    handle = handler;
  });
  return () => metadataAt(tokenPath, revokePath);
}

/** Metadata of the server under test, at a path like the real one's. */
function metadataAt(tokenPath: string, revokePath: string): AuthorizationServerMetadata {
  return {
    issuer: `${origin}/`,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}${tokenPath}`,
    revocation_endpoint: `${origin}${revokePath}`,
    code_challenge_methods_supported: ['S256'],
  };
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  res
    .writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      ...headers,
    })
    .end(JSON.stringify(body));
}

/** An answer without a body at all, as Glewlwyd sends its refusals. */
function empty(res: ServerResponse, status: number, headers: Record<string, string> = {}) {
  res.writeHead(status, { 'content-length': '0', ...headers }).end();
}

const s256 = (verifier: string) => createHash('sha256').update(verifier).digest('base64url');
const tokens = { access_token: 'at-1', token_type: 'Bearer', expires_in: 86400, refresh_token: 'rt-2' };
const REDIRECT_URI = 'https://app.example.com/callback';

describe('an Auth0-shaped token endpoint (403 for a refused grant)', () => {
  let challenge = '';
  const CODE = 'Xy8VbW2nLm4Qp7Rt';
  // Auth0 keeps the code's code_challenge and checks the verifier against it.
  const metadata = shapedServer('/oauth/token', '/oauth/revoke', ({ path, form }, res) => {
    if (path !== '/oauth/token') return json(res, 404, { error: 'not_found' });
    if (form.get('code') !== CODE) {
      return json(res, 403, { error: 'invalid_grant', error_description: 'Invalid authorization code' });
    }
    if (s256(form.get('code_verifier') ?? '') !== challenge) {
      return json(res, 403, { error: 'invalid_grant', error_description: 'Failed to verify code verifier' });
    }
    return json(res, 200, tokens);
  });

  it('turns 403 invalid_grant for a wrong code_verifier into a TokenEndpointError with status 403', async () => {
    const right = await createPkcePair();
    const wrong = await createPkcePair();
    challenge = right.codeChallenge;
    const options = { clientId: 'spa', code: CODE, redirectUri: REDIRECT_URI };
    const error = await caught(() =>
      exchangeAuthorizationCode(metadata(), { ...options, codeVerifier: wrong.codeVerifier }),
    );
    expectAnswerError(error, TokenEndpointError, {
      status: 403,
      error: 'invalid_grant',
      error_description: 'Failed to verify code verifier',
      error_uri: undefined,
      retryAfterSeconds: undefined,
    });
    expect(error.message).toBe(
      `${origin}/oauth/token answered invalid_grant: Failed to verify code verifier`,
    );
    expect(error.message).not.toContain(wrong.codeVerifier);
    // Only the verifier was wrong: the same server takes the right one.
    await expect(
      exchangeAuthorizationCode(metadata(), { ...options, codeVerifier: right.codeVerifier }),
    ).resolves.toEqual(tokens);
    expect(received).toHaveLength(2);
  });

  it('turns 403 invalid_grant for an unknown code into a TokenEndpointError too', async () => {
    const { codeVerifier } = await createPkcePair();
    const error = await caught(() =>
      exchangeAuthorizationCode(metadata(), {
        clientId: 'spa',
        code: 'spent-code',
        codeVerifier,
        redirectUri: REDIRECT_URI,
      }),
    );
    expectAnswerError(error, TokenEndpointError, { status: 403, error: 'invalid_grant' });
  });
});

describe('a Glewlwyd 2.7-shaped server (403 with its own codes, empty 400 and 401)', () => {
  const CLIENT = 'glewlwyd-spa';
  const REVOKED = 'revoked-refresh-token-5f2c9d';
  const metadata = shapedServer('/api/oidc/token', '/api/oidc/revoke', ({ path, form }, res) => {
    if (path === '/api/oidc/revoke') {
      // A revocation the server will not do for this client: 401 and nothing else.
      return empty(res, 401);
    }
    if (form.get('client_id') !== CLIENT) return json(res, 403, { error: 'unauthorized_client' });
    if (form.get('grant_type') === 'refresh_token') {
      return form.get('refresh_token') === REVOKED ? empty(res, 400) : json(res, 200, tokens);
    }
    if (form.get('resource') && form.get('resource') !== 'https://api.example.com') {
      return json(res, 403, { error: 'invalid_target', error_description: 'resource not allowed' });
    }
    return json(res, 403, { error: 'invalid_code', error_description: 'Invalid code' });
  });

  const exchange = async (overrides: Record<string, string> = {}) => ({
    clientId: CLIENT,
    code: 'c0de-7a1b',
    codeVerifier: (await createPkcePair()).codeVerifier,
    redirectUri: REDIRECT_URI,
    ...overrides,
  });

  it.each([
    ['invalid_code', {}, 'Invalid code'],
    ['unauthorized_client', { clientId: 'other-client' }, undefined],
    ['invalid_target', { resource: 'https://elsewhere.example.com' }, 'resource not allowed'],
  ])('keeps its non-standard 403 %s as a TokenEndpointError', async (code, overrides, description) => {
    const options = await exchange(overrides);
    const error = await caught(() => exchangeAuthorizationCode(metadata(), options));
    expectAnswerError(error, TokenEndpointError, {
      status: 403,
      error: code,
      error_description: description,
    });
  });

  it('refuses a refresh of a revoked token (400, empty body) with a TokenEndpointRefusedError', async () => {
    const error = await caught(() => refreshTokens(metadata(), { clientId: CLIENT, refreshToken: REVOKED }));
    expectAnswerError(error, TokenEndpointRefusedError);
    expect(error).not.toBeInstanceOf(TokenEndpointError);
    expect(error).not.toBeInstanceOf(JwtVerifyError);
    expect(error).toMatchObject({
      name: 'TokenEndpointRefusedError',
      status: 400,
      bodyExcerpt: '',
      retryAfterSeconds: undefined,
    });
    expect(error.message).toBe(`${origin}/api/oidc/token answered 400 without an OAuth error (empty body)`);
    // The same endpoint still refreshes a live token: the refusal was about this one.
    await expect(
      refreshTokens(metadata(), { clientId: CLIENT, refreshToken: 'live-token' }),
    ).resolves.toEqual(tokens);
  });

  it('reports a refused revocation (401, empty body) as a TokenEndpointRefusedError', async () => {
    const error = await caught(() => revokeToken(metadata(), { clientId: CLIENT, token: 'rt-1' }));
    expectAnswerError(error, TokenEndpointRefusedError, { status: 401, bodyExcerpt: '' });
    expect(error.message).toBe(`${origin}/api/oidc/revoke answered 401 without an OAuth error (empty body)`);
    expect(received.map((r) => r.path)).toEqual(['/api/oidc/revoke']);
  });
});

describe('what other answers of the token endpoint become', () => {
  const metadata = () => metadataAt('/token', '/revoke');
  const refresh = (options: Partial<Parameters<typeof refreshTokens>[1]> = {}) =>
    caught(() => refreshTokens(metadata(), { clientId: 'spa', refreshToken: 'rt-8c41e0b7', ...options }));

  it.each([
    [
      'with an OAuth error body into TokenEndpointError',
      (res: ServerResponse) =>
        json(
          res,
          429,
          { error: 'too_many_requests', error_description: 'Global limit has been reached' },
          { 'retry-after': '17' },
        ),
      TokenEndpointError,
      { error: 'too_many_requests', retryAfterSeconds: 17 },
    ],
    [
      'without a body into TokenEndpointRefusedError',
      (res: ServerResponse) => empty(res, 429, { 'retry-after': '30' }),
      TokenEndpointRefusedError,
      { bodyExcerpt: '', retryAfterSeconds: 30 },
    ],
  ])('reads Retry-After of a 429 %s.retryAfterSeconds', async (_what, answer, type, fields) => {
    handle = (_request, res) => answer(res);
    expectAnswerError(await refresh(), type, { status: 429, ...fields });
  });

  it('takes a Retry-After date too, capped at 300 seconds like the verifier', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toUTCString();
    handle = (_request, res) => empty(res, 429, { 'retry-after': inAnHour });
    const error = await refresh();
    expectAnswerError(error, TokenEndpointRefusedError);
    expect(error.retryAfterSeconds).toBe(300);
  });

  it('reports an HTML 403 from a gateway as a refusal with a short one-line excerpt', async () => {
    const page = `<html>\n<head><title>403 Forbidden</title></head>\n<body>\n${'<p>Request blocked.</p>\n'.repeat(20)}</body>\n</html>`;
    handle = (_request, res) => res.writeHead(403, { 'content-type': 'text/html' }).end(page);
    const error = await refresh();
    expectAnswerError(error, TokenEndpointRefusedError);
    const excerpt = error.bodyExcerpt as string;
    expect(
      excerpt.startsWith('<html> <head><title>403 Forbidden</title></head> <body> <p>Request blocked.</p>'),
    ).toBe(true);
    expect(excerpt).toHaveLength(100);
    expect(excerpt.endsWith('...')).toBe(true);
    expect(excerpt).not.toMatch(/\n/);
    expect(error.message).toBe(`${origin}/token answered 403 without an OAuth error: ${excerpt}`);
  });

  it.each([
    ['an error that is not a string', { error: { code: 'E42' } }],
    ['a message but no error', { message: 'Bad Request' }],
    ['an array', [{ error: 'invalid_grant' }]],
    ['null', null],
  ])('reports a 400 with JSON holding %s as a refusal', async (_label, body) => {
    handle = (_request, res) => json(res, 400, body);
    const error = await refresh();
    expectAnswerError(error, TokenEndpointRefusedError, { status: 400, bodyExcerpt: JSON.stringify(body) });
  });

  it('never echoes the secrets of the request in the excerpt or the message', async () => {
    // A debugging proxy that shows the request it refused: form and Authorization header.
    handle = ({ raw, headers }, res) =>
      res
        .writeHead(400, { 'content-type': 'text/plain' })
        .end([headers.authorization, raw].filter(Boolean).join(' '));
    const { codeVerifier } = await createPkcePair();
    const secret = 's3cr/t+ é';
    const code = 'SplxlOBeZQQYbYS6WxSbIA';
    const error = await caught(() =>
      exchangeAuthorizationCode(metadata(), {
        clientId: 'web',
        clientSecret: secret,
        code,
        codeVerifier,
        redirectUri: REDIRECT_URI,
      }),
    );
    expectAnswerError(error, TokenEndpointRefusedError);
    const basic = received[0]!.headers.authorization!.slice('Basic '.length);
    const shown = `${error.bodyExcerpt as string} ${error.message}`;
    for (const value of [
      code,
      codeVerifier,
      basic,
      secret,
      new URLSearchParams({ v: secret }).toString().slice(2),
    ]) {
      expect(shown).not.toContain(value);
    }
    expect(error.bodyExcerpt).toMatch(/^Basic \[redacted\] grant_type=authorization_code&code=\[redacted\]/);
    expect(error.bodyExcerpt).toContain('code_verifier=[redacted]');

    // client_secret_post: the secret goes in the form, so the echo shows it form-encoded.
    const posted = await caught(() =>
      refreshTokens(
        { ...metadata(), token_endpoint_auth_methods_supported: ['client_secret_post'] },
        { clientId: 'web', clientSecret: secret, refreshToken: 'rt-8c41e0b7' },
      ),
    );
    expectAnswerError(posted, TokenEndpointRefusedError);
    expect(received[1]!.raw).toContain(new URLSearchParams({ v: secret }).toString().slice(2));
    expect(posted.bodyExcerpt).toBe(
      'grant_type=refresh_token&refresh_token=[redacted]&client_id=web&client_secret=[redacted]',
    );

    const refused = await refresh({ clientSecret: 'k3y' });
    expectAnswerError(refused, TokenEndpointRefusedError);
    expect(`${refused.bodyExcerpt as string} ${refused.message}`).not.toContain('rt-8c41e0b7');
    expect(refused.bodyExcerpt).toContain('refresh_token=[redacted]');
  });

  it('keeps a 500, even with OAuth error JSON, ERR_ISSUER_UNAVAILABLE', async () => {
    handle = (_request, res) => json(res, 500, { error: 'server_error', error_description: 'boom' });
    const error = await refresh();
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error).not.toBeInstanceOf(TokenEndpointError);
    expect(error.status).toBe(503);
    expect(error.details).toEqual({ url: `${origin}/token`, issuerStatus: 500 });
  });

  it('keeps a dropped connection ERR_ISSUER_UNAVAILABLE', async () => {
    handle = (_request, res) => res.socket!.destroy();
    const error = await refresh();
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.details).toEqual({ url: `${origin}/token` });
    expect(error.message).toMatch(/could not be fetched/);
  });

  it('keeps a refused connection ERR_ISSUER_UNAVAILABLE', async () => {
    const closed = await ownServer();
    await closed.close();
    const { port } = closed;
    const error = await caught(() =>
      refreshTokens(
        { ...metadata(), token_endpoint: `http://127.0.0.1:${port}/token` },
        { clientId: 'spa', refreshToken: 'rt-1' },
      ),
    );
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.message).toMatch(/could not be fetched/);
  });

  it('keeps a server that never answers ERR_ISSUER_UNAVAILABLE after timeoutMs', async () => {
    // Its own server: the request abandoned at the timeout leaves a connection behind.
    const silent = await ownServer();
    const url = `http://127.0.0.1:${silent.port}/token`;
    try {
      const error = await caught(() =>
        refreshTokens(
          { ...metadata(), token_endpoint: url },
          { clientId: 'spa', refreshToken: 'rt-1', timeoutMs: 100 },
        ),
      );
      expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
      expect(error.message).toBe(`${url} did not answer within 100 ms`);
    } finally {
      await silent.close();
    }
  });
});

describe('the same rules for every helper that posts to the issuer', () => {
  const metadata = () => metadataAt('/token', '/revoke');
  const helpers = [
    [
      'exchangeAuthorizationCode',
      () =>
        exchangeAuthorizationCode(metadata(), {
          clientId: 'spa',
          code: 'code-1',
          codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
          redirectUri: REDIRECT_URI,
        }),
    ],
    ['refreshTokens', () => refreshTokens(metadata(), { clientId: 'spa', refreshToken: 'rt-1' })],
    ['revokeToken', () => revokeToken(metadata(), { clientId: 'spa', token: 'rt-1' })],
  ] as const;

  it.each(helpers)('%s: a 403 with OAuth error JSON is a TokenEndpointError', async (_name, call) => {
    handle = (_request, res) => json(res, 403, { error: 'access_denied', error_uri: 'https://docs.test/e' });
    const error = await caught(call);
    expectAnswerError(error, TokenEndpointError, {
      status: 403,
      error: 'access_denied',
      error_uri: 'https://docs.test/e',
    });
  });

  it.each(helpers)('%s: an empty 401 is a TokenEndpointRefusedError', async (_name, call) => {
    handle = (_request, res) => empty(res, 401);
    const error = await caught(call);
    expectAnswerError(error, TokenEndpointRefusedError, { status: 401, bodyExcerpt: '' });
  });

  it.each(helpers)('%s: a 429 carries Retry-After', async (_name, call) => {
    handle = (_request, res) => res.writeHead(429, { 'retry-after': '5' }).end('slow down');
    const error = await caught(call);
    expectAnswerError(error, TokenEndpointRefusedError, {
      status: 429,
      bodyExcerpt: 'slow down',
      retryAfterSeconds: 5,
    });
  });

  it.each(helpers)('%s: a 502 page is ERR_ISSUER_UNAVAILABLE', async (_name, call) => {
    handle = (_request, res) =>
      res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
    const error = await caught(call);
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.details).toMatchObject({ issuerStatus: 502 });
  });
});

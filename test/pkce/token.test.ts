import { HttpResponse, delay, http } from 'msw';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TokenEndpointError,
  TokenEndpointRefusedError,
  exchangeAuthorizationCode,
  isJwtVerifyError,
  refreshTokens,
  revokeToken,
} from '../../src/pkce/index.js';
import { REVOKE, TOKEN, exchange, expectAnswerError, metadata } from './fixtures.js';
import { useMsw } from '../support/msw.js';
import { caught } from '../support/rejections.js';

interface Seen {
  url: string;
  method: string;
  contentType: string | null;
  authorization: string | null;
  custom: string | null;
  form: URLSearchParams;
}

const server = useMsw();
const seen: Seen[] = [];
afterEach(() => {
  seen.length = 0;
});

function answer(url: string, respond: () => Response | Promise<Response>) {
  server.use(
    http.post(url, async ({ request }) => {
      seen.push({
        url: request.url,
        method: request.method,
        contentType: request.headers.get('content-type'),
        authorization: request.headers.get('authorization'),
        custom: request.headers.get('x-custom'),
        form: new URLSearchParams(await request.text()),
      });
      return respond();
    }),
  );
}

const tokens = {
  access_token: 'at-1',
  token_type: 'Bearer',
  expires_in: 86400,
  refresh_token: 'rt-1',
  id_token: 'id-1',
  scope: 'openid profile offline_access',
  vendor_field: 42,
};

describe('exchangeAuthorizationCode', () => {
  it('POSTs a form with the code and verifier and returns the server fields as they are', async () => {
    answer(TOKEN, () => HttpResponse.json(tokens));
    await expect(exchangeAuthorizationCode(metadata, exchange)).resolves.toEqual(tokens);
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request!.method).toBe('POST');
    expect(request!.contentType).toBe('application/x-www-form-urlencoded');
    expect(request!.url).toBe(TOKEN);
    expect(Object.fromEntries(request!.form)).toEqual({
      grant_type: 'authorization_code',
      code: 'code-1',
      code_verifier: exchange.codeVerifier,
      redirect_uri: 'https://app.example.com/callback',
      client_id: 'spa-client',
    });
    expect(request!.authorization).toBeNull();
  });

  it('sends resource indicators and extra parameters in the body', async () => {
    answer(TOKEN, () => HttpResponse.json(tokens));
    await exchangeAuthorizationCode(metadata, {
      ...exchange,
      resource: ['https://api.example.com', 'https://billing.example.com'],
      extraParams: { audience: 'https://v1.api.altostrat.io' },
    });
    expect(seen[0]!.form.getAll('resource')).toEqual([
      'https://api.example.com',
      'https://billing.example.com',
    ]);
    expect(seen[0]!.form.get('audience')).toBe('https://v1.api.altostrat.io');
  });

  it('refuses extraParams that would replace the grant parameters', async () => {
    for (const name of ['code_verifier', 'grant_type', 'client_id', 'code']) {
      const error = await caught(() =>
        exchangeAuthorizationCode(metadata, { ...exchange, extraParams: { [name]: 'x' } }),
      );
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(seen).toHaveLength(0);
  });

  it('authenticates a confidential client with client_secret_basic, form-encoding id and secret', async () => {
    answer(TOKEN, () => HttpResponse.json(tokens));
    await exchangeAuthorizationCode(metadata, { ...exchange, clientId: 'id:1', clientSecret: 's3cr3t/+ é' });
    const request = seen[0]!;
    expect(request.authorization).toBe(`Basic ${btoa('id%3A1:s3cr3t%2F%2B+%C3%A9')}`);
    expect(request.form.has('client_id')).toBe(false);
    expect(request.form.has('client_secret')).toBe(false);
    expect(request.url).not.toContain('s3cr3t');
  });

  it('uses client_secret_post when the server lists only that', async () => {
    answer(TOKEN, () => HttpResponse.json(tokens));
    await exchangeAuthorizationCode(
      { ...metadata, token_endpoint_auth_methods_supported: ['client_secret_post'] },
      { ...exchange, clientSecret: 's3cr3t' },
    );
    const request = seen[0]!;
    expect(request.authorization).toBeNull();
    expect(request.form.get('client_id')).toBe('spa-client');
    expect(request.form.get('client_secret')).toBe('s3cr3t');
    expect(request.url).toBe(TOKEN);
  });

  it('turns an RFC 6749 §5.2 error into a TokenEndpointError', async () => {
    answer(TOKEN, () =>
      HttpResponse.json(
        {
          error: 'invalid_grant',
          error_description: 'PKCE verification failed',
          error_uri: 'https://docs.example/e',
        },
        { status: 400 },
      ),
    );
    const error = await caught(() => exchangeAuthorizationCode(metadata, exchange));
    expectAnswerError(error, TokenEndpointError, {
      error: 'invalid_grant',
      error_description: 'PKCE verification failed',
      error_uri: 'https://docs.example/e',
      status: 400,
    });
    expect(error.message).toBe(`${TOKEN} answered invalid_grant: PKCE verification failed`);
  });

  it('reads a 401 invalid_client error too', async () => {
    answer(TOKEN, () => HttpResponse.json({ error: 'invalid_client' }, { status: 401 }));
    const error = await caught(() => exchangeAuthorizationCode(metadata, exchange));
    expect(error).toMatchObject({ error: 'invalid_client', status: 401, error_description: undefined });
  });

  it('reports a 400 without OAuth error JSON as a TokenEndpointRefusedError, not an outage', async () => {
    answer(TOKEN, () =>
      HttpResponse.json({ message: 'Bad Request', type: 'ApiErrorResponse' }, { status: 400 }),
    );
    const error = await caught(() => exchangeAuthorizationCode(metadata, exchange));
    expectAnswerError(error, TokenEndpointRefusedError, {
      status: 400,
      bodyExcerpt: '{"message":"Bad Request","type":"ApiErrorResponse"}',
    });
    expect(error.message).toBe(
      `${TOKEN} answered 400 without an OAuth error: {"message":"Bad Request","type":"ApiErrorResponse"}`,
    );
  });

  it('reports a 5xx as ERR_ISSUER_UNAVAILABLE naming the endpoint and the status', async () => {
    answer(TOKEN, () =>
      HttpResponse.json(
        { error: 'temporarily_unavailable', error_description: 'try later' },
        { status: 503, headers: { 'retry-after': '30' } },
      ),
    );
    const error = await caught(() => exchangeAuthorizationCode(metadata, exchange));
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.message).toBe(`${TOKEN} answered 503`);
    // The browser-sized transport leaves the server's text and Retry-After to the verifier.
    expect(error.details).toEqual({ url: TOKEN, issuerStatus: 503 });
  });

  it('reports a network failure as ERR_ISSUER_UNAVAILABLE', async () => {
    answer(TOKEN, () => HttpResponse.error());
    const error = await caught(() => exchangeAuthorizationCode(metadata, exchange));
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
  });

  it('gives up after timeoutMs', async () => {
    answer(TOKEN, async () => {
      await delay('infinite');
      return HttpResponse.json(tokens);
    });
    const error = await caught(() => exchangeAuthorizationCode(metadata, { ...exchange, timeoutMs: 50 }));
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.message).toMatch(/within 50 ms/);
  });

  it.each([
    ['no access_token', { token_type: 'Bearer' }],
    ['an empty access_token', { access_token: '', token_type: 'Bearer' }],
    ['a numeric access_token', { access_token: 1, token_type: 'Bearer' }],
    ['no token_type', { access_token: 'at' }],
    ['an array', [tokens]],
  ])('refuses a success answer with %s', async (_label, body) => {
    answer(TOKEN, () => HttpResponse.json(body));
    const error = await caught(() => exchangeAuthorizationCode(metadata, exchange));
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.message).toMatch(/access_token and token_type/);
  });

  it('uses the fetch, timeoutMs and headers options', async () => {
    answer(TOKEN, () => HttpResponse.json(tokens));
    let calls = 0;
    const fetch: typeof globalThis.fetch = (input, init) => {
      calls++;
      return globalThis.fetch(input, init);
    };
    await exchangeAuthorizationCode(metadata, { ...exchange, fetch, headers: { 'x-custom': 'yes' } });
    expect(calls).toBe(1);
    expect(seen[0]!.custom).toBe('yes');
  });

  it('refuses to send a code to an http: token endpoint that is not loopback', async () => {
    const insecure = { ...metadata, token_endpoint: 'http://signin.altostrat.io/oauth/token' };
    const error = await caught(() => exchangeAuthorizationCode(insecure, exchange));
    expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
    expect(error.message).toMatch(/https/);
    expect(seen).toHaveLength(0);
  });

  it('allows an http: token endpoint on loopback, or with allowInsecureHttp', async () => {
    answer('http://127.0.0.1:8080/token', () => HttpResponse.json(tokens));
    answer('http://issuer.internal/token', () => HttpResponse.json(tokens));
    await exchangeAuthorizationCode({ ...metadata, token_endpoint: 'http://127.0.0.1:8080/token' }, exchange);
    await exchangeAuthorizationCode(
      { ...metadata, token_endpoint: 'http://issuer.internal/token' },
      { ...exchange, allowInsecureHttp: true },
    );
    expect(seen.map((r) => r.url)).toEqual(['http://127.0.0.1:8080/token', 'http://issuer.internal/token']);
  });

  it('refuses a missing token endpoint', async () => {
    const error = await caught(() =>
      exchangeAuthorizationCode({ ...metadata, token_endpoint: undefined }, exchange),
    );
    expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
  });

  it.each(['clientId', 'code', 'codeVerifier', 'redirectUri'] as const)(
    'refuses a missing %s',
    async (name) => {
      const error = await caught(() =>
        exchangeAuthorizationCode(metadata, { ...exchange, [name]: undefined }),
      );
      expectAnswerError(error, TypeError);
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toContain(name);
      expect(seen).toHaveLength(0);
    },
  );
});

describe('refreshTokens', () => {
  it('POSTs grant_type=refresh_token and returns the rotated tokens', async () => {
    answer(TOKEN, () => HttpResponse.json({ ...tokens, refresh_token: 'rt-2' }));
    const refreshed = await refreshTokens(metadata, {
      clientId: 'spa-client',
      refreshToken: 'rt-1',
      scope: 'openid',
      resource: 'https://api.example.com',
    });
    expect(refreshed.refresh_token).toBe('rt-2');
    expect(Object.fromEntries(seen[0]!.form)).toEqual({
      grant_type: 'refresh_token',
      refresh_token: 'rt-1',
      scope: 'openid',
      client_id: 'spa-client',
      resource: 'https://api.example.com',
    });
    expect(seen[0]!.contentType).toBe('application/x-www-form-urlencoded');
    expect(seen[0]!.url).toBe(TOKEN);
  });

  it('rejects with invalid_grant for a spent refresh token', async () => {
    answer(TOKEN, () =>
      HttpResponse.json(
        { error: 'invalid_grant', error_description: 'Unknown or invalid refresh token.' },
        { status: 400 },
      ),
    );
    const error = await caught(() =>
      refreshTokens(metadata, { clientId: 'spa-client', refreshToken: 'rt-0' }),
    );
    expectAnswerError(error, TokenEndpointError);
    expect(error.error).toBe('invalid_grant');
  });
});

describe('revokeToken', () => {
  it('POSTs the token with its hint and resolves on an empty 200', async () => {
    answer(REVOKE, () => new HttpResponse(null, { status: 200 }));
    await expect(
      revokeToken(metadata, { clientId: 'spa-client', token: 'rt-1', tokenTypeHint: 'refresh_token' }),
    ).resolves.toBeUndefined();
    expect(seen[0]!.url).toBe(REVOKE);
    expect(seen[0]!.contentType).toBe('application/x-www-form-urlencoded');
    expect(Object.fromEntries(seen[0]!.form)).toEqual({
      token: 'rt-1',
      token_type_hint: 'refresh_token',
      client_id: 'spa-client',
    });
  });

  it('resolves on a 200 with a body that is not JSON', async () => {
    answer(REVOKE, () => new HttpResponse('OK', { status: 200, headers: { 'content-type': 'text/plain' } }));
    await expect(revokeToken(metadata, { clientId: 'spa-client', token: 'rt-1' })).resolves.toBeUndefined();
  });

  it('authenticates with client_secret_post when the revocation endpoint lists only that', async () => {
    answer(REVOKE, () => new HttpResponse(null, { status: 200 }));
    await revokeToken(
      { ...metadata, revocation_endpoint_auth_methods_supported: ['client_secret_post'] },
      { clientId: 'web', clientSecret: 'sec', token: 'rt-1' },
    );
    expect(seen[0]!.authorization).toBeNull();
    expect(seen[0]!.form.get('client_secret')).toBe('sec');
  });

  it('turns unsupported_token_type into a TokenEndpointError', async () => {
    answer(REVOKE, () => HttpResponse.json({ error: 'unsupported_token_type' }, { status: 400 }));
    const error = await caught(() => revokeToken(metadata, { clientId: 'spa-client', token: 'at-1' }));
    expectAnswerError(error, TokenEndpointError, { error: 'unsupported_token_type', status: 400 });
  });

  it('reports a 503 as ERR_ISSUER_UNAVAILABLE with the status (RFC 7009 §2.2.1)', async () => {
    answer(REVOKE, () => new HttpResponse('busy', { status: 503, headers: { 'retry-after': '5' } }));
    const error = await caught(() => revokeToken(metadata, { clientId: 'spa-client', token: 'rt-1' }));
    expect(isJwtVerifyError(error, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(error.details).toEqual({ url: REVOKE, issuerStatus: 503 });
  });

  it('refuses metadata without a revocation endpoint', async () => {
    const error = await caught(() =>
      revokeToken({ ...metadata, revocation_endpoint: undefined }, { clientId: 'spa-client', token: 'rt-1' }),
    );
    expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
    expect(error.message).toContain('revocation_endpoint');
  });
});

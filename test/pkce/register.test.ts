// RFC 7591 dynamic client registration: registerClient() against the stub issuer's
// registration endpoint over real HTTP (then the client it registered logs in), and the
// answers a real server may give, through the issuer's fault injection.
import { describe, expect, it } from 'vitest';
import {
  ClientRegistrationError,
  OAuthEndpointError,
  TokenEndpointError,
  TokenEndpointRefusedError,
  buildAuthorizationUrl,
  discover,
  exchangeAuthorizationCode,
  isJwtVerifyError,
  parseAuthorizationResponse,
  registerClient,
} from '../../src/pkce/index.js';
import { createTestIssuer } from '../../src/testing/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { expectAnswerError } from './fixtures.js';
import { caught } from '../support/rejections.js';

const REDIRECT = 'http://127.0.0.1:8765/callback';
const issuer = useTestIssuer({ listen: true, audience: 'https://api.test' });

/** Follows the stub's /authorize redirect and returns the code, as a browser would. */
async function authorize(url: string, state: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual' });
  const metadata = await discover(issuer.issuer);
  return parseAuthorizationResponse(response.headers.get('location')!, { expectedState: state, metadata })
    .code;
}

describe('registerClient against the stub issuer', () => {
  it('registers a public client by default, which then logs in with PKCE', async () => {
    const metadata = await discover(issuer.issuer);
    expect(metadata.registration_endpoint).toBe(`${issuer.issuer}/register`);
    const client = await registerClient(metadata, {
      client_name: 'CLI',
      redirect_uris: [REDIRECT],
      application_type: 'native',
    });
    expect(client).toMatchObject({
      client_id: expect.stringMatching(/^client-/),
      client_name: 'CLI',
      application_type: 'native',
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      client_id_issued_at: expect.any(Number),
    });
    expect(client.client_secret).toBeUndefined();

    const { url, state, codeVerifier } = await buildAuthorizationUrl(metadata, {
      clientId: client.client_id,
      redirectUri: REDIRECT,
      resource: 'https://api.test/mcp',
    });
    const code = await authorize(url, state);
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: client.client_id,
      code,
      codeVerifier,
      redirectUri: REDIRECT,
      resource: 'https://api.test/mcp',
    });
    const payload = JSON.parse(Buffer.from(tokens.access_token.split('.')[1]!, 'base64url').toString());
    expect(payload).toMatchObject({ client_id: client.client_id, aud: 'https://api.test/mcp' });
  });

  it('holds a registered client to its redirect URIs', async () => {
    const metadata = await discover(issuer.issuer);
    const client = await registerClient(metadata, { redirect_uris: [REDIRECT] });
    const { url } = await buildAuthorizationUrl(metadata, {
      clientId: client.client_id,
      redirectUri: 'https://attacker.example/cb',
    });
    const response = await fetch(url, { redirect: 'manual' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: 'invalid_request',
      error_description: /not registered/,
    });
  });

  it('registers a confidential client when asked: it gets a secret, and the token endpoint wants it', async () => {
    const metadata = await discover(issuer.issuer);
    const client = await registerClient(metadata, {
      redirect_uris: [REDIRECT],
      token_endpoint_auth_method: 'client_secret_basic',
    });
    expect(client.client_secret).toMatch(/^[\w-]{43}$/);
    expect(client.client_secret_expires_at).toBe(0);
    const { url, state, codeVerifier } = await buildAuthorizationUrl(metadata, {
      clientId: client.client_id,
      redirectUri: REDIRECT,
    });
    const code = await authorize(url, state);
    const exchange = { clientId: client.client_id, code, codeVerifier, redirectUri: REDIRECT };
    const error = await caught(() => exchangeAuthorizationCode(metadata, exchange));
    expectAnswerError(error, TokenEndpointError);
    expect(error.error).toBe('invalid_client');
  });

  it('raises the RFC 7591 §3.2.2 error as a ClientRegistrationError (an OAuthEndpointError)', async () => {
    const metadata = await discover(issuer.issuer);
    const error = await caught(() =>
      registerClient(metadata, { redirect_uris: ['https://app.example/cb#frag'] }),
    );
    expectAnswerError(error, ClientRegistrationError, { error: 'invalid_redirect_uri', status: 400 });
    expect(error).toBeInstanceOf(OAuthEndpointError);
    expect(error).not.toBeInstanceOf(TokenEndpointError);
    expect(error.message).toContain('fragment');
    const metadataError = await caught(() =>
      registerClient(metadata, { redirect_uris: [REDIRECT], grant_types: ['password'] }),
    );
    expect(metadataError).toMatchObject({ error: 'invalid_client_metadata', status: 400 });
  });

  it('is ERR_ISSUER_UNAVAILABLE on a 5xx, or a success without client_id', async () => {
    const metadata = await discover(issuer.issuer);
    issuer.failNext('register', { status: 503 });
    const down = await caught(() => registerClient(metadata, { redirect_uris: [REDIRECT] }));
    expect(isJwtVerifyError(down, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    issuer.failNext('register', { status: 201, body: { client_name: 'no id' } });
    const empty = await caught(() => registerClient(metadata, { redirect_uris: [REDIRECT] }));
    expect(isJwtVerifyError(empty, 'ERR_ISSUER_UNAVAILABLE')).toBe(true);
    expect(empty.message).toContain('without a client_id');
    expect(issuer.requests.register).toBeGreaterThanOrEqual(2);
  });

  it('refuses a 4xx without an OAuth error as TokenEndpointRefusedError, the initial access token blanked out', async () => {
    const metadata = await discover(issuer.issuer);
    issuer.failNext('register', { status: 403, body: 'Forbidden for token iat-secret-42' });
    const refused = await caught(() =>
      registerClient(metadata, { redirect_uris: [REDIRECT] }, { initialAccessToken: 'iat-secret-42' }),
    );
    expectAnswerError(refused, TokenEndpointRefusedError, {
      status: 403,
      bodyExcerpt: expect.stringContaining('[redacted]'),
    });
    expect(refused.message).not.toContain('iat-secret-42');
    expect(refused.bodyExcerpt).not.toContain('iat-secret-42');
  });

  it('sends an initial access token as Bearer, and an error the server answers for it', async () => {
    const metadata = await discover(issuer.issuer);
    const seen: Request[] = [];
    const recording: typeof fetch = async (input, init) => {
      seen.push(new Request(input, init));
      return fetch(input, init);
    };
    issuer.failNext('register', {
      status: 401,
      body: { error: 'invalid_token', error_description: 'expired' },
    });
    const error = await caught(() =>
      registerClient(
        metadata,
        { redirect_uris: [REDIRECT] },
        { initialAccessToken: 'iat-123', fetch: recording },
      ),
    );
    expect(error).toMatchObject({ name: 'ClientRegistrationError', error: 'invalid_token', status: 401 });
    expect(seen[0]!.headers.get('authorization')).toBe('Bearer iat-123');
    expect(seen[0]!.headers.get('content-type')).toBe('application/json');
    expect(await seen[0]!.json()).toEqual({
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      redirect_uris: [REDIRECT],
    });
  });

  it('refuses a server without a registration endpoint, and bad arguments, before any request', async () => {
    const archera = await createTestIssuer({ profile: 'rfc8414' });
    const noEndpoint = await caught(() => registerClient(archera.metadata, { redirect_uris: [REDIRECT] }));
    expect(isJwtVerifyError(noEndpoint, 'ERR_METADATA_INVALID')).toBe(true);
    expect(noEndpoint.message).toContain('registration_endpoint');
    const metadata = await discover(issuer.issuer);
    const before = issuer.requests.register;
    for (const clientMetadata of [{}, { redirect_uris: [] }, { redirect_uris: [''] }, undefined]) {
      const error = await caught(() => registerClient(metadata, clientMetadata as never));
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(issuer.requests.register).toBe(before);
  });
});

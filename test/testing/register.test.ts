// The stub issuer's RFC 7591 registration endpoint over real HTTP: what it registers, how
// registered clients are then held, what it refuses.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';

describe('the registration endpoint (RFC 7591)', () => {
  let live: TestIssuer;
  beforeAll(async () => {
    live = await createTestIssuer({ listen: true, clients: [{ clientId: 'known' }] });
  });
  afterAll(() => live.close());

  const register = (body: unknown, init: RequestInit = {}) =>
    fetch(live.metadata.registration_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
      ...init,
    });

  it('registers a client that then counts as known, even where only configured clients are', async () => {
    const response = await register({
      redirect_uris: ['https://app.test/cb'],
      token_endpoint_auth_method: 'none',
    });
    expect(response.status).toBe(201);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const client = await response.json();
    expect(client).toMatchObject({
      redirect_uris: ['https://app.test/cb'],
      grant_types: ['authorization_code'],
    });
    const authorize = new URL(live.metadata.authorization_endpoint!);
    for (const [name, value] of Object.entries({
      client_id: client.client_id,
      redirect_uri: 'https://app.test/cb',
      response_type: 'code',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    })) {
      authorize.searchParams.set(name, value);
    }
    expect((await fetch(authorize, { redirect: 'manual' })).status).toBe(302);
    authorize.searchParams.set('client_id', 'never-registered');
    expect((await fetch(authorize, { redirect: 'manual' })).status).toBe(400);
    expect(live.requests.register).toBe(1);
  });

  it.each([
    ['no redirect_uris', {}, 'invalid_redirect_uri'],
    ['a relative redirect URI', { redirect_uris: ['/cb'] }, 'invalid_redirect_uri'],
    [
      'an unknown auth method',
      { redirect_uris: ['https://a.test/cb'], token_endpoint_auth_method: 'tls' },
      'invalid_client_metadata',
    ],
    [
      'the implicit response type',
      { redirect_uris: ['https://a.test/cb'], response_types: ['token'] },
      'invalid_client_metadata',
    ],
    ['an array body', [], 'invalid_client_metadata'],
    ['a body that is not JSON', '{', 'invalid_client_metadata'],
  ])('answers 400 %s with %s', async (_name, body, error) => {
    const response = await register(body);
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe(error);
  });

  it('wants a JSON POST', async () => {
    expect((await fetch(live.metadata.registration_endpoint!)).status).toBe(405);
    const form = await register('redirect_uris=x', {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(400);
  });

  it('is only in the default profile’s metadata', async () => {
    const archera = await createTestIssuer({ profile: 'rfc8414' });
    const auth0 = await createTestIssuer({ profile: 'auth0' });
    expect(archera.metadata.registration_endpoint).toBeUndefined();
    expect(auth0.metadata.registration_endpoint).toBeUndefined();
  });
});

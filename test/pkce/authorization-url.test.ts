import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildAuthorizationUrl, isJwtVerifyError } from '../../src/pkce/index.js';
import { RFC7636_CHALLENGE, RFC7636_VERIFIER, metadata } from './fixtures.js';
import { caught } from '../support/rejections.js';

const base = { clientId: 'spa-client', redirectUri: 'https://app.example.com/callback' };

describe('buildAuthorizationUrl', () => {
  it('builds a code + S256 PKCE request at the authorization endpoint', async () => {
    const request = await buildAuthorizationUrl(metadata, { ...base, scope: 'profile' });
    const url = new URL(request.url);
    expect(`${url.origin}${url.pathname}`).toBe('https://signin.altostrat.io/authorize');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code',
      client_id: 'spa-client',
      redirect_uri: 'https://app.example.com/callback',
      scope: 'profile',
      state: request.state,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
    });
    expect(request.codeChallenge).toBe(createHash('sha256').update(request.codeVerifier).digest('base64url'));
  });

  it('always sends a fresh random state and verifier', async () => {
    const first = await buildAuthorizationUrl(metadata, base);
    const second = await buildAuthorizationUrl(metadata, base);
    expect(first.state).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first.codeVerifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.state).not.toBe(first.state);
    expect(second.codeVerifier).not.toBe(first.codeVerifier);
    expect(new URL(first.url).searchParams.get('state')).toBe(first.state);
  });

  it('adds a random nonce when the scope asks for openid', async () => {
    const request = await buildAuthorizationUrl(metadata, { ...base, scope: 'openid profile' });
    expect(request.nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new URL(request.url).searchParams.get('nonce')).toBe(request.nonce);
  });

  it('sends no nonce without openid unless one is given', async () => {
    const without = await buildAuthorizationUrl(metadata, { ...base, scope: 'openidish profile' });
    expect(without.nonce).toBeUndefined();
    expect(new URL(without.url).searchParams.has('nonce')).toBe(false);
    const given = await buildAuthorizationUrl(metadata, { ...base, nonce: 'n-1' });
    expect(new URL(given.url).searchParams.get('nonce')).toBe('n-1');
  });

  it('uses a given state, nonce and verifier', async () => {
    const request = await buildAuthorizationUrl(metadata, {
      ...base,
      scope: 'openid',
      state: 'state-1',
      nonce: 'nonce-1',
      codeVerifier: RFC7636_VERIFIER,
    });
    expect(request).toMatchObject({
      state: 'state-1',
      nonce: 'nonce-1',
      codeVerifier: RFC7636_VERIFIER,
      codeChallenge: RFC7636_CHALLENGE,
    });
    expect(new URL(request.url).searchParams.get('code_challenge')).toBe(RFC7636_CHALLENGE);
  });

  it('sends Auth0 audience, RFC 8707 resources and the OpenID Connect extras', async () => {
    const { url } = await buildAuthorizationUrl(metadata, {
      ...base,
      audience: 'https://v1.api.altostrat.io',
      resource: ['https://api.example.com/', 'urn:example:billing'],
      responseMode: 'fragment',
      prompt: 'login',
      loginHint: 'user@example.com',
      extraParams: { organization: 'org_123', ui_locales: 'de' },
    });
    const params = new URL(url).searchParams;
    expect(params.get('audience')).toBe('https://v1.api.altostrat.io');
    expect(params.getAll('resource')).toEqual(['https://api.example.com/', 'urn:example:billing']);
    expect(params.get('response_mode')).toBe('fragment');
    expect(params.get('prompt')).toBe('login');
    expect(params.get('login_hint')).toBe('user@example.com');
    expect(params.get('organization')).toBe('org_123');
    expect(params.get('ui_locales')).toBe('de');
  });

  it('sends step-up acr_values (space-joined) and max_age (RFC 9470 §4)', async () => {
    const { url } = await buildAuthorizationUrl(metadata, {
      ...base,
      acrValues: ['urn:example:mfa', 'phr'],
      maxAge: 0,
    });
    const params = new URL(url).searchParams;
    expect(params.get('acr_values')).toBe('urn:example:mfa phr');
    expect(params.get('max_age')).toBe('0');
    const plain = new URL((await buildAuthorizationUrl(metadata, base)).url).searchParams;
    expect(plain.has('acr_values')).toBe(false);
    expect(plain.has('max_age')).toBe(false);
  });

  it.each([
    ['an empty acrValues list', { acrValues: [] }],
    ['a string for the acrValues list', { acrValues: 'mfa' as unknown as string[] }],
    ['an empty acr value', { acrValues: ['mfa', ''] }],
    ['an acr value with a space', { acrValues: ['multi factor'] }],
    ['a negative maxAge', { maxAge: -1 }],
    ['a fractional maxAge', { maxAge: 1.5 }],
    ['a NaN maxAge', { maxAge: Number.NaN }],
    ['a huge maxAge', { maxAge: 1e21 }],
  ])('refuses %s with a coded TypeError', async (_label, options) => {
    const error = await caught(() => buildAuthorizationUrl(metadata, { ...base, ...options }));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error).toBeInstanceOf(TypeError);
    expect(error.message).toMatch(/acrValues \(no spaces\) or maxAge \(whole seconds\)/);
  });

  it('takes a single resource string', async () => {
    const { url } = await buildAuthorizationUrl(metadata, { ...base, resource: 'https://api.example.com' });
    expect(new URL(url).searchParams.getAll('resource')).toEqual(['https://api.example.com']);
  });

  it('keeps a query the authorization endpoint already has (RFC 6749 §3.1)', async () => {
    const { url } = await buildAuthorizationUrl(
      { ...metadata, authorization_endpoint: 'https://login.example.com/authorize?p=b2c_1_signin' },
      base,
    );
    const params = new URL(url).searchParams;
    expect(params.get('p')).toBe('b2c_1_signin');
    expect(params.get('client_id')).toBe('spa-client');
  });

  it.each([
    'state',
    'code_challenge',
    'code_challenge_method',
    'client_id',
    'redirect_uri',
    'response_type',
    'nonce',
  ])('refuses extraParams that would replace %s', async (name) => {
    const error = await caught(() =>
      buildAuthorizationUrl(metadata, { ...base, scope: 'openid', extraParams: { [name]: 'evil' } }),
    );
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toContain(`extraParams.${name}`);
  });

  it('refuses extraParams that would replace an option it was given', async () => {
    const error = await caught(() =>
      buildAuthorizationUrl(metadata, { ...base, audience: 'a', extraParams: { audience: 'b' } }),
    );
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
  });

  it.each([
    ['a relative reference', '/api'],
    ['a fragment', 'https://api.example.com/#x'],
    ['an empty fragment', 'https://api.example.com/#'],
  ])('refuses a resource with %s (RFC 8707 §2)', async (_label, resource) => {
    const error = await caught(() => buildAuthorizationUrl(metadata, { ...base, resource: [resource] }));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toMatch(/RFC 8707/);
  });

  it('refuses a server that does not list S256', async () => {
    for (const methods of [['plain'], undefined, []]) {
      const error = await caught(() =>
        buildAuthorizationUrl({ ...metadata, code_challenge_methods_supported: methods }, base),
      );
      expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
      expect(error.message).toMatch(/S256/);
    }
  });

  it('says which: a list without S256, or no list at all (with the way out)', async () => {
    const lacking = await caught(() =>
      buildAuthorizationUrl({ ...metadata, code_challenge_methods_supported: ['plain'] }, base),
    );
    expect(lacking.message).toMatch(/lacks S256 in code_challenge_methods_supported/);
    expect(lacking.message).not.toMatch(/allowMissingPkceMetadata/);
    const silent = await caught(() =>
      buildAuthorizationUrl({ ...metadata, code_challenge_methods_supported: undefined }, base),
    );
    expect(silent.message).toMatch(/has no code_challenge_methods_supported.*allowMissingPkceMetadata: true/);
  });

  it('with allowMissingPkceMetadata: sends S256 to a server that does not advertise PKCE (Entra, Cognito)', async () => {
    const entraLike = { ...metadata, code_challenge_methods_supported: undefined };
    const request = await buildAuthorizationUrl(entraLike, { ...base, allowMissingPkceMetadata: true });
    const params = new URL(request.url).searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toBe(request.codeChallenge);
    // A list that leaves S256 out is a refusal the option does not override.
    for (const methods of [['plain'], []]) {
      const error = await caught(() =>
        buildAuthorizationUrl(
          { ...metadata, code_challenge_methods_supported: methods },
          { ...base, allowMissingPkceMetadata: true },
        ),
      );
      expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
    }
  });

  it('refuses metadata without an authorization endpoint', async () => {
    const error = await caught(() =>
      buildAuthorizationUrl({ ...metadata, authorization_endpoint: undefined }, base),
    );
    expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
    expect(error.message).toContain('authorization_endpoint');
  });

  it.each([
    ['clientId', { ...base, clientId: '' }],
    ['redirectUri', { ...base, redirectUri: undefined as unknown as string }],
    ['state', { ...base, state: '' }],
    ['scope', { ...base, scope: ['openid'] as unknown as string }],
  ])('refuses a missing or malformed %s', async (name, options) => {
    const error = await caught(() => buildAuthorizationUrl(metadata, options));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toContain(name);
  });

  it('refuses something that is not metadata', async () => {
    const error = await caught(() => buildAuthorizationUrl(undefined as never, base));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toMatch(/discover/);
  });
});

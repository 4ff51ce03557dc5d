// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at the stub issuer: where the
// profiles announce it, id_token_hint verified (expired accepted; foreign or altered refused),
// client_id, registered post_logout_redirect_uri, state, the session ended. Through issuer.fetch.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { activeContent, parsePage } from '../support/login-page.js';
import { CLIENT_ID } from './helpers.js';
import {
  POST_LOGOUT_URI,
  callbackOf,
  logInThroughPage,
  loginBrowser,
  loginIssuerOptions,
  redeem,
  visit,
} from './login-flow.js';

const clock = { now: Date.parse('2026-03-02T09:00:00Z') };
let issuer: TestIssuer;

beforeEach(async () => {
  issuer = await createTestIssuer(loginIssuerOptions(clock));
});
afterEach(() => issuer.close());

function logoutUrl(params: Record<string, string> = {}): URL {
  const url = new URL(issuer.metadata.end_session_endpoint!);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  return url;
}

/** A browser logged in as alice through the page, and its ID token. */
async function loggedIn() {
  const browser = loginBrowser(issuer.fetch);
  const { callback, verifier } = await logInThroughPage(issuer, browser, 'alice');
  const { body } = await redeem(issuer, callback, verifier);
  return { browser, idToken: body.id_token! };
}

async function silentLogin(browser: ReturnType<typeof loginBrowser>) {
  return callbackOf((await visit(issuer, browser, { prompt: 'none' })).response).searchParams;
}

/** A refused logout: 400, an inert page saying why, no redirect, the session kept. */
async function expectRefused(response: Response, reason: string) {
  expect(response.status).toBe(400);
  expect(response.headers.get('location')).toBeNull();
  expect(response.headers.get('set-cookie')).toBeNull();
  const page = parsePage(await response.text());
  expect(page.text).toContain(reason);
  expect(activeContent(page)).toEqual([]);
  return page;
}

describe('where logout is', () => {
  it('is announced as end_session_endpoint: /logout by default, /oidc/logout for auth0, not for rfc8414', async () => {
    expect(issuer.metadata.end_session_endpoint).toBe('https://issuer.test/logout');
    const auth0 = await createTestIssuer({ profile: 'auth0', issuer: 'https://tenant.auth0.test' });
    const oidc = await (
      await auth0.fetch('https://tenant.auth0.test/.well-known/openid-configuration')
    ).json();
    expect(oidc.end_session_endpoint).toBe('https://tenant.auth0.test/oidc/logout');
    expect((await auth0.fetch(oidc.end_session_endpoint)).status).toBe(200);
    const archera = await createTestIssuer({ profile: 'rfc8414' });
    expect(archera.metadata).not.toHaveProperty('end_session_endpoint');
    expect((await archera.fetch('https://issuer.test/logout')).status).toBe(404);
  });
});

describe('logging out', () => {
  it('without parameters ends the session and shows an inert logged-out page', async () => {
    const { browser } = await loggedIn();
    expect((await silentLogin(browser)).has('code')).toBe(true);
    const response = await browser.get(logoutUrl());
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toMatch(
      /^default-src 'none'; style-src 'nonce-[\w-]+'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'$/,
    );
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('set-cookie')).toMatch(
      /^ojv_login=; Path=\/; Max-Age=0; HttpOnly; SameSite=Lax; Secure$/,
    );
    const page = parsePage(await response.text());
    expect(page.text).toContain('You are logged out');
    expect(activeContent(page)).toEqual([]);
    expect((await silentLogin(browser)).get('error')).toBe('login_required');
    expect(issuer.requests.logout).toBe(1);
  });

  it('with an id_token_hint and a registered post_logout_redirect_uri redirects there with state', async () => {
    const { browser, idToken } = await loggedIn();
    const response = await browser.get(
      logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: POST_LOGOUT_URI, state: 'bye "1"' }),
    );
    expect(response.status).toBe(302);
    const target = callbackOf(response);
    expect(`${target.origin}${target.pathname}`).toBe(POST_LOGOUT_URI);
    expect(target.searchParams.get('state')).toBe('bye "1"');
    expect((await silentLogin(browser)).get('error')).toBe('login_required');
  });

  it('takes a POSTed form, and ends the sessions of the hinted user even without the cookie (a cross-site POST)', async () => {
    const { browser, idToken } = await loggedIn();
    const response = await issuer.fetch(issuer.metadata.end_session_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        id_token_hint: idToken,
        client_id: CLIENT_ID,
        post_logout_redirect_uri: POST_LOGOUT_URI,
      }),
      redirect: 'manual',
    });
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe(POST_LOGOUT_URI);
    expect((await silentLogin(browser)).get('error')).toBe('login_required');
  });

  it('accepts an expired id_token_hint of this issuer (the spec allows it)', async () => {
    const { browser } = await loggedIn();
    const expired = await issuer.sign({ sub: 'alice', aud: CLIENT_ID }, { expiresIn: -3600 });
    const response = await browser.get(
      logoutUrl({ id_token_hint: expired, post_logout_redirect_uri: POST_LOGOUT_URI }),
    );
    expect(response.status).toBe(302);
    expect((await silentLogin(browser)).get('error')).toBe('login_required');
  });

  it('accepts a hint signed with a rotated-out key that is still published, next to its client_id', async () => {
    const { browser, idToken } = await loggedIn();
    await issuer.rotateKeys();
    const response = await browser.get(
      logoutUrl({ id_token_hint: idToken, client_id: CLIENT_ID, post_logout_redirect_uri: POST_LOGOUT_URI }),
    );
    expect(response.status).toBe(302);
  });
});

describe('a logout it cannot trust', () => {
  it('refuses an altered, foreign, unpublished-key or access-token hint (400), never echoing the token', async () => {
    const { browser, idToken } = await loggedIn();
    const [header, payload, signature] = idToken.split('.');
    const altered = `${header}.${payload!.slice(0, -2)}AA.${signature}`;
    const foreign = await (await createTestIssuer()).sign({ sub: 'alice', aud: CLIENT_ID });
    const unpublished = await issuer.sign({ sub: 'alice', aud: CLIENT_ID }, { unpublishedKey: true });
    const access = await issuer.sign({ sub: 'alice' }, { header: { typ: 'at+jwt' } });
    for (const [hint, reason] of [
      [altered, 'not signed by this issuer, or was altered'],
      [foreign, 'not signed by this issuer, or was altered'],
      [unpublished, 'not signed by this issuer, or was altered'],
      [access, 'is an access token'],
      ['not-a-jwt', 'not signed by this issuer, or was altered'],
      ['x'.repeat(20_000), 'too long'],
    ] as const) {
      const response = await browser.get(
        logoutUrl({ id_token_hint: hint, post_logout_redirect_uri: POST_LOGOUT_URI }),
      );
      const page = await expectRefused(response, reason);
      expect(page.text).not.toContain(hint.slice(0, 40));
    }
    // The session is still there.
    expect((await silentLogin(browser)).has('code')).toBe(true);
  });

  it('refuses a hint of another issuer signed with these keys', async () => {
    const { browser } = await loggedIn();
    const other = await issuer.sign({ iss: 'https://other.test', sub: 'alice', aud: CLIENT_ID });
    await expectRefused(await browser.get(logoutUrl({ id_token_hint: other })), 'issued by another issuer');
  });

  it('refuses a client_id that is not an audience of the hint, or unknown', async () => {
    const { browser, idToken } = await loggedIn();
    await expectRefused(
      await browser.get(logoutUrl({ id_token_hint: idToken, client_id: 'other-client' })),
      'There is no client "other-client"',
    );
    const open = await createTestIssuer({ interactiveLogin: true });
    const hint = await open.sign({ sub: 'alice', aud: 'spa' });
    const response = await open.fetch(
      `${open.metadata.end_session_endpoint}?${new URLSearchParams({ id_token_hint: hint, client_id: 'other' })}`,
    );
    await expectRefused(response, 'was not issued to the client "other"');
  });

  it('refuses a post_logout_redirect_uri that is not registered for the client, or without a client', async () => {
    const { browser, idToken } = await loggedIn();
    await expectRefused(
      await browser.get(
        logoutUrl({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.test/' }),
      ),
      'is not registered for the client "spa"',
    );
    await expectRefused(
      await browser.get(logoutUrl({ post_logout_redirect_uri: POST_LOGOUT_URI })),
      'needs a client_id or an id_token_hint',
    );
    // Without configured clients, no redirect URI is registered at all.
    const open = await createTestIssuer({ interactiveLogin: true });
    const response = await open.fetch(
      `${open.metadata.end_session_endpoint}?${new URLSearchParams({ client_id: 'spa', post_logout_redirect_uri: POST_LOGOUT_URI })}`,
    );
    await expectRefused(response, 'is not registered for the client "spa"');
    expect((await silentLogin(browser)).has('code')).toBe(true);
  });

  it('refuses a registered post_logout_redirect_uri that is not a URL, rather than failing', async () => {
    const odd = await createTestIssuer({
      clients: [{ clientId: 'spa', postLogoutRedirectUris: ['not a url'] }],
    });
    const response = await odd.fetch(
      `${odd.metadata.end_session_endpoint}?${new URLSearchParams({ client_id: 'spa', post_logout_redirect_uri: 'not a url' })}`,
    );
    await expectRefused(response, 'is not registered for the client "spa"');
  });

  it('shows hostile values it refuses as text', async () => {
    const hostile = '"><script>alert(1)</script>';
    const response = await issuer.fetch(
      logoutUrl({ client_id: CLIENT_ID, post_logout_redirect_uri: hostile }),
    );
    const page = await expectRefused(response, hostile);
    expect(activeContent(page)).toEqual([]);
  });

  it('counts logouts and fails as failNext says', async () => {
    issuer.failNext('logout', { status: 503 });
    expect((await issuer.fetch(logoutUrl())).status).toBe(503);
    expect((await issuer.fetch(logoutUrl())).status).toBe(200);
    expect(issuer.requests.logout).toBe(2);
    const put = await issuer.fetch(logoutUrl(), { method: 'PUT' });
    expect(put.status).toBe(405);
  });
});

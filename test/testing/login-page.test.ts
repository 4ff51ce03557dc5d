// The interactive login page at /authorize: what it shows and sends, the choices it offers,
// its session (prompt=none, prompt=login, max_age, auth_time), its CSRF token, and that the
// POST is checked again from the start. Through issuer.fetch: no network.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { LoginSessions, MAX_SESSIONS, SESSION_TTL_SECONDS } from '../../src/testing/login/sessions.js';
import { activeContent, fieldValue, parsePage, unlabelledControls } from '../support/login-page.js';
import { CLIENT_ID, REDIRECT_URI } from './helpers.js';
import {
  callbackOf,
  logInThroughPage,
  loginBrowser,
  loginIssuerOptions,
  press,
  redeem,
  visit,
} from './login-flow.js';

const START = Date.parse('2026-03-02T09:00:00Z');
const clock = { now: START };
let issuer: TestIssuer;

beforeEach(async () => {
  clock.now = START;
  issuer = await createTestIssuer(loginIssuerOptions(clock));
});
afterEach(() => issuer.close());

describe('the login page', () => {
  it('is shown for an authorization request, with its users, fields, scopes and client', async () => {
    const browser = loginBrowser(issuer.fetch);
    const { response, page } = await visit(issuer, browser, {
      scope: 'openid profile email',
      acr_values: 'urn:a urn:b',
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.forms.map((form) => form.method)).toEqual(['post', 'post']);
    expect(page.forms.map((form) => form.action)).toEqual(['/authorize', '/authorize']);
    const [users, typed] = page.forms;
    expect(users!.buttons.map(({ name, value }) => `${name}=${value}`)).toEqual(['user=alice', 'user=bob']);
    expect(users!.buttons[0]!.text).toContain('Alice Example');
    expect(typed!.buttons.map(({ name, value, text }) => `${name}=${value}:${text}`)).toEqual([
      'action=login:Log in',
      'action=cancel:Cancel',
    ]);
    // The request's parameters ride along as hidden inputs, the CSRF token with them.
    expect(fieldValue(page, 'client_id')).toBe(CLIENT_ID);
    expect(fieldValue(page, 'redirect_uri')).toBe(REDIRECT_URI);
    expect(fieldValue(page, 'csrf')).toMatch(/^\d+\.[A-Za-z0-9_-]{43}$/);
    // The acr input starts as the first acr_values; the typed fields start empty.
    expect(fieldValue(page, 'acr')).toBe('urn:a');
    expect(fieldValue(page, 'sub')).toBe('');
    expect(fieldValue(page, 'claims')).toBe('');
    expect(page.text).toContain(`${CLIENT_ID} asks for the scopes openid profile email`);
    expect(page.text).toContain(REDIRECT_URI);
    expect(unlabelledControls(page)).toEqual([]);
    expect(activeContent(page)).toEqual([]);
    expect(issuer.requests.authorize).toBe(1);
  });

  it('sends a strict CSP whose style nonce is the page stylesheet, no framing, no caching, no referrer', async () => {
    const { response, page } = await visit(issuer, loginBrowser(issuer.fetch));
    const csp = response.headers.get('content-security-policy')!;
    const nonce = /style-src 'nonce-([A-Za-z0-9_-]{22})'/.exec(csp)?.[1];
    expect(csp).toBe(
      `default-src 'none'; style-src 'nonce-${nonce}'; form-action 'self' http://127.0.0.1:5173; frame-ancestors 'none'; base-uri 'none'`,
    );
    const styles = page.elements.filter((element) => element.tagName === 'style');
    expect(styles.map((style) => style.attrs)).toEqual([[{ name: 'nonce', value: nonce }]]);
    expect(response.headers.get('x-frame-options')).toBe('DENY');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('referrer-policy')).toBe('no-referrer');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    // A new nonce each time.
    const again = await visit(issuer, loginBrowser(issuer.fetch));
    expect(again.response.headers.get('content-security-policy')).not.toBe(csp);
  });

  it('lets the form lead to an app redirect URI of a custom scheme (form-action covers redirects)', async () => {
    const app = await createTestIssuer({ interactiveLogin: true });
    const { response } = await visit(app, loginBrowser(app.fetch), {
      redirect_uri: 'com.example.app:/callback',
    });
    expect(response.headers.get('content-security-policy')).toContain("form-action 'self' com.example.app:;");
  });

  it('gives a new browser an HttpOnly, SameSite=Lax cookie for the issuer path, Secure on https', async () => {
    const browser = loginBrowser(issuer.fetch);
    await visit(issuer, browser);
    expect(browser.lastSetCookie).toMatch(
      /^ojv_login=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=28800; HttpOnly; SameSite=Lax; Secure$/,
    );
    const tenant = await createTestIssuer({ interactiveLogin: true, issuer: 'https://idp.test/tenant-a/' });
    const other = loginBrowser(tenant.fetch);
    await visit(tenant, other);
    expect(other.lastSetCookie).toContain('; Path=/tenant-a;');
    const plain = await createTestIssuer({ interactiveLogin: true, listen: true });
    try {
      const live = loginBrowser();
      await visit(plain, live);
      expect(live.lastSetCookie).toMatch(/HttpOnly; SameSite=Lax$/);
    } finally {
      await plain.close();
    }
  });

  it('logs a configured user in: the ID token has its claims (not reserved ones) and acr, auth_time the login', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser, { scope: 'openid profile', nonce: 'n-1' });
    const pageCookie = browser.cookie;
    clock.now += 5_000;
    const response = await press(visited, browser, 'user', 'bob');
    expect(response.status).toBe(303);
    const callback = callbackOf(response);
    expect(callback.origin + callback.pathname).toBe(REDIRECT_URI);
    expect(callback.searchParams.get('state')).toBe('state-1');
    expect(callback.searchParams.get('iss')).toBe(issuer.issuer);
    // The login gets a new cookie value: one planted before it is worth nothing after.
    expect(browser.cookie).toMatch(/^ojv_login=/);
    expect(browser.cookie).not.toBe(pageCookie);

    const { access, id } = await redeem(issuer, callback, visited.verifier);
    expect(id).toMatchObject({ sub: 'bob', name: 'Bob Example', acr: 'urn:example:mfa', nonce: 'n-1' });
    expect(id!.auth_time).toBe(Math.floor(clock.now / 1000));
    expect(access).toMatchObject({ sub: 'bob', acr: 'urn:example:mfa', client_id: CLIENT_ID });
    expect(access).not.toHaveProperty('name');

    const alice = await logInThroughPage(issuer, loginBrowser(issuer.fetch), 'alice');
    const tokens = await redeem(issuer, alice.callback, alice.verifier);
    expect(tokens.id).toMatchObject({ sub: 'alice', email: 'alice@example.test', iss: issuer.issuer });
    expect(tokens.id).not.toHaveProperty('acr');
  });

  it('logs a typed subject in with its claims in both tokens and the acr typed', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser, { scope: 'openid' });
    const response = await press(visited, browser, 'action', 'login', {
      sub: '  carol  ',
      claims: '{"roles": ["admin"], "tenant": "t-1"}',
      acr: 'urn:example:pwd',
    });
    const { access, id } = await redeem(issuer, callbackOf(response), visited.verifier);
    expect(id).toMatchObject({ sub: 'carol', roles: ['admin'], tenant: 't-1', acr: 'urn:example:pwd' });
    expect(access).toMatchObject({ sub: 'carol', roles: ['admin'], tenant: 't-1', acr: 'urn:example:pwd' });
  });

  it.each([
    ['{"name": ', 'The claims are not valid JSON'],
    ['["admin"]', 'The claims must be a JSON object'],
    [
      '{"iss": "https://evil.test", "aud": "x", "exp": 1, "cnf": {}, "name": "ok"}',
      'remove them: iss, aud, exp, cnf.',
    ],
    ['x'.repeat(16 * 1024 + 1), 'longer than 16384 characters'],
  ])('shows the page again, 400, with what is wrong with the claims %#', async (claims, problem) => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser);
    const response = await press(visited, browser, 'action', 'login', { sub: 'carol', claims });
    expect(response.status).toBe(400);
    const page = parsePage(await response.text());
    expect(page.elements.find((element) => element.attrs.some((a) => a.value === 'alert'))).toBeDefined();
    expect(page.text).toContain(problem);
    // What was typed is there to fix.
    expect(fieldValue(page, 'sub')).toBe('carol');
    expect(fieldValue(page, 'claims')).toBe(claims);
    expect(response.headers.get('location')).toBeNull();
  });

  it('asks for a subject when none was typed', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser);
    const response = await press(visited, browser, 'action', 'login', { sub: '   ' });
    expect(response.status).toBe(400);
    expect(parsePage(await response.text()).text).toContain('Type a subject (sub), or pick a user.');
  });

  it('refuses a user that is not configured', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser);
    const { form } = { form: visited.page.forms[0]! };
    const response = await browser.submit(visited.url, form, { name: 'user', value: 'mallory', text: '' });
    expect(response.status).toBe(400);
    expect(parsePage(await response.text()).text).toContain('There is no such user');
  });

  it('Cancel redirects with access_denied, state and iss, and logs nobody in', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser);
    const callback = callbackOf(await press(visited, browser, 'action', 'cancel'));
    expect(callback.searchParams.get('error')).toBe('access_denied');
    expect(callback.searchParams.get('state')).toBe('state-1');
    expect(callback.searchParams.get('iss')).toBe(issuer.issuer);
    expect(callback.searchParams.has('code')).toBe(false);
    const again = await visit(issuer, browser, { prompt: 'none' });
    expect(callbackOf(again.response).searchParams.get('error')).toBe('login_required');
  });

  it('does not carry the OpenID claims request parameter, whose name the claims box has', async () => {
    const browser = loginBrowser(issuer.fetch);
    const { page } = await visit(issuer, browser, { claims: '{"id_token":{"email":null}}' });
    expect(fieldValue(page, 'claims')).toBe('');
  });
});

describe('a login_hint', () => {
  it('skips the page: a configured user with its claims and acr, and a session', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser, { login_hint: 'bob', scope: 'openid' });
    expect(visited.response.status).toBe(302);
    const { id } = await redeem(issuer, callbackOf(visited.response), visited.verifier);
    expect(id).toMatchObject({ sub: 'bob', name: 'Bob Example', acr: 'urn:example:mfa' });
    const silent = await visit(issuer, browser, { prompt: 'none' });
    expect(callbackOf(silent.response).searchParams.has('code')).toBe(true);
  });

  it('skips the page for any subject', async () => {
    const visited = await visit(issuer, loginBrowser(issuer.fetch), { login_hint: 'dave', scope: 'openid' });
    const { id } = await redeem(issuer, callbackOf(visited.response), visited.verifier);
    expect(id).toMatchObject({ sub: 'dave' });
    expect(id).not.toHaveProperty('name');
  });

  it('picks a configured user without the login page too, and without it nothing else changes', async () => {
    const quiet = await createTestIssuer({ ...loginIssuerOptions(clock), interactiveLogin: false });
    const hinted = await visit(quiet, loginBrowser(quiet.fetch), { login_hint: 'bob', scope: 'openid' });
    expect((await redeem(quiet, callbackOf(hinted.response), hinted.verifier)).id).toMatchObject({
      sub: 'bob',
      name: 'Bob Example',
      acr: 'urn:example:mfa',
    });
    const plain = await visit(quiet, loginBrowser(quiet.fetch), { prompt: 'none', scope: 'openid' });
    expect((await redeem(quiet, callbackOf(plain.response), plain.verifier)).id).toMatchObject({
      sub: 'test-user',
    });
  });
});

describe('the session', () => {
  it('answers the next request at once, with the same user and auth_time', async () => {
    const browser = loginBrowser(issuer.fetch);
    const first = await logInThroughPage(issuer, browser, 'alice');
    const loggedInAt = (await redeem(issuer, first.callback, first.verifier)).id!.auth_time;
    clock.now += 60_000;
    const next = await visit(issuer, browser, { scope: 'openid' });
    expect(next.response.status).toBe(302);
    const { id } = await redeem(issuer, callbackOf(next.response), next.verifier);
    expect(id).toMatchObject({ sub: 'alice', auth_time: loggedInAt, name: 'Alice Example' });
  });

  it('prompt=none: a code with a session, login_required (with state and iss) without one', async () => {
    const browser = loginBrowser(issuer.fetch);
    const without = callbackOf((await visit(issuer, browser, { prompt: 'none' })).response);
    expect(Object.fromEntries(without.searchParams)).toMatchObject({
      error: 'login_required',
      state: 'state-1',
      iss: issuer.issuer,
    });
    await logInThroughPage(issuer, browser, 'alice');
    const withSession = callbackOf((await visit(issuer, browser, { prompt: 'none' })).response);
    expect(withSession.searchParams.get('code')).toBeTruthy();
    // A hint naming someone else is not answered by alice's session.
    const other = callbackOf((await visit(issuer, browser, { prompt: 'none', login_hint: 'bob' })).response);
    expect(other.searchParams.get('error')).toBe('login_required');
  });

  it('prompt=login and select_account show the page again despite a session', async () => {
    const browser = loginBrowser(issuer.fetch);
    await logInThroughPage(issuer, browser, 'alice');
    for (const prompt of ['login', 'select_account', 'consent login']) {
      expect((await visit(issuer, browser, { prompt })).response.status).toBe(200);
    }
  });

  it('max_age older than the login asks again (prompt=none: login_required); max_age=0 always', async () => {
    const browser = loginBrowser(issuer.fetch);
    await logInThroughPage(issuer, browser, 'alice');
    clock.now += 120_000;
    expect((await visit(issuer, browser, { max_age: '600' })).response.status).toBe(302);
    expect((await visit(issuer, browser, { max_age: '60' })).response.status).toBe(200);
    expect((await visit(issuer, browser, { max_age: '0' })).response.status).toBe(200);
    const silent = callbackOf((await visit(issuer, browser, { max_age: '60', prompt: 'none' })).response);
    expect(silent.searchParams.get('error')).toBe('login_required');
  });

  it('expires after a working day', async () => {
    const browser = loginBrowser(issuer.fetch);
    await logInThroughPage(issuer, browser, 'alice');
    clock.now += SESSION_TTL_SECONDS * 1000 + 1;
    const silent = callbackOf((await visit(issuer, browser, { prompt: 'none' })).response);
    expect(silent.searchParams.get('error')).toBe('login_required');
  });

  it('keeps at most MAX_SESSIONS sessions, dropping the oldest', () => {
    const sessions = new LoginSessions('https://issuer.test', () => clock.now);
    const cookie = (setCookie: string) =>
      new Request('https://issuer.test/', { headers: { cookie: setCookie.split(';')[0]! } });
    const first = cookie(sessions.start({ sub: 'first', userClaims: {}, claims: {} }, 1));
    const second = cookie(sessions.start({ sub: 'second', userClaims: {}, claims: {} }, 1));
    for (let i = 0; i < MAX_SESSIONS - 1; i++)
      sessions.start({ sub: `u${i}`, userClaims: {}, claims: {} }, 1);
    expect(sessions.current(first)).toBeUndefined();
    expect(sessions.current(second)?.sub).toBe('second');
  });

  it.each([
    ['prompt', 'none login', 'prompt=none cannot be combined'],
    ['prompt', 'create', 'prompt create is not supported'],
    ['max_age', '-1', 'max_age must be a number of seconds'],
  ])('refuses %s=%s with invalid_request at the redirect URI', async (name, value, description) => {
    const callback = callbackOf(
      (await visit(issuer, loginBrowser(issuer.fetch), { [name]: value })).response,
    );
    expect(callback.searchParams.get('error')).toBe('invalid_request');
    expect(callback.searchParams.get('error_description')).toContain(description);
  });
});

describe('the form, sent back', () => {
  it('is refused (403, no redirect) without its token, from another browser, for another request or late', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser);
    const refusedWith = async (response: Response) => {
      expect(response.status).toBe(403);
      expect(response.headers.get('location')).toBeNull();
      expect(parsePage(await response.text()).text).toContain('Start the login again');
    };
    await refusedWith(await press(visited, browser, 'user', 'alice', { csrf: '' }));
    // Another browser (another cookie) holding this page's token: a cross-site POST.
    const stranger = loginBrowser(issuer.fetch);
    await visit(issuer, stranger);
    await refusedWith(await press(visited, stranger, 'user', 'alice'));
    // A browser with no cookie at all.
    await refusedWith(await press(visited, loginBrowser(issuer.fetch), 'user', 'alice'));
    // The token of this page for another request.
    await refusedWith(await press(visited, browser, 'user', 'alice', { scope: 'openid admin' }));
    // Half an hour later.
    clock.now += 31 * 60_000;
    await refusedWith(await press(visited, browser, 'user', 'alice'));
    expect(issuer.requests.authorize).toBe(7);
  });

  it('is checked again from the start: a redirect_uri changed in it is refused, 400, no redirect', async () => {
    const browser = loginBrowser(issuer.fetch);
    const visited = await visit(issuer, browser);
    const response = await press(visited, browser, 'user', 'alice', { redirect_uri: 'https://evil.test/cb' });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect((await response.json()).error).toBe('invalid_request');
    const noPkce = await press(visited, browser, 'user', 'alice', { code_challenge_method: 'plain' });
    expect(callbackOf(noPkce).searchParams.get('error')).toBe('invalid_request');
  });

  it('refuses a POST that is not a form', async () => {
    const response = await issuer.fetch(issuer.metadata.authorization_endpoint!, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(400);
    expect((await response.json()).error).toBe('invalid_request');
  });

  it('takes an authorization request POSTed as a form (OpenID Connect Core §3.1.2.1)', async () => {
    const browser = loginBrowser(issuer.fetch);
    const { url } = await visit(issuer, browser);
    const response = await browser.submit(url, {
      action: url.pathname,
      method: 'post',
      fields: [...url.searchParams],
      buttons: [],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
  });
});

// What the login page's and the logout's tests share: an issuer with the login page, users
// and a registered client, a browser without JavaScript, and the steps of a login.
import { decodeJwt } from 'jose';
import { expect } from 'vitest';
import type { TestIssuer, TestIssuerOptions } from '../../src/testing/index.js';
import {
  type LoginBrowser,
  type ParsedPage,
  button,
  loginBrowser,
  parsePage,
} from '../support/login-page.js';
import { CLIENT_ID, REDIRECT_URI, authorizeParams, codeExchange, postForm } from './helpers.js';

export const POST_LOGOUT_URI = 'http://127.0.0.1:5173/logged-out';

/** The login page's issuer: two users (one with an acr), the SPA client, a clock tests move. */
export function loginIssuerOptions(clock: { now: number }, extra: TestIssuerOptions = {}): TestIssuerOptions {
  return {
    interactiveLogin: true,
    now: () => clock.now,
    users: [
      { sub: 'alice', claims: { name: 'Alice Example', email: 'alice@example.test', iss: 'ignored' } },
      { sub: 'bob', claims: { name: 'Bob Example' }, acr: 'urn:example:mfa' },
    ],
    clients: [
      { clientId: CLIENT_ID, redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [POST_LOGOUT_URI] },
    ],
    ...extra,
  };
}

/** One browser's login: the authorization URL and PKCE verifier, and the page it got. */
export interface PageVisit {
  url: URL;
  verifier: string;
  response: Response;
  page: ParsedPage;
}

/** Opens `/authorize` (the SPA's parameters, `extra` on top) in `browser`. */
export async function visit(
  issuer: TestIssuer,
  browser: LoginBrowser,
  extra: Record<string, string> = {},
): Promise<PageVisit> {
  const { verifier, params } = await authorizeParams(extra);
  const url = new URL(issuer.metadata.authorization_endpoint!);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const response = await browser.get(url);
  const page = parsePage(
    response.headers.get('content-type')?.startsWith('text/html') ? await response.text() : '',
  );
  return { url, verifier, response, page };
}

/** Presses the button `name=value` on the visited page, with `edits` typed in. */
export function press(visited: PageVisit, browser: LoginBrowser, name: string, value: string, edits = {}) {
  const { form, button: pressed } = button(visited.page, name, value);
  return browser.submit(visited.url, form, pressed, edits);
}

/** The callback a redirect points to. */
export function callbackOf(response: Response): URL {
  const location = response.headers.get('location');
  if (!location) throw new Error(`no redirect: ${response.status}`);
  return new URL(location);
}

/** Redeems the code of `callback` and decodes the tokens. */
export async function redeem(issuer: TestIssuer, callback: URL, verifier: string) {
  const code = callback.searchParams.get('code');
  expect(code, `no code in ${callback.href}`).toBeTruthy();
  const response = await issuer.fetch(
    issuer.metadata.token_endpoint!,
    postForm(codeExchange(code!, verifier)),
  );
  expect(response.status).toBe(200);
  const body = (await response.json()) as { access_token: string; id_token?: string };
  return {
    body,
    access: decodeJwt(body.access_token),
    id: body.id_token ? decodeJwt(body.id_token) : undefined,
  };
}

/** A whole login through the page as `user` (a configured one): the callback and the verifier. */
export async function logInThroughPage(issuer: TestIssuer, browser: LoginBrowser, user: string, extra = {}) {
  const visited = await visit(issuer, browser, { scope: 'openid profile', ...extra });
  expect(visited.response.status).toBe(200);
  const callback = callbackOf(await press(visited, browser, 'user', user));
  return { callback, verifier: visited.verifier };
}

export { loginBrowser };

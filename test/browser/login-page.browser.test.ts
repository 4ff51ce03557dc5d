// The login page in real headless Chromium: an SPA built on oauth-jwt-verify/pkce (dist, as
// `npm run build` wrote it) sends the user to the stub issuer's login page, the user picks
// someone or types a subject and claims, the SPA exchanges the code and calls an API that
// authenticate() guards. Then Cancel, prompt=none with and without a session, logout; the page
// without JavaScript; hostile parameters staying inert. Saves docs/images/login-page.png.
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestClient, TestUser } from '../../src/testing/index.js';
import { startIssuerCommand } from '../support/issuer-command.js';
import { HOSTILE } from '../support/login-page.js';
import { type McpResource, startMcpResource } from '../support/mcp-resource.js';
import { type AppServer, readResult, serveApp, spaPage, useChromium } from './harness.js';

const SCREENSHOT = fileURLToPath(new URL('../../docs/images/login-page.png', import.meta.url));
const CLIENT_ID = 'spa';

/** What the test needs of a running issuer. */
interface RunningIssuer {
  issuer: string;
  close(): Promise<void>;
}

/**
 * The issuer under test: the `oauth-jwt-verify issuer` command (built dist/), as a developer
 * runs it, given its configuration in `OJV_ISSUER_CONFIG`, on a free port of 127.0.0.1.
 */
async function startIssuer(config: {
  interactiveLogin: true;
  users?: TestUser[];
  clients?: TestClient[];
}): Promise<RunningIssuer> {
  const command = await startIssuerCommand(['--quiet'], { OJV_ISSUER_CONFIG: JSON.stringify(config) });
  return { issuer: command.issuer, close: () => command.stop().then(() => undefined) };
}

/** What the SPA shows in #result. */
interface PageResult {
  error?: { name: string; message: string; error?: string };
  api?: { status: number; body: { sub: string; acr?: string; tenant?: string } };
  loggedOut?: string;
}

/**
 * The SPA: "/" has a Sign in button (or goes at once with ?prompt=none), "/callback" exchanges
 * the code and calls the API, "/logout" sends the user to the issuer's end_session_endpoint,
 * "/logged-out" is where the issuer sends them back.
 */
function appPage(config: { issuer: string; api: string }): string {
  return spaPage({
    title: 'Login page SPA',
    config: { ...config, clientId: CLIENT_ID },
    imports: 'discover, buildAuthorizationUrl, parseAuthorizationResponse, exchangeAuthorizationCode',
    script: `  const metadata = await discover(config.issuer);
  const redirectUri = location.origin + '/callback';
  const prompt = new URLSearchParams(location.search).get('prompt');
  const signIn = async () => {
    const request = await buildAuthorizationUrl(metadata, {
      clientId: config.clientId, redirectUri, scope: 'openid profile', audience: config.api,
      ...(prompt ? { prompt } : {}),
    });
    sessionStorage.setItem('login:pending', JSON.stringify({ state: request.state, codeVerifier: request.codeVerifier }));
    location.assign(request.url);
  };
  if (location.pathname === '/callback') {
    const pending = JSON.parse(sessionStorage.getItem('login:pending') ?? 'null');
    sessionStorage.removeItem('login:pending');
    const { code } = parseAuthorizationResponse(location.href, { expectedState: pending.state, metadata });
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: config.clientId, code, codeVerifier: pending.codeVerifier, redirectUri,
    });
    sessionStorage.setItem('login:id_token', tokens.id_token);
    const answer = await fetch(config.api, { headers: { authorization: 'Bearer ' + tokens.access_token } });
    show('status', 'signed in');
    show('result', { api: { status: answer.status, body: await answer.json() } });
  } else if (location.pathname === '/logout') {
    const url = new URL(metadata.end_session_endpoint);
    url.searchParams.set('id_token_hint', sessionStorage.getItem('login:id_token'));
    url.searchParams.set('post_logout_redirect_uri', location.origin + '/logged-out');
    url.searchParams.set('state', 'bye');
    location.assign(url.href);
  } else if (location.pathname === '/logged-out') {
    show('result', { loggedOut: location.search });
  } else if (prompt) {
    await signIn();
  } else {
    const button = document.createElement('button');
    button.textContent = 'Sign in';
    button.addEventListener('click', () => signIn().catch((error) => show('result', { error: { message: error.message } })));
    document.body.append(button);
    show('status', 'ready');
  }`,
  });
}

let app: AppServer;
let issuer: RunningIssuer;
let openIssuer: RunningIssuer;
let api: McpResource;

beforeAll(async () => {
  let html = '';
  app = await serveApp({
    '/': () => html,
    '/callback': () => html,
    '/logout': () => html,
    '/logged-out': () => html,
  });
  issuer = await startIssuer({
    interactiveLogin: true,
    users: [
      { sub: 'alice', claims: { name: 'Alice Example', email: 'alice@example.test' } },
      { sub: 'bob', claims: { name: 'Bob Example' }, acr: 'urn:example:mfa' },
    ],
    clients: [
      {
        clientId: CLIENT_ID,
        redirectUris: [`${app.origin}/callback`],
        postLogoutRedirectUris: [`${app.origin}/logged-out`],
      },
    ],
  });
  // Any client and redirect URI: for the hostile parameters and the screenshot.
  openIssuer = await startIssuer({
    interactiveLogin: true,
    users: [
      { sub: 'alice', claims: { name: 'Alice Example', email: 'alice@example.test' } },
      { sub: 'bob', claims: { name: 'Bob Example' }, acr: 'urn:example:mfa' },
    ],
  });
  api = await startMcpResource({
    issuer: issuer.issuer,
    scopesSupported: ['profile'],
    requiredScopes: () => 'profile',
    granted: ({ payload }) => ({ sub: payload.sub, acr: payload.acr, tenant: payload.tenant }),
    headers: {
      'access-control-allow-origin': '*',
      'access-control-allow-headers': 'authorization',
    },
  });
  html = appPage({ issuer: issuer.issuer, api: api.url });
});

afterAll(async () => {
  await Promise.all([app?.close(), issuer?.close(), openIssuer?.close(), api?.close()]);
});

/** Console errors and dialogs of the issuer's pages: an escaped page has none. */
const issuerTrouble: string[] = [];
const tab = useChromium(async (page) => {
  issuerTrouble.length = 0;
  await page.setViewportSize({ width: 720, height: 900 });
  page.on('console', (message) => {
    const from = message.location().url;
    // Chromium reports the re-shown page's own 400 status as a console error: that one is expected.
    const expected = /^Failed to load resource: the server responded with a status of 400\b/.test(
      message.text(),
    );
    if (
      message.type() === 'error' &&
      !expected &&
      [issuer, openIssuer].some((i) => from.startsWith(i.issuer))
    ) {
      issuerTrouble.push(`console: ${message.text()}`);
    }
  });
  page.on('dialog', (dialog) => {
    issuerTrouble.push(`dialog: ${dialog.message()}`);
    void dialog.dismiss();
  });
});

const result = () => readResult<PageResult>(tab.page);

/** From the SPA's start page to the issuer's login page. */
async function toLoginPage(page: Page): Promise<void> {
  await page.goto(`${app.origin}/`);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL((url) => url.href.startsWith(`${issuer.issuer}/authorize`));
  await page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
}

/** What the login page holds that could run: scripts and event-handler attributes. */
function activeElements(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('*')].flatMap((element) => [
      ...(element.tagName === 'SCRIPT' ? ['<script>'] : []),
      ...[...element.attributes]
        .filter((a) => /^on/i.test(a.name))
        .map((a) => `${element.tagName}[${a.name}]`),
    ]),
  );
}

describe('the login page in Chromium', () => {
  it('signs a picked user in: the SPA gets a code, tokens, and an answer from an authenticate() API', async () => {
    await toLoginPage(tab.page);
    expect(await tab.page.title()).toBe('Log in · development identity provider');
    expect(await activeElements(tab.page)).toEqual([]);

    await tab.page.getByRole('button', { name: /^bob/ }).click();
    const { api: answer, error } = await result();
    expect(error).toBeUndefined();
    expect(answer).toEqual({ status: 200, body: { sub: 'bob', acr: 'urn:example:mfa' } });
    expect(tab.pageErrors).toEqual([]);
    expect(issuerTrouble).toEqual([]);
  });

  it('signs a typed subject in with typed claims, labelled fields and all', async () => {
    await toLoginPage(tab.page);
    await tab.page.getByLabel('Subject').fill('carol');
    await tab.page.getByLabel('Claims').fill('{"tenant": "t-1"}');
    await tab.page.getByRole('button', { name: 'Log in' }).click();
    expect((await result()).api).toEqual({ status: 200, body: { sub: 'carol', tenant: 't-1' } });
    expect(issuerTrouble).toEqual([]);
  });

  it('Cancel gives the SPA access_denied', async () => {
    await toLoginPage(tab.page);
    await tab.page.getByRole('button', { name: 'Cancel' }).click();
    expect((await result()).error).toMatchObject({
      name: 'AuthorizationResponseError',
      error: 'access_denied',
    });
  });

  it('prompt=none: login_required without a session, a code without the page with one', async () => {
    await tab.page.goto(`${app.origin}/?prompt=none`);
    expect((await result()).error).toMatchObject({ error: 'login_required' });

    await toLoginPage(tab.page);
    await tab.page.getByRole('button', { name: /^alice/ }).click();
    expect((await result()).api?.body.sub).toBe('alice');
    tab.responses.length = 0;
    await tab.page.goto(`${app.origin}/?prompt=none`);
    expect((await result()).api).toEqual({ status: 200, body: { sub: 'alice' } });
    const pages = tab.responses.filter((r) => r.url().startsWith(`${issuer.issuer}/authorize`));
    expect(pages.map((r) => r.status())).toEqual([302]);
  });

  it('after logout, prompt=none gives login_required', async () => {
    await toLoginPage(tab.page);
    await tab.page.getByRole('button', { name: /^alice/ }).click();
    expect((await result()).api?.body.sub).toBe('alice');
    await tab.page.goto(`${app.origin}/logout`);
    await tab.page.waitForURL((url) => url.pathname === '/logged-out');
    expect((await result()).loggedOut).toBe('?state=bye');
    await tab.page.goto(`${app.origin}/?prompt=none`);
    expect((await result()).error).toMatchObject({ error: 'login_required' });
  });

  it('saves the screenshot docs show (fixed values, so the image only changes when the page does)', async () => {
    const url = new URL(`${openIssuer.issuer}/authorize`);
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: 'my-spa',
      redirect_uri: 'http://localhost:5173/callback',
      scope: 'openid profile email',
      state: 'screenshot',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    }).toString();
    await tab.page.goto(url.href);
    await tab.page.getByRole('heading', { name: 'Log in', exact: true }).waitFor();
    const image = await tab.page.screenshot({ path: SCREENSHOT, fullPage: true });
    expect(image.subarray(1, 4).toString()).toBe('PNG');
    expect(issuerTrouble).toEqual([]);
  });

  it('works without JavaScript: the form posts and the browser lands on the callback with a code', async () => {
    const context = await tab.browser.newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      const url = new URL(`${issuer.issuer}/authorize`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: CLIENT_ID,
        redirect_uri: `${app.origin}/callback`,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
        state: 's-1',
      }).toString();
      await page.goto(url.href);
      await page.getByRole('button', { name: /^alice/ }).click();
      await page.waitForURL((landed) => landed.pathname === '/callback');
      const landed = new URL(page.url());
      expect(landed.searchParams.get('code')).toMatch(/^[\w-]{43}$/);
      expect(landed.searchParams.get('state')).toBe('s-1');
    } finally {
      await context.close();
    }
  });

  it('keeps hostile parameters and claims inert: no script, no handler, no dialog, no console error', async () => {
    for (const hostile of HOSTILE) {
      const url = new URL(`${openIssuer.issuer}/authorize`);
      url.search = new URLSearchParams({
        response_type: 'code',
        client_id: hostile,
        redirect_uri: `${app.origin}/callback?next=${encodeURIComponent(hostile)}`,
        scope: `openid ${hostile}`,
        state: hostile,
        code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
        code_challenge_method: 'S256',
      }).toString();
      await tab.page.goto(url.href);
      expect(await activeElements(tab.page)).toEqual([]);
      expect(await tab.page.locator('input[name="state"]').first().inputValue()).toBe(hostile);
      await tab.page.getByLabel('Subject').fill(hostile);
      await tab.page.getByLabel('Claims').fill(hostile);
      await tab.page.getByRole('button', { name: 'Log in' }).click();
      await tab.page.getByRole('alert').waitFor();
      expect(await activeElements(tab.page)).toEqual([]);
      expect(await tab.page.getByLabel('Claims').inputValue()).toBe(hostile);
    }
    expect(issuerTrouble).toEqual([]);
    expect(tab.pageErrors).toEqual([]);
  });
});

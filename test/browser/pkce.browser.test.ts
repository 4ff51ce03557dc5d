// The SPA flow in real headless Chromium: a page served from 127.0.0.1 loads the built
// ESM bundle of oauth-jwt-verify/pkce (dist/pkce/index.js and its chunks, as `npm run
// build` wrote them; CI builds before testing), discovers the stub issuer
// (oauth-jwt-verify/testing, listening on another 127.0.0.1 port), keeps state and verifier
// in sessionStorage across the redirect to /authorize, parses the callback, exchanges the
// code with a CORS POST and shows what it got. Node then verifies the access token the page
// reports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { type AppServer, BUNDLE, readResult, serveApp, spaPage, useChromium } from './harness.js';

const API = 'https://api.example.test';
const CLIENT_ID = 'browser-spa';

/** What the page reports in #result. */
interface PageResult {
  error?: { name: string; message: string; code?: string; error?: string };
  iss?: string;
  tokens?: { access_token: string; token_type: string; expires_in?: number; scope?: string };
  claims?: Record<string, unknown>;
  pendingLeft?: string | null;
  addressBar?: string;
}

/** The SPA: one page for both the start of the login and the /callback route. */
function appPage(config: { issuer: string; clientId: string; audience: string }): string {
  return spaPage({
    title: 'PKCE SPA',
    config,
    imports: 'discover, buildAuthorizationUrl, parseAuthorizationResponse, exchangeAuthorizationCode',
    script: `  const metadata = await discover(config.issuer);
  const redirectUri = location.origin + '/callback';
  if (location.pathname === '/callback') {
    const pending = JSON.parse(sessionStorage.getItem('oauth:pending') ?? 'null');
    sessionStorage.removeItem('oauth:pending');
    if (!pending) throw new Error('no login in progress in this tab');
    const { code, iss } = parseAuthorizationResponse(location.href, { expectedState: pending.state, metadata });
    history.replaceState(null, '', '/');
    show('status', 'exchanging');
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: config.clientId, code, codeVerifier: pending.codeVerifier, redirectUri,
    });
    const payload = tokens.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload));
    show('status', 'signed in');
    show('result', {
      iss, tokens, claims,
      pendingLeft: sessionStorage.getItem('oauth:pending'),
      addressBar: location.href,
    });
  } else {
    const request = await buildAuthorizationUrl(metadata, {
      clientId: config.clientId, redirectUri, scope: 'openid profile', audience: config.audience,
    });
    sessionStorage.setItem('oauth:pending', JSON.stringify({
      state: request.state, nonce: request.nonce, codeVerifier: request.codeVerifier,
    }));
    show('status', 'redirecting');
    location.assign(request.url);
  }`,
  });
}

const issuer = useTestIssuer({ listen: true, audience: API }, { reset: true });
let app: AppServer;
let appOrigin: string;

beforeAll(async () => {
  const html = appPage({ issuer: issuer.issuer, clientId: CLIENT_ID, audience: API });
  app = await serveApp({ '/': () => html, '/callback': () => html });
  appOrigin = app.origin;
});

afterAll(async () => {
  await app?.close();
});

const tab = useChromium();

/** Waits (across navigations) until the page has written its result, and reads it. */
const pageResult = () => readResult<PageResult>(tab.page);

describe('oauth-jwt-verify/pkce in Chromium', () => {
  it('signs in through the stub issuer and shows a verified access token', async () => {
    await tab.page.goto(`${appOrigin}/`);
    const result = await pageResult();
    expect(result.error).toBeUndefined();
    expect(tab.pageErrors).toEqual([]);
    expect(await tab.page.locator('#status').textContent()).toBe('signed in');

    // The page ran the built bundle from dist (the entry and its shared chunks).
    const scripts = tab.requests
      .map((r) => new URL(r.url()))
      .filter((url) => url.origin === appOrigin && url.pathname.startsWith('/dist/'));
    expect(scripts.map((url) => url.pathname)).toContain(BUNDLE);
    expect(scripts.some((url) => /^\/dist\/chunk-[\w-]+\.js$/.test(url.pathname))).toBe(true);

    // The page shows what the server sent, and cleaned up after itself.
    expect(result.iss).toBe(issuer.issuer);
    expect(result.tokens!.token_type).toBe('Bearer');
    expect(result.claims).toMatchObject({ iss: issuer.issuer, aud: API, client_id: CLIENT_ID });
    expect(result.pendingLeft).toBeNull();
    expect(result.addressBar).toBe(`${appOrigin}/`);

    // The page went to the issuer's authorization endpoint with PKCE S256, state and nonce …
    const authorize = tab.requests.find((r) => r.url().startsWith(issuer.metadata.authorization_endpoint!));
    expect(authorize).toBeDefined();
    const params = new URL(authorize!.url()).searchParams;
    expect(params.get('code_challenge_method')).toBe('S256');
    expect(params.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('state')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(params.get('audience')).toBe(API);
    expect(params.has('code_verifier')).toBe(false);

    // … and exchanged the code in a form-encoded POST, verifier in the body, not the URL.
    const token = tab.requests.find(
      (r) => r.url().startsWith(issuer.metadata.token_endpoint!) && r.method() === 'POST',
    );
    expect(token).toBeDefined();
    expect(new URL(token!.url()).search).toBe('');
    expect(await token!.headerValue('content-type')).toMatch(/^application\/x-www-form-urlencoded/);
    const form = new URLSearchParams(token!.postData() ?? '');
    expect(form.get('grant_type')).toBe('authorization_code');
    expect(form.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(form.get('client_id')).toBe(CLIENT_ID);
    expect(issuer.requests.authorize).toBe(1);
    expect(issuer.requests.token).toBe(1);

    // The access token the page shows verifies on the Node side (RFC 9068 at+jwt).
    const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API, typ: 'at+jwt' });
    const { payload } = await verifier.verify(result.tokens!.access_token);
    expect(payload).toMatchObject(result.claims!);
  });

  it('refuses a callback whose state is not the one this tab stored, and exchanges nothing', async () => {
    await tab.page.addInitScript(() => {
      sessionStorage.setItem(
        'oauth:pending',
        JSON.stringify({
          state: 'this-tabs-state',
          codeVerifier: 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk',
        }),
      );
    });
    const forged = new URL(`${appOrigin}/callback`);
    forged.searchParams.set('code', 'attacker-code');
    forged.searchParams.set('state', 'attacker-state');
    forged.searchParams.set('iss', issuer.issuer);
    await tab.page.goto(forged.href);
    const result = await pageResult();
    expect(result.error).toMatchObject({ name: 'AuthorizationResponseError', error: 'state_mismatch' });
    expect(issuer.requests.token).toBe(0);
    expect(tab.requests.some((r) => r.url().startsWith(issuer.metadata.token_endpoint!))).toBe(false);
  });

  it('shows the issuer error when the user is sent back with error=access_denied', async () => {
    await tab.page.addInitScript(() => {
      sessionStorage.setItem('oauth:pending', JSON.stringify({ state: 's-1', codeVerifier: 'x'.repeat(43) }));
    });
    const denied = new URL(`${appOrigin}/callback`);
    denied.searchParams.set('error', 'access_denied');
    denied.searchParams.set('error_description', 'The user cancelled');
    denied.searchParams.set('state', 's-1');
    denied.searchParams.set('iss', issuer.issuer);
    await tab.page.goto(denied.href);
    const result = await pageResult();
    expect(result.error).toMatchObject({
      name: 'AuthorizationResponseError',
      error: 'access_denied',
      message: 'the authorization server answered access_denied: The user cancelled',
    });
    expect(issuer.requests.token).toBe(0);
  });
});

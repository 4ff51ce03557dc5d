// Step-up authentication (RFC 9470) in real headless Chromium: an SPA (the built bundle of
// oauth-jwt-verify/pkce) signs alice in through the stub issuer (her usual login, acr "pwd"),
// calls a payments route of an Express API on another 127.0.0.1 port that requires acr "mfa"
// within 300 s, gets 401 insufficient_user_authentication, reads acr_values and max_age with
// parseWwwAuthenticate, logs in again asking for them (login_hint: the stub shows no page),
// and the call then succeeds.
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { bearerAuth, requireAuthentication } from '../../src/express/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { type AppServer, readResult, serveApp, spaPage, useChromium } from './harness.js';

const API_AUDIENCE = 'https://payments.example.test';
const CLIENT_ID = 'browser-spa';

/** One call of the payments route, as the page saw it. */
interface ApiCall {
  status: number;
  challenge: Record<string, string> | null;
  body: Record<string, unknown>;
  claims: Record<string, unknown>;
}

interface PageResult {
  error?: { name: string; message: string; code?: string };
  calls?: ApiCall[];
}

function appPage(config: { issuer: string; clientId: string; audience: string; api: string }): string {
  return spaPage({
    title: 'Step-up SPA',
    config,
    imports:
      'discover, buildAuthorizationUrl, parseAuthorizationResponse, exchangeAuthorizationCode, parseWwwAuthenticate',
    script: `  const metadata = await discover(config.issuer);
  const redirectUri = location.origin + '/callback';
  const login = async (stepUp) => {
    const request = await buildAuthorizationUrl(metadata, {
      clientId: config.clientId, redirectUri, scope: 'openid', audience: config.audience,
      loginHint: 'alice', ...stepUp,
    });
    sessionStorage.setItem('oauth:pending', JSON.stringify({ state: request.state, codeVerifier: request.codeVerifier }));
    show('status', 'redirecting');
    location.assign(request.url);
  };
  if (location.pathname !== '/callback') {
    sessionStorage.removeItem('calls');
    await login({});
  } else {
    const pending = JSON.parse(sessionStorage.getItem('oauth:pending') ?? 'null');
    sessionStorage.removeItem('oauth:pending');
    const { code } = parseAuthorizationResponse(location.href, { expectedState: pending.state, metadata });
    history.replaceState(null, '', '/');
    const tokens = await exchangeAuthorizationCode(metadata, {
      clientId: config.clientId, code, codeVerifier: pending.codeVerifier, redirectUri,
    });
    const claims = JSON.parse(atob(tokens.access_token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    const response = await fetch(config.api, { headers: { authorization: 'Bearer ' + tokens.access_token } });
    const bearer = parseWwwAuthenticate(response.headers.get('www-authenticate')).find((c) => c.scheme === 'bearer');
    const calls = JSON.parse(sessionStorage.getItem('calls') ?? '[]');
    calls.push({ status: response.status, challenge: bearer?.params ?? null, body: await response.json(), claims });
    sessionStorage.setItem('calls', JSON.stringify(calls));
    if (response.status === 401 && bearer?.params.error === 'insufficient_user_authentication' && calls.length < 3) {
      // RFC 9470 §4: log in again asking for what the resource named.
      const { acr_values: acrValues, max_age: maxAge } = bearer.params;
      await login({
        ...(acrValues ? { acrValues: acrValues.split(' ') } : {}),
        ...(maxAge ? { maxAge: Number(maxAge) } : {}),
      });
    } else {
      show('status', 'done');
      show('result', { calls });
    }
  }`,
  });
}

const issuer = useTestIssuer({
  listen: true,
  audience: API_AUDIENCE,
  users: [{ sub: 'alice', acr: 'pwd' }],
});
let app: AppServer;
let api: Server;

beforeAll(async () => {
  const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API_AUDIENCE });
  let appOrigin = '';
  const payments = express();
  // The SPA is on another origin: it may send Authorization and read WWW-Authenticate.
  payments.use((req, res, next) => {
    res.set({
      'access-control-allow-origin': appOrigin,
      'access-control-allow-headers': 'authorization',
      'access-control-expose-headers': 'WWW-Authenticate',
      vary: 'origin',
    });
    if (req.method === 'OPTIONS') res.status(204).end();
    else next();
  });
  payments.use('/api', bearerAuth(verifier, { realm: 'payments' }));
  payments.get(
    '/api/payments',
    requireAuthentication({ acrValues: ['mfa'], maxAgeSeconds: 300 }),
    (req, res) => {
      res.json({ paid: true, sub: req.auth!.payload.sub });
    },
  );
  api = createServer(payments);
  await new Promise<void>((resolve) => api.listen(0, '127.0.0.1', resolve));
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api/payments`;
  const html = appPage({ issuer: issuer.issuer, clientId: CLIENT_ID, audience: API_AUDIENCE, api: apiUrl });
  app = await serveApp({ '/': () => html, '/callback': () => html });
  appOrigin = app.origin;
});

afterAll(async () => {
  await app?.close();
  api?.closeAllConnections();
  await new Promise((resolve) => api?.close(resolve));
});

const tab = useChromium();

describe('step-up authentication in Chromium (RFC 9470)', () => {
  it('answers the challenge by logging in again with the acr asked for, then the call succeeds', async () => {
    await tab.page.goto(`${app.origin}/`);
    const result = await readResult<PageResult>(tab.page);
    expect(result.error).toBeUndefined();
    expect(tab.pageErrors).toEqual([]);
    const [first, second] = result.calls!;
    expect(result.calls).toHaveLength(2);

    // Alice's usual login is not enough for payments: the API says what it needs.
    expect(first!.claims).toMatchObject({ sub: 'alice', acr: 'pwd', auth_time: expect.any(Number) });
    expect(first!.status).toBe(401);
    expect(first!.body).toMatchObject({
      error: 'insufficient_user_authentication',
      code: 'ERR_INSUFFICIENT_AUTHENTICATION',
    });
    expect(first!.challenge).toMatchObject({
      realm: 'payments',
      error: 'insufficient_user_authentication',
      acr_values: 'mfa',
      max_age: '300',
    });

    // The second login asked for it, and the stub recorded the stronger login.
    const authorizations = tab.requests
      .filter((request) => request.url().startsWith(issuer.metadata.authorization_endpoint!))
      .map((request) => new URL(request.url()).searchParams);
    expect(authorizations).toHaveLength(2);
    expect(authorizations[0]!.has('acr_values')).toBe(false);
    expect(authorizations[1]!.get('acr_values')).toBe('mfa');
    expect(authorizations[1]!.get('max_age')).toBe('300');
    expect(authorizations[1]!.get('login_hint')).toBe('alice');
    expect(second!.claims).toMatchObject({ sub: 'alice', acr: 'mfa' });
    expect(second!.status).toBe(200);
    expect(second!.body).toEqual({ paid: true, sub: 'alice' });
    expect(issuer.requests).toMatchObject({ authorize: 2, token: 2 });
  });
});

// openid-client 6, a strict relying party written by others, through the login page of a
// stub issuer listening on 127.0.0.1: discovery, the code flow with PKCE, nonce, max_age and
// the RFC 9207 iss check, the login form POSTed as a browser would; then RP-initiated logout
// and a silent login that finds no session.
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { useTestIssuer } from '../support/fixture.js';
import { configure } from './openid-client.js';
import { type LoginBrowser, button, loginBrowser, parsePage } from '../support/login-page.js';

const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
const LOGGED_OUT = 'http://127.0.0.1:5173/';

const issuer = useTestIssuer({
  listen: true,
  interactiveLogin: true,
  audience: 'https://api.example.test',
  users: [{ sub: 'alice', claims: { name: 'Alice Example' }, acr: 'urn:example:mfa' }],
  clients: [{ clientId: 'rp', redirectUris: [REDIRECT_URI], postLogoutRedirectUris: [LOGGED_OUT] }],
});

function discover() {
  return configure(issuer, 'rp');
}

/** openid-client's authorization URL, opened in `browser`; the checks to redeem its answer. */
async function start(
  config: client.Configuration,
  browser: LoginBrowser,
  extra: Record<string, string> = {},
) {
  const pkceCodeVerifier = client.randomPKCECodeVerifier();
  const expectedState = client.randomState();
  const expectedNonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    scope: 'openid profile',
    code_challenge: await client.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    state: expectedState,
    nonce: expectedNonce,
    ...extra,
  });
  const response = await browser.get(url);
  return { url, response, checks: { pkceCodeVerifier, expectedState, expectedNonce } };
}

describe('openid-client through the login page', () => {
  it('logs in by the form, gets verified tokens, logs out, then finds no session', async () => {
    const config = await discover();
    expect(config.serverMetadata().end_session_endpoint).toBe(`${issuer.issuer}/logout`);
    const browser = loginBrowser();

    const { url, response, checks } = await start(config, browser, { max_age: '300' });
    expect(response.status).toBe(200);
    const page = parsePage(await response.text());
    const { form, button: alice } = button(page, 'user', 'alice');
    const answered = await browser.submit(url, form, alice);
    expect(answered.status).toBe(303);
    const tokens = await client.authorizationCodeGrant(config, new URL(answered.headers.get('location')!), {
      ...checks,
      maxAge: 300,
      idTokenExpected: true,
    });
    expect(tokens.claims()).toMatchObject({ sub: 'alice', name: 'Alice Example', acr: 'urn:example:mfa' });
    const verifier = new JwtVerifier({
      issuer: issuer.issuer,
      audience: 'https://api.example.test',
      typ: 'at+jwt',
    });
    expect((await verifier.verify(tokens.access_token)).payload).toMatchObject({
      sub: 'alice',
      client_id: 'rp',
    });

    // The session answers a silent login.
    const silent = await start(config, browser, { prompt: 'none' });
    const again = await client.authorizationCodeGrant(
      config,
      new URL(silent.response.headers.get('location')!),
      {
        ...silent.checks,
        idTokenExpected: true,
      },
    );
    expect(again.claims()).toMatchObject({ sub: 'alice', auth_time: tokens.claims()!.auth_time });

    const endSession = client.buildEndSessionUrl(config, {
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: LOGGED_OUT,
      state: 'bye',
    });
    const loggedOut = await browser.get(endSession);
    expect(loggedOut.status).toBe(302);
    expect(loggedOut.headers.get('location')).toBe(`${LOGGED_OUT}?state=bye`);
    expect(issuer.requests.logout).toBe(1);

    const after = await start(config, browser, { prompt: 'none' });
    const refused = await client
      .authorizationCodeGrant(config, new URL(after.response.headers.get('location')!), after.checks)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(client.AuthorizationResponseError);
    expect(refused).toMatchObject({ error: 'login_required' });
  });

  it('gets access_denied when the user cancels', async () => {
    const config = await discover();
    const browser = loginBrowser();
    const { url, response, checks } = await start(config, browser);
    const { form, button: cancel } = button(parsePage(await response.text()), 'action', 'cancel');
    const answered = await browser.submit(url, form, cancel);
    const refused = await client
      .authorizationCodeGrant(config, new URL(answered.headers.get('location')!), checks)
      .catch((error: unknown) => error);
    expect(refused).toMatchObject({ error: 'access_denied' });
  });
});

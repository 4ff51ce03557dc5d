// openid-client 6, a strict client written by others, against every issuer of a multi-issuer
// `oauth-jwt-verify issuer` command: discovery, the code flow with PKCE through the login page
// (the form POSTed as a browser would), refresh, client credentials.
import * as client from 'openid-client';
import { decodeJwt } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { type IssuerCommand, startIssuerCommand } from '../../support/issuer-command.js';
import { BUILD_TIMEOUT_MS, ensureBuilt } from '../../cli/helpers.js';
import { button, loginBrowser, parsePage } from '../../support/login-page.js';
import { configure } from '../openid-client.js';

const REDIRECT_URI = 'http://127.0.0.1:5173/callback';
const CONFIG = {
  audience: 'https://api.example',
  users: [{ sub: 'alice', claims: { name: 'Alice', email: 'alice@example.com' } }],
  clients: [
    { clientId: 'spa', redirectUris: [REDIRECT_URI] },
    { clientId: 'worker', clientSecret: 'worker-secret' },
  ],
  issuers: {
    main: { algorithms: ['ES256'] },
    auth0: { profile: 'auth0' },
    // RS256: without OpenID Connect metadata, a client expects ID tokens in RS256 (OIDC Core §3.1.3.7).
    archera: { profile: 'rfc8414' },
  },
};

let command: IssuerCommand;

beforeAll(async () => {
  await ensureBuilt();
  command = await startIssuerCommand(['--quiet'], { OJV_ISSUER_CONFIG: JSON.stringify(CONFIG) });
}, BUILD_TIMEOUT_MS);

function discover(
  issuer: string,
  id: string,
  clientId: string,
  secret?: string,
): Promise<client.Configuration> {
  // The rfc8414 profile publishes RFC 8414 metadata only.
  const auth = secret === undefined ? undefined : client.ClientSecretPost(secret);
  return configure({ issuer }, clientId, auth, {}, id === 'archera' ? 'oauth2' : 'oidc');
}

describe('openid-client 6 against each issuer of one server', () => {
  it.each(Object.keys(CONFIG.issuers))(
    '%s: discovery, code flow with PKCE through the login page, refresh',
    async (id) => {
      const issuer = command.issuers[id]!;
      const config = await discover(issuer, id, 'spa');
      expect(config.serverMetadata().issuer).toBe(issuer);

      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const url = client.buildAuthorizationUrl(config, {
        redirect_uri: REDIRECT_URI,
        scope: 'openid offline_access',
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: 'S256',
        state,
      });
      // The command shows its login page: pick alice on it, as a user would.
      const browser = loginBrowser();
      const page = await browser.get(url);
      expect(page.status).toBe(200);
      const { form, button: alice } = button(parsePage(await page.text()), 'user', 'alice');
      const answered = await browser.submit(url, form, alice);
      expect(answered.status).toBe(303);
      const callback = new URL(answered.headers.get('location')!);
      expect(`${callback.origin}${callback.pathname}`).toBe(REDIRECT_URI);

      const tokens = await client.authorizationCodeGrant(config, callback, {
        pkceCodeVerifier: verifier,
        expectedState: state,
      });
      expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: issuer, sub: 'alice' });
      expect(tokens.claims()?.sub).toBe('alice');
      expect(tokens.refresh_token).toEqual(expect.any(String));

      const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token!);
      expect(decodeJwt(refreshed.access_token)).toMatchObject({ iss: issuer, sub: 'alice' });
      expect(refreshed.access_token).not.toBe(tokens.access_token);
    },
  );

  it.each(Object.keys(CONFIG.issuers))('%s: client credentials with a client secret', async (id) => {
    const issuer = command.issuers[id]!;
    const config = await discover(issuer, id, 'worker', 'worker-secret');
    const tokens = await client.clientCredentialsGrant(config, { scope: 'read' });
    expect(decodeJwt(tokens.access_token)).toMatchObject({ iss: issuer, sub: 'worker', scope: 'read' });
    const wrong = await discover(issuer, id, 'worker', 'not-the-secret');
    await expect(client.clientCredentialsGrant(wrong)).rejects.toMatchObject({ error: 'invalid_client' });
  });
});

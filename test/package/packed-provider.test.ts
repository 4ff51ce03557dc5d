// The development identity provider's endpoints from the packed package, as a user installs
// it: a consumer project (no access to src/) gets a user's token from the installed stub
// issuer's JWT bearer grant, exchanges it for a downstream API (RFC 8693), calls userinfo,
// and a hook's OAuthError answers a token request.
import { describe, expect, it } from 'vitest';
import { runConsumer, usePackedPackage } from './packed-package.js';

/** The consumer's script: imports only the installed package, prints one JSON report. */
const CONSUMER = String.raw`
import { JwtVerifier } from 'oauth-jwt-verify';
import { OAuthError, createTestIssuer } from 'oauth-jwt-verify/testing';
import { createRequire } from 'node:module';

const report = {};
const issuer = await createTestIssuer({
  listen: true,
  audience: ['https://api.test', 'https://orders.test'],
  users: [{ sub: 'alice', claims: { email: 'alice@example.test', email_verified: true } }],
});
const post = async (url, fields, headers = {}) => {
  const response = await fetch(url, { method: 'POST', headers, body: new URLSearchParams(fields) });
  return { status: response.status, body: await response.json() };
};
try {
  const subject = await issuer.sign({ sub: 'alice', scope: 'openid email orders:read' }, { header: { typ: 'at+jwt' } });
  const exchanged = await post(issuer.metadata.token_endpoint, {
    grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
    client_id: 'gateway',
    subject_token: subject,
    subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
    audience: 'https://orders.test',
    scope: 'orders:read',
  });
  const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: 'https://orders.test', typ: 'at+jwt' });
  const { payload } = await verifier.verify(exchanged.body.access_token);
  report.exchange = { issued: exchanged.body.issued_token_type, sub: payload.sub, aud: payload.aud, scope: payload.scope };
  const info = await fetch(issuer.metadata.userinfo_endpoint, { headers: { authorization: 'Bearer ' + subject } });
  report.userinfo = { status: info.status, body: await info.json(), count: issuer.requests.userinfo };
  issuer.onToken(() => { throw new OAuthError('access_denied', 'no exchange today', 403); }, { once: true });
  const refused = await post(issuer.metadata.token_endpoint, { grant_type: 'client_credentials', client_id: 'gateway' });
  report.hook = refused;
  report.require = typeof createRequire(import.meta.url)('oauth-jwt-verify/testing').OAuthError;
} finally {
  await issuer.close();
}
process.stdout.write(JSON.stringify(report));
`;

const packed = usePackedPackage('provider', { 'provider.mjs': CONSUMER });

describe('the identity provider endpoints from the packed package', () => {
  it('exchanges a token for a downstream API, answers userinfo, and answers a hook’s OAuthError', async () => {
    expect(JSON.parse(await runConsumer(packed, 'provider.mjs'))).toEqual({
      exchange: {
        issued: 'urn:ietf:params:oauth:token-type:access_token',
        sub: 'alice',
        aud: 'https://orders.test',
        scope: 'orders:read',
      },
      userinfo: {
        status: 200,
        body: { sub: 'alice', email: 'alice@example.test', email_verified: true },
        count: 1,
      },
      hook: { status: 403, body: { error: 'access_denied', error_description: 'no exchange today' } },
      require: 'function',
    });
  });
});

// discover() for an issuer with a path asks in the MCP authorization spec's order, in ./pkce
// and in the main entry alike, and takes a document only when its issuer is the issuer asked
// for, exactly (RFC 8414 §3.3).
import { HttpResponse, http } from 'msw';
import { describe, expect, it } from 'vitest';
import { JwtVerifier, discover as rootDiscover } from '../../src/index.js';
import { discover, isJwtVerifyError } from '../../src/pkce/index.js';
import { gets, useRecordingMsw } from './fixtures.js';
import { caught } from '../support/rejections.js';

const ISSUER = 'https://idp.test/tenant-1';
const OAUTH = 'https://idp.test/.well-known/oauth-authorization-server/tenant-1';
const OIDC_INSERTED = 'https://idp.test/.well-known/openid-configuration/tenant-1';
const OIDC_APPENDED = 'https://idp.test/tenant-1/.well-known/openid-configuration';
const document = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  jwks_uri: `${ISSUER}/jwks`,
};

const { server, asked } = useRecordingMsw();

const notFound = (url: string) =>
  http.get(url, () => HttpResponse.json({ error: 'not_found' }, { status: 404 }));

describe.each([
  ['oauth-jwt-verify/pkce', discover],
  ['oauth-jwt-verify', rootDiscover],
])('%s discover() for an issuer with a path', (_entry, discoverIn) => {
  it('asks RFC 8414, then OIDC inserted, then OIDC appended, stopping at the first there', async () => {
    server.use(
      notFound(OAUTH),
      http.get(OIDC_INSERTED, () => HttpResponse.json(document)),
    );
    expect(await discoverIn(ISSUER)).toEqual(document);
    expect(asked()).toEqual(gets(OAUTH, OIDC_INSERTED));
  });

  it('reaches the appended OIDC document last', async () => {
    server.use(
      notFound(OAUTH),
      notFound(OIDC_INSERTED),
      http.get(OIDC_APPENDED, () => HttpResponse.json(document)),
    );
    expect(await discoverIn(ISSUER)).toEqual(document);
    expect(asked()).toEqual(gets(OAUTH, OIDC_INSERTED, OIDC_APPENDED));
  });

  it('refuses a document whose issuer is not exactly the one asked for, and looks no further', async () => {
    server.use(
      notFound(OAUTH),
      http.get(OIDC_INSERTED, () => HttpResponse.json({ ...document, issuer: 'https://idp.test/' })),
    );
    const error = await caught(() => discoverIn(ISSUER));
    expect(isJwtVerifyError(error, 'ERR_METADATA_INVALID')).toBe(true);
    expect(error.message).toContain(OIDC_INSERTED);
    expect(error.message).toContain('expected "https://idp.test/tenant-1" exactly');
    expect(asked()).toEqual(gets(OAUTH, OIDC_INSERTED));
  });

  it("keeps 'oidc' mode to the appended document (OpenID Connect Discovery §4)", async () => {
    server.use(http.get(OIDC_APPENDED, () => HttpResponse.json(document)));
    await discoverIn(ISSUER, { discovery: 'oidc' });
    expect(asked()).toEqual(gets(OIDC_APPENDED));
  });
});

describe('an issuer without a path', () => {
  it('gets two URLs, RFC 8414 then OIDC, the verifier included', async () => {
    server.use(
      notFound('https://root.test/.well-known/oauth-authorization-server'),
      http.get('https://root.test/.well-known/openid-configuration', () =>
        HttpResponse.json({ issuer: 'https://root.test', jwks_uri: 'https://root.test/jwks' }),
      ),
    );
    const verifier = new JwtVerifier({ issuer: 'https://root.test', audience: null });
    expect((await verifier.metadata()).issuer).toBe('https://root.test');
    expect(asked()).toEqual(
      gets(
        'https://root.test/.well-known/oauth-authorization-server',
        'https://root.test/.well-known/openid-configuration',
      ),
    );
  });
});

// openid-client 6 as the strict client of the stub issuer: a configuration for one issuer,
// reached through msw or over real HTTP, and the user tokens of a code flow with openid.
import { generateKeyPair, exportJWK, type CryptoKey } from 'jose';
import * as client from 'openid-client';
import { JwtVerifier } from '../../src/index.js';
import type { TestIssuer, TestIssuerOptions } from '../../src/testing/index.js';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { useTestIssuer } from '../support/fixture.js';

/**
 * The same issuer options served two ways, for `describe.each`: through msw (requests to
 * anything but 127.0.0.1 that no handler takes fail the test) and on a real HTTP server.
 */
export function useIssuerPair(options: TestIssuerOptions): readonly (readonly [string, TestIssuer])[] {
  const server = setupServer();
  beforeAll(() =>
    server.listen({
      onUnhandledRequest: (request, print) => {
        if (new URL(request.url).hostname !== '127.0.0.1') print.error();
      },
    }),
  );
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  const viaMsw = useTestIssuer(options, { reset: true });
  beforeEach(() => server.use(...viaMsw.handlers));
  const live = useTestIssuer({ ...options, listen: true }, { reset: true });
  return [
    ['through msw', viaMsw],
    ['over real HTTP', live],
  ] as const;
}

/**
 * openid-client's configuration for `clientId` at `issuer`, by OpenID Connect discovery
 * (`algorithm: 'oauth2'`: RFC 8414 metadata only, as the rfc8414 profile serves).
 */
export function configure(
  issuer: Pick<TestIssuer, 'issuer'>,
  clientId: string,
  authentication?: client.ClientAuth,
  clientMetadata: Partial<client.ClientMetadata> = {},
  algorithm: 'oidc' | 'oauth2' = 'oidc',
): Promise<client.Configuration> {
  const insecure = issuer.issuer.startsWith('http:');
  return client.discovery(new URL(issuer.issuer), clientId, clientMetadata, authentication ?? client.None(), {
    algorithm,
    ...(insecure ? { execute: [client.allowInsecureRequests] } : {}),
  });
}

/** A client key pair: the private key for `private_key_jwt`, the public JWK (with `kid`) to register. */
export async function clientKey(
  alg = 'ES256',
  kid = `client-key-${alg}`,
): Promise<{
  privateKey: CryptoKey;
  publicJwk: Record<string, unknown>;
  kid: string;
}> {
  const pair = await generateKeyPair(alg, { extractable: true });
  return { privateKey: pair.privateKey, publicJwk: { ...(await exportJWK(pair.publicKey)), kid, alg }, kid };
}

export const REDIRECT_URI = 'http://127.0.0.1:5173/callback';

/**
 * A code flow with openid-client (PKCE, state, nonce; `login_hint` picks the user): its
 * token response, with the ID token already validated by openid-client.
 */
export async function codeFlowTokens(
  config: client.Configuration,
  parameters: Record<string, string>,
  options: { DPoP?: client.DPoPHandle } = {},
): Promise<client.TokenEndpointResponse & client.TokenEndpointResponseHelpers> {
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: REDIRECT_URI,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...parameters,
  });
  const answer = await fetch(url, { redirect: 'manual' });
  const location = answer.headers.get('location');
  if (!location) throw new Error(`no redirect from /authorize: ${answer.status} ${await answer.text()}`);
  return client.authorizationCodeGrant(
    config,
    new URL(location),
    { pkceCodeVerifier: codeVerifier, expectedState: state, expectedNonce: nonce },
    undefined,
    options,
  );
}

/** Verifies an access token the issuer handed out, as a resource server would (RFC 9068 `at+jwt`). */
export async function verifyIssued(
  issuer: TestIssuer,
  token: string,
  audience: string | readonly string[] | null = null,
): Promise<Record<string, unknown>> {
  const verifier = new JwtVerifier({
    issuer: issuer.issuer,
    audience: audience as string,
    typ: 'at+jwt',
    jwksUri: issuer.metadata.jwks_uri!,
    fetch: issuer.fetch,
  });
  return (await verifier.verify(token)).payload;
}

import type { SetupServer } from 'msw/node';
import { afterEach, beforeEach, expect } from 'vitest';
import { type AuthorizationServerMetadata, isJwtVerifyError } from '../../src/pkce/index.js';
import { recordRequests, useMsw } from '../support/msw.js';

/** Metadata shaped like the Altostrat seed's Auth0-backed issuer. */
export const metadata: AuthorizationServerMetadata = {
  issuer: 'https://signin.altostrat.io/',
  authorization_endpoint: 'https://signin.altostrat.io/authorize',
  token_endpoint: 'https://signin.altostrat.io/oauth/token',
  revocation_endpoint: 'https://signin.altostrat.io/oauth/revoke',
  jwks_uri: 'https://signin.altostrat.io/.well-known/jwks.json',
  response_types_supported: ['code'],
  code_challenge_methods_supported: ['S256', 'plain'],
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
};

/** The token and revocation endpoints of {@link metadata}. */
export const TOKEN = metadata.token_endpoint!;
export const REVOKE = metadata.revocation_endpoint!;

/** The RFC 7636 Appendix B example. */
export const RFC7636_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const RFC7636_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** A code exchange of the SPA client at {@link metadata}'s token endpoint. */
export const exchange = {
  clientId: 'spa-client',
  code: 'code-1',
  codeVerifier: RFC7636_VERIFIER,
  redirectUri: 'https://app.example.com/callback',
};

/**
 * A msw server for this file (unhandled requests fail) and `asked()`: the `GET <url>` lines
 * of the current test's requests, to compare with `gets(url, …)`.
 */
export function useRecordingMsw(): { server: SetupServer; asked: () => string[] } {
  const server = useMsw();
  let asked: string[] = [];
  beforeEach(() => {
    asked = recordRequests(server);
  });
  afterEach(() => server.events.removeAllListeners());
  return { server, asked: () => asked };
}

/** The lines `useRecordingMsw().asked()` holds for GETs of `urls`. */
export const gets = (...urls: string[]): string[] => urls.map((url) => `GET ${url}`);

/**
 * Expects `error` to be what a server's answer became: a `type` named as its class, not a
 * JwtVerifyError (not an outage), with `fields`.
 */
export function expectAnswerError(
  error: unknown,
  type: abstract new (...args: never[]) => Error,
  fields: Record<string, unknown> = {},
): void {
  expect(error).toBeInstanceOf(type);
  expect(isJwtVerifyError(error)).toBe(false);
  expect(error).toMatchObject({ name: type.name, ...fields });
}

import type { AuthorizationServerMetadata } from '../../src/pkce/index.js';

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

/** The RFC 7636 Appendix B example. */
export const RFC7636_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const RFC7636_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';

/** Catches a rejection or throw and returns it, failing when there is none. */
export async function caught(run: () => unknown): Promise<Record<string, unknown> & Error> {
  try {
    await run();
  } catch (error) {
    return error as Record<string, unknown> & Error;
  }
  throw new Error('expected an error, got none');
}

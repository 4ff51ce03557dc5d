import { base64url } from 'jose';
import { expect } from 'vitest';
import type { AuthorizationServerMetadata } from '../../src/issuer/discovery.js';

type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** An RFC 7636 verifier and its S256 challenge, computed with Web Crypto. */
export async function pkcePair(): Promise<{ verifier: string; challenge: string }> {
  const verifier = base64url.encode(crypto.getRandomValues(new Uint8Array(32)));
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return { verifier, challenge: base64url.encode(new Uint8Array(digest)) };
}

/** A form-encoded POST, as a token or revocation request is sent. */
export function postForm(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers, body: new URLSearchParams(fields) };
}

export const CLIENT_ID = 'spa';
export const REDIRECT_URI = 'http://127.0.0.1:5173/callback';

/** Calls `/authorize` without following the redirect; returns the callback URL it points to. */
export async function authorize(
  fetchFn: FetchFn,
  metadata: AuthorizationServerMetadata,
  params: Record<string, string>,
): Promise<{ status: number; callback: URL | undefined; body: unknown }> {
  const url = new URL(metadata.authorization_endpoint!);
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  const response = await fetchFn(url, { redirect: 'manual' });
  const location = response.headers.get('location');
  const body = location ? undefined : await response.json();
  return { status: response.status, callback: location ? new URL(location) : undefined, body };
}

/** The SPA's `/authorize` parameters for a fresh S256 PKCE pair, `extra` on top, and the verifier. */
export async function authorizeParams(
  extra: Record<string, string> = {},
): Promise<{ verifier: string; params: Record<string, string> }> {
  const { verifier, challenge } = await pkcePair();
  const params = {
    response_type: 'code',
    client_id: CLIENT_ID,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: 'state-1',
    ...extra,
  };
  return { verifier, params };
}

/** `/authorize` with {@link authorizeParams}: the callback, the code it carries and the PKCE verifier. */
export async function authorizeCode(
  fetchFn: FetchFn,
  metadata: AuthorizationServerMetadata,
  extra: Record<string, string> = {},
): Promise<{ callback: URL; code: string; verifier: string }> {
  const { verifier, params } = await authorizeParams(extra);
  const { callback } = await authorize(fetchFn, metadata, params);
  const code = callback?.searchParams.get('code');
  if (!callback || !code) throw new Error(`no code in ${callback?.href}`);
  return { callback, code, verifier };
}

/** The SPA's token request form redeeming `code` with `verifier`, `extra` on top. */
export function codeExchange(
  code: string,
  verifier: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    grant_type: 'authorization_code',
    client_id: CLIENT_ID,
    code,
    code_verifier: verifier,
    redirect_uri: REDIRECT_URI,
    ...extra,
  };
}

/**
 * The SPA's whole authorization-code flow: PKCE pair, `/authorize`, then the code exchange.
 * Returns the token response and what the flow used.
 */
export async function codeFlow(
  fetchFn: FetchFn,
  metadata: AuthorizationServerMetadata,
  extra: Record<string, string> = {},
): Promise<{ tokens: Record<string, unknown>; callback: URL; verifier: string; code: string }> {
  const { callback, code, verifier } = await authorizeCode(fetchFn, metadata, extra);
  const response = await fetchFn(metadata.token_endpoint!, postForm(codeExchange(code, verifier)));
  const tokens = (await response.json()) as Record<string, unknown>;
  if (response.status !== 200)
    throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(tokens)}`);
  return { tokens, callback, verifier, code };
}

/**
 * Sends the CORS preflight an SPA on another port sends before a POST with `requestHeaders`
 * and expects it allowed: 204, any origin, POST, and those headers.
 */
export async function expectPreflightAllowed(fetchFn: FetchFn, url: string, requestHeaders: string) {
  const response = await fetchFn(url, {
    method: 'OPTIONS',
    headers: {
      origin: 'http://127.0.0.1:5173',
      'access-control-request-method': 'POST',
      'access-control-request-headers': requestHeaders,
    },
  });
  expect(response.status).toBe(204);
  expect(response.headers.get('access-control-allow-origin')).toBe('*');
  expect(response.headers.get('access-control-allow-methods')).toContain('POST');
  expect(response.headers.get('access-control-allow-headers')).toBe(requestHeaders);
}

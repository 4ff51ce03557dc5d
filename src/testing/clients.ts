// The clients the stub issuer knows: registered ones, their redirect URIs and authentication.
import { oauthError } from './responses.js';
import type { TestClient } from './types.js';

/**
 * The clients the issuer knows: those configured (`clients`; without them any client id is
 * accepted) and those registered at its registration endpoint (RFC 7591), which are always
 * held to their registration.
 */
export class ClientRegistry {
  readonly #configured: readonly TestClient[] | undefined;
  readonly #registered = new Map<string, TestClient>();
  readonly #documents: { get(clientId: string): TestClient | undefined } | undefined;

  /** `documents`: the clients of Client ID Metadata Documents fetched and still fresh. */
  constructor(
    configured: readonly TestClient[] | undefined,
    documents?: { get(clientId: string): TestClient | undefined },
  ) {
    this.#configured = configured;
    this.#documents = documents;
  }

  /** The client with this id; `known: false` only when the issuer accepts no unknown client. */
  find(clientId: string): { client: TestClient | undefined; known: boolean } {
    const client =
      this.#registered.get(clientId) ??
      this.#configured?.find((c) => c.clientId === clientId) ??
      this.#documents?.get(clientId);
    return { client, known: client !== undefined || this.#configured === undefined };
  }

  register(client: TestClient): void {
    this.#registered.set(client.clientId, client);
  }
}

/** The client's method, defaulted as `TestClient.tokenEndpointAuthMethod` says. */
export function authMethodOf(client: TestClient): NonNullable<TestClient['tokenEndpointAuthMethod']> {
  if (client.tokenEndpointAuthMethod) return client.tokenEndpointAuthMethod;
  if (client.clientSecret !== undefined) return 'client_secret_basic';
  return client.jwks ? 'private_key_jwt' : 'none';
}

/** An authenticated client, or the RFC 6749 §5.2 error to answer with. */
export type ClientCheck = { clientId: string } | { error: Response };

/** Schemes that run code or read local data where the browser lands: never a redirect URI. */
const UNSAFE_SCHEMES: readonly string[] = ['javascript:', 'data:', 'vbscript:', 'blob:', 'file:', 'about:'];

/**
 * Why `/authorize` must not redirect to `redirectUri` for `clientId`, if it must not
 * (RFC 6749 §4.1.2.1: such errors are shown, never sent to an unchecked redirect URI).
 */
export function redirectProblem(
  clients: ClientRegistry,
  clientId: string | null,
  redirectUri: string | null,
): string | undefined {
  if (!clientId) return 'client_id is required';
  const { client, known } = clients.find(clientId);
  if (!known) return `unknown client_id ${JSON.stringify(clientId)}`;
  if (!redirectUri) return 'redirect_uri is required';
  if (!URL.canParse(redirectUri)) {
    return `redirect_uri is not an absolute URI: ${JSON.stringify(redirectUri)}`;
  }
  if (redirectUri.includes('#')) {
    return 'redirect_uri must not have a fragment (RFC 6749 §3.1.2)';
  }
  const { protocol } = new URL(redirectUri);
  if (UNSAFE_SCHEMES.includes(protocol)) {
    return `redirect_uri must not use the ${protocol} scheme`;
  }
  if (client?.redirectUris && !client.redirectUris.includes(redirectUri)) {
    return `redirect_uri ${JSON.stringify(redirectUri)} is not registered for ${clientId}`;
  }
  return undefined;
}

/** `application/x-www-form-urlencoded` decoding, as RFC 6749 §2.3.1 asks for Basic credentials. */
function formDecode(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '));
}

function basicCredentials(header: string): { id: string; secret: string } | undefined {
  try {
    const decoded = atob(header.replace(/^basic\s+/i, '').trim());
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    return {
      id: formDecode(decoded.slice(0, colon)),
      secret: formDecode(decoded.slice(colon + 1)),
    };
  } catch {
    return undefined;
  }
}

/**
 * Client authentication at the token and revocation endpoints (RFC 6749 §2.3.1):
 * `client_secret_basic`, `client_secret_post`, or `none` (a public client's `client_id`).
 * Without configured clients, any `client_id` is accepted and secrets are not checked,
 * except for registered clients.
 */
export function authenticateClient(
  clients: ClientRegistry,
  request: Request,
  form: URLSearchParams,
): ClientCheck {
  const authorization = request.headers.get('authorization');
  const basic = authorization !== null && /^basic\s/i.test(authorization);
  const invalid = (description: string): ClientCheck => ({
    // §5.2: a client that tried the Authorization header gets 401 with a challenge.
    error: oauthError(
      401,
      'invalid_client',
      description,
      basic ? { 'www-authenticate': 'Basic realm="test-issuer"' } : {},
    ),
  });
  let clientId = form.get('client_id');
  let secret = form.get('client_secret');
  if (basic) {
    const credentials = basicCredentials(authorization);
    if (!credentials) return invalid('the Basic credentials are malformed');
    if (clientId !== null && clientId !== credentials.id) {
      return invalid('client_id differs from the Basic credentials');
    }
    clientId = credentials.id;
    secret = credentials.secret;
  }
  if (!clientId) return invalid('no client_id and no client credentials were sent');
  const { client, known } = clients.find(clientId);
  if (!known) return invalid(`unknown client_id ${JSON.stringify(clientId)}`);
  if (client && authMethodOf(client) === 'private_key_jwt') {
    return invalid(`client ${clientId} must authenticate with a client assertion (private_key_jwt)`);
  }
  if (client?.clientSecret !== undefined && secret !== client.clientSecret) {
    return invalid(
      secret === null ? `client ${clientId} must authenticate with its secret` : 'wrong client secret',
    );
  }
  return { clientId };
}

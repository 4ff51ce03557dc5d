/** Client ID Metadata Documents (draft-ietf-oauth-client-id-metadata-document): a URL as `client_id`, fetched, checked and cached. */
import { isJwtVerifyError } from '../errors.js';
import { freshnessMs } from '../issuer/freshness.js';
import { requestJson, resolveBaseHttpOptions } from '../issuer/http.js';
import { isLoopbackHost } from '../option-checks.js';
import type { JWK } from 'jose';
import type { Route } from './endpoints.js';
import { oauthError } from './responses.js';
import type { TestClient } from './types.js';

/** The bounds of fetching and keeping documents. */
export interface ClientDocumentLimits {
  /** Largest document, in bytes. */
  maxBytes: number;
  /** Per fetch, headers and body. */
  timeoutMs: number;
  /** Documents kept at once. */
  maxEntries: number;
  /** Longest a document is kept (also when its response says nothing about caching). */
  maxAgeMs: number;
}

export const CLIENT_DOCUMENT_LIMITS: ClientDocumentLimits = {
  maxBytes: 5 * 1024,
  timeoutMs: 5000,
  maxEntries: 100,
  maxAgeMs: 60 * 60 * 1000,
};

/**
 * Whether `clientId` is a client identifier URL (draft §3): `https` (or `http` to a
 * loopback host, for tests) with a path, no fragment, no credentials, no dot segments.
 */
export function isClientIdUrl(clientId: string): boolean {
  if (!/^https?:\/\//i.test(clientId)) return false;
  let url: URL;
  try {
    url = new URL(clientId);
  } catch {
    return false;
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return false;
  if (url.pathname === '/' || url.hash || clientId.includes('#') || url.username || url.password)
    return false;
  return !/\/\.\.?(\/|$)/.test(clientId.replace(/[?#].*$/, '').slice(url.origin.length));
}

/** The client a document describes, or why it does not hold (draft §4.1). */
function clientFrom(url: string, document: unknown): TestClient | string {
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    return 'the client metadata document is not a JSON object';
  }
  const metadata = document as Record<string, unknown>;
  if (metadata.client_id !== url) {
    return 'the client metadata document names another client_id than its own URL';
  }
  const { redirect_uris: redirectUris, token_endpoint_auth_method: method, jwks } = metadata;
  if (!Array.isArray(redirectUris) || !redirectUris.every((uri) => typeof uri === 'string')) {
    return 'the client metadata document needs redirect_uris, an array of strings';
  }
  // §4.1: no shared secret can be in a public document.
  if (
    metadata.client_secret !== undefined ||
    (method !== undefined && method !== 'none' && method !== 'private_key_jwt')
  ) {
    return 'a client metadata document client authenticates with none or private_key_jwt, never a secret';
  }
  const keys = (jwks as { keys?: unknown } | undefined)?.keys;
  if (method === 'private_key_jwt' && !Array.isArray(keys)) {
    return 'a private_key_jwt client metadata document needs jwks';
  }
  return {
    clientId: url,
    redirectUris,
    tokenEndpointAuthMethod: method === 'private_key_jwt' ? 'private_key_jwt' : 'none',
    ...(Array.isArray(keys) ? { jwks: { keys: keys as JWK[] } } : {}),
  };
}

/**
 * The documents fetched so far, each kept as its `Cache-Control` says (`no-store`: one
 * second; none: {@link ClientDocumentLimits.maxAgeMs}), at most `maxEntries` (the oldest go
 * first). Failures are never kept: the next request fetches again.
 */
export class ClientDocumentCache {
  readonly #entries = new Map<string, { client: TestClient; expiresAt: number }>();
  readonly #pending = new Map<string, Promise<TestClient | string>>();
  readonly #limits: ClientDocumentLimits;
  readonly #now: () => number;

  constructor(now: () => number, limits: ClientDocumentLimits = CLIENT_DOCUMENT_LIMITS) {
    this.#now = now;
    this.#limits = limits;
  }

  /** How many documents are kept now. */
  get size(): number {
    return this.#entries.size;
  }

  /** The client of a document still fresh, if any. */
  get(clientId: string): TestClient | undefined {
    const entry = this.#entries.get(clientId);
    if (entry && entry.expiresAt > this.#now()) return entry.client;
    this.#entries.delete(clientId);
    return undefined;
  }

  /** The client of the document at `url` (from the cache, or fetched once for concurrent callers), or why not. */
  resolve(url: string): Promise<TestClient | string> {
    const cached = this.get(url);
    if (cached) return Promise.resolve(cached);
    let pending = this.#pending.get(url);
    if (!pending) {
      pending = this.#fetch(url).finally(() => this.#pending.delete(url));
      this.#pending.set(url, pending);
    }
    return pending;
  }

  async #fetch(url: string): Promise<TestClient | string> {
    const { maxBytes, timeoutMs } = this.#limits;
    let answer;
    try {
      // No redirects are followed (without the verifier's extras a 3xx is an error).
      answer = await requestJson(url, resolveBaseHttpOptions({ timeoutMs, maxResponseBytes: maxBytes }));
    } catch (error) {
      if (!isJwtVerifyError(error)) throw error;
      return `the client metadata document could not be had: ${error.message}`;
    }
    const client = clientFrom(url, answer.body);
    if (typeof client === 'string') return client;
    // no-store and no-cache still keep it a second: for the request that fetched it.
    const keepMs = freshnessMs(answer.headers, { maxAgeMs: this.#limits.maxAgeMs, minAgeMs: 1000 });
    this.#keep(url, client, this.#now() + keepMs);
    return client;
  }

  #keep(url: string, client: TestClient, expiresAt: number): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(key);
    this.#entries.delete(url);
    while (this.#entries.size >= this.#limits.maxEntries)
      this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(url, { client, expiresAt });
  }
}

/** The `client_id` a request to a client endpoint names: the query of `/authorize`, else the form. */
async function requestedClientId(route: Route, request: Request): Promise<string | null> {
  const fromQuery = new URL(request.url).searchParams.get('client_id');
  if (route === 'authorize' && request.method === 'GET') return fromQuery;
  if (!/^application\/x-www-form-urlencoded\b/i.test(request.headers.get('content-type') ?? ''))
    return fromQuery;
  return new URLSearchParams(await request.clone().text()).get('client_id') ?? fromQuery;
}

/**
 * Before a client endpoint answers: when the request's `client_id` is a URL, its document
 * is fetched (or taken from the cache) so the endpoint finds the client. A document that
 * cannot be had or does not hold is `invalid_client`: 400 at `/authorize` (shown, never
 * redirected: its redirect URI cannot be trusted), 401 elsewhere.
 */
export async function loadClientDocument(
  documents: ClientDocumentCache,
  route: Route,
  request: Request,
): Promise<Response | undefined> {
  if (route !== 'authorize' && route !== 'token' && route !== 'revoke' && route !== 'introspect')
    return undefined;
  const clientId = await requestedClientId(route, request);
  if (!clientId || !isClientIdUrl(clientId)) return undefined;
  const client = await documents.resolve(clientId);
  if (typeof client !== 'string') return undefined;
  return oauthError(route === 'authorize' ? 400 : 401, 'invalid_client', client);
}

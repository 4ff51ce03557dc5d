// The public types of oauth-jwt-verify/testing.
import type { CryptoKey, JWK } from 'jose';
import type { HttpHandler } from 'msw';
import type { AuthorizationServerMetadata } from '../issuer/discovery.js';
import type { EncryptAccessTokensOptions } from './encrypt.js';
import type { ProtectedResource, ProtectedResourceOptions } from '../server/protected-resource.js';

/**
 * A JWS algorithm the test issuer can create signing keys for (`EdDSA` and `Ed25519` both
 * mean Ed25519; the ML-DSA ones where the runtime's Web Crypto has ML-DSA, e.g. Node.js 24.7+).
 */
export type TestIssuerAlgorithm =
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'EdDSA'
  | 'Ed25519'
  | 'ML-DSA-44'
  | 'ML-DSA-65'
  | 'ML-DSA-87';

/**
 * The shape of the issuer, after the two issuers this package started from:
 * - `'default'`: both metadata documents, endpoints `/jwks`, `/authorize`, `/token`,
 *   `/revoke`, `/register` (RFC 7591 dynamic registration) and `/logout` (RP-Initiated
 *   Logout) under the issuer, RFC 9207 `authorization_response_iss_parameter_supported`.
 * - `'rfc8414'` (Archera-like): RFC 8414 metadata with exactly the members Archera's
 *   schema allows, JWKS at `/.well-known/jwks.json`.
 * - `'auth0'` (Altostrat/Auth0-like): the identifier ends in `/`, OpenID Connect discovery
 *   only, `/.well-known/jwks.json`, `/authorize`, `/oauth/token`, `/oauth/revoke`,
 *   `/oidc/logout`.
 */
export type TestIssuerProfile = 'default' | 'rfc8414' | 'auth0';

/** An endpoint of the test issuer, as counted by `requests` and targeted by `failNext`. */
export type TestIssuerEndpoint =
  'metadata' | 'jwks' | 'token' | 'authorize' | 'revoke' | 'register' | 'introspect' | 'logout' | 'userinfo';

/**
 * A client the issuer knows. When `clients` is given, only these client ids are accepted;
 * a client with a `clientSecret` must authenticate (`client_secret_basic` or `_post`).
 */
export interface TestClient {
  clientId: string;
  /** Makes the client confidential. Default: none (a public client, like an SPA). */
  clientSecret?: string;
  /** Exact redirect URIs allowed at `/authorize`. Default: any absolute URI. */
  redirectUris?: readonly string[];
  /**
   * Exact `post_logout_redirect_uri` values allowed at the logout endpoint (OpenID Connect
   * RP-Initiated Logout 1.0 §3). Default: none (the logout page does not redirect).
   */
  postLogoutRedirectUris?: readonly string[];
  /**
   * The client's public keys, for `private_key_jwt` client authentication and JWT bearer
   * grant assertions (RFC 7523). Default: none.
   */
  jwks?: { keys: readonly JWK[] };
  /**
   * How the client authenticates at the token, introspection and revocation endpoints.
   * Default: `'client_secret_basic'` (either secret method is accepted) with a `clientSecret`,
   * `'private_key_jwt'` with `jwks` and no secret, else `'none'` (a public client).
   */
  tokenEndpointAuthMethod?: 'none' | 'client_secret_basic' | 'client_secret_post' | 'private_key_jwt';
  /**
   * Token exchange (RFC 8693) for this client: the only audiences (or resources) it may
   * exchange tokens for. Default: any client may exchange for the issuer's `audience` and
   * its protected resources; `{ audiences: [] }` forbids this client to exchange.
   */
  tokenExchange?: { audiences: readonly string[] };
}

/** A user of the issuer's login: picked on the login page or by a `login_hint` equal to its `sub`. */
export interface TestUser {
  /** The subject identifier: the tokens' `sub`. */
  sub: string;
  /** Claims of this user: added to its ID tokens and userinfo answers (by scope), e.g. `name`, `email`. */
  claims?: Record<string, unknown>;
  /** The authentication context class the user logs in with (`acr` in its tokens). Default: none. */
  acr?: string;
}

/**
 * Claims added to the tokens of a token request whose parameter `param` equals `match`
 * (`'*'`: any value), as JSON configuration can say it without code.
 */
export interface TestRequestMapping {
  /** A token request parameter, e.g. `'scope'`, `'client_id'`, `'grant_type'`. */
  param: string;
  /** The value it must have, or `'*'` for any. */
  match: string;
  /** The claims to merge into the access token (and ID token). */
  claims: Record<string, unknown>;
}

/** Options of {@link TestIssuer.onToken} and {@link TestIssuer.onUserinfo}. */
export interface HookOptions {
  /** Run for the next request only, then unregister. Default `false` (until removed). */
  once?: boolean;
}

/** What a token or userinfo hook is told about the answer it may change. */
export interface HookEvent {
  /**
   * The token request's `grant_type` (e.g. `'authorization_code'`,
   * `'urn:ietf:params:oauth:grant-type:token-exchange'`); `'userinfo'` for a userinfo request.
   */
  grantType: string;
  /** The client: as configured or registered, or `{ clientId }` for a client the issuer takes on trust. */
  client: TestClient;
  /** The user the token is about: a configured user, or `{ sub }`; `undefined` for client credentials. */
  user: TestUser | undefined;
  /** The claims about to be issued (a copy: change them by returning claims). */
  claims: Readonly<Record<string, unknown>>;
  /** The HTTP request being answered (its body already read). */
  request: Request;
}

/**
 * A hook: returns claims to merge into the answer (or nothing), or throws an `OAuthError`
 * to answer with that error instead.
 */
export type Hook = (
  event: HookEvent,
) => Record<string, unknown> | undefined | void | Promise<Record<string, unknown> | undefined | void>;

/** Options of {@link createTestIssuer}. All are optional. */
export interface TestIssuerOptions {
  /**
   * The issuer identifier (`iss`, metadata `issuer`). Default `'https://issuer.test'`
   * (`'https://issuer.test/'` for the auth0 profile, which always ends it with `/`).
   * With `listen`, the origin becomes the server's and only the path is kept.
   */
  issuer?: string;
  /** The `aud` of signed and issued access tokens. Default `'https://api.test'`. */
  audience?: string | readonly string[];
  /** One signing key is created per algorithm; the first is the default. Default `['RS256']`. */
  algorithms?: readonly TestIssuerAlgorithm[];
  /**
   * Which well-known documents to serve: RFC 8414 (`'oauth'`), OpenID Connect (`'oidc'`)
   * or `'both'`. Default `'both'` (`'oauth'` for the rfc8414 profile, `'oidc'` for auth0).
   */
  discovery?: 'oauth' | 'oidc' | 'both';
  /** The issuer's shape; see {@link TestIssuerProfile}. Default `'default'`. */
  profile?: TestIssuerProfile;
  /**
   * Serve the endpoints on a real `node:http` server. `true` means `127.0.0.1` on a free
   * port. Default `false` (reach the issuer through `handlers` or `fetch`).
   */
  listen?: boolean | { port?: number; host?: string };
  /** Lifetime of signed and issued tokens, in seconds. Default 3600. */
  tokenTtlSeconds?: number;
  /** The `sub` of users at `/authorize` (a `login_hint` parameter overrides it). Default `'test-user'`. */
  subject?: string;
  /** Registered clients. Default: any `client_id` and redirect URI is accepted. */
  clients?: readonly TestClient[];
  /**
   * The users who can log in: the login page lists them, a `login_hint` equal to a `sub`
   * picks one (with its claims and `acr`). Default: none (`subject` is the one user).
   */
  users?: readonly TestUser[];
  /** Claims added to tokens when a token request's parameter matches; see {@link TestRequestMapping}. */
  requestMappings?: readonly TestRequestMapping[];
  /**
   * Show a login page at `/authorize` (pick a user or type a subject and claims) instead of
   * redirecting straight back. A `login_hint` still skips it. A session cookie remembers the
   * login (`prompt=none` answers from it, else `login_required`; `prompt=login` and an
   * exceeded `max_age` ask again) until `/logout` ends it. Default `false`
   * (`startIssuerServer` and the `issuer` command turn it on).
   */
  interactiveLogin?: boolean;
  /** The clock, in milliseconds since the epoch. Default `Date.now`. */
  now?: () => number;
  /**
   * What the token endpoint issues as access tokens: RFC 9068 JWTs, or opaque strings that
   * only the introspection endpoint (default profile) can tell about. Default `'jwt'`.
   */
  accessTokenFormat?: 'jwt' | 'opaque';
  /**
   * Require a server nonce in DPoP proofs at the token endpoint (RFC 9449 §8): a proof
   * without the current one gets 400 `use_dpop_nonce` with a `DPoP-Nonce` header. Default
   * `false`. A token request with a `DPoP` proof is always checked, and its tokens bound.
   */
  requireDpopNonce?: boolean;
  /**
   * Start with these signing keys instead of fresh ones: private JWKs (with `alg`, one of
   * `algorithms`; `kid` defaults to the RFC 7638 thumbprint), oldest first. All are published;
   * the last one of each algorithm signs. An algorithm without a given key gets a fresh one.
   * `startIssuerServer`'s `keysFile` keeps keys across restarts this way. Default: none.
   */
  keys?: readonly JWK[];
  /**
   * Encrypt the access tokens it signs (`sign()` and the token endpoint) for the API: a
   * compact JWE around the signed JWT (`cty: "JWT"`), as Auth0's access token encryption
   * does. `key` is the API's public key. Default: not encrypted.
   */
  encryptAccessTokens?: EncryptAccessTokensOptions;
}

/** Options of {@link TestIssuer.sign}. */
export interface SignOptions {
  /**
   * Sign with this issuer's current key for this algorithm (with `key`: the `alg` the
   * header names). Default: the first of `algorithms`.
   */
  alg?: TestIssuerAlgorithm | (string & {});
  /** Sign with the published key that has this `kid` (also an older, rotated one). */
  kid?: string;
  /**
   * Sign with this private key (any Web Crypto signing key, HMAC included); the header gets
   * its algorithm (or `alg`) and no `kid`.
   */
  key?: CryptoKey;
  /** Sign with a key that is not in the JWKS (its own `kid`; reused per algorithm). */
  unpublishedKey?: boolean;
  /**
   * Header fields set last: override `typ` (default `'JWT'`), `kid`, `alg`, add `crit`,
   * `jku`, anything. A field set to `undefined` is removed. The signature is always made
   * with the key's own algorithm; `alg: 'none'` produces an empty signature.
   */
  header?: Record<string, unknown>;
  /** `exp` in seconds from now; negative for an expired token. Default `tokenTtlSeconds`. */
  expiresIn?: number;
  /** Adds `nbf`, in seconds from now (positive: not yet valid). Default: no `nbf`. */
  notBefore?: number;
  /**
   * Binds the token to a DPoP key (RFC 9449 §6.1): `cnf: { jkt }` with this RFC 7638
   * thumbprint (see `dpopThumbprint`), merged into a `cnf` the claims give. Default: unbound.
   */
  dpopJkt?: string;
  /**
   * With `encryptAccessTokens`, encrypt this token (default `true`); `false` gives the signed
   * JWT as it is (an ID token, or an unencrypted token for a test).
   */
  encrypt?: boolean;
}

/** Options of {@link TestIssuer.issueOpaqueToken}. */
export interface OpaqueTokenOptions {
  /** `exp` in seconds from now; negative for an expired token. Default `tokenTtlSeconds`. */
  expiresIn?: number;
}

/** Options of {@link TestIssuer.rotateKeys}. */
export interface RotateKeysOptions {
  /** Keep the previous keys in the JWKS (they no longer sign). Default `true`. */
  keepPrevious?: boolean;
}

/**
 * What {@link TestIssuer.failNext} makes an endpoint answer. With none of `status`, `body`,
 * `malformed` and `headers`, a `delayMs` alone gives the normal answer, late (a slow issuer).
 */
export interface FailureOptions {
  /** HTTP status, 200–599. Default 500 (200 with `malformed: true`). */
  status?: number;
  /**
   * The body: a string as is (`text/plain`), anything else as JSON. Default: an RFC 6749
   * error object (`server_error`, `temporarily_unavailable` for 503, `invalid_request` for 4xx).
   */
  body?: unknown;
  /** `true`: a truncated JSON body; `'html'`: an HTML error page, as a proxy would send. */
  malformed?: true | 'html';
  /** Extra response headers, e.g. `{ 'retry-after': '30' }`. */
  headers?: Record<string, string>;
  /** Wait this long before answering, in milliseconds (ends early if the client gives up). */
  delayMs?: number;
  /** How many requests in a row fail; `Infinity` until {@link TestIssuer.reset}. Default 1. */
  times?: number;
}

/** Requests served per endpoint (`metadata` counts both well-known documents; preflights are not counted). */
export type RequestCounts = Record<TestIssuerEndpoint, number>;

/** One signing key of a test issuer. */
export interface TestIssuerKey {
  readonly kid: string;
  readonly alg: TestIssuerAlgorithm;
  /** The JWK as published: the public key members plus `kid`, `alg` and `use: 'sig'`. */
  readonly publicJwk: JWK;
  readonly publicKey: CryptoKey;
  readonly privateKey: CryptoKey;
  /** Whether this is the key `sign()` and the token endpoint use for its algorithm. */
  readonly active: boolean;
}

/** A stub OAuth 2.0 / OpenID Connect issuer for tests; see {@link createTestIssuer}. */
export interface TestIssuer {
  /** The issuer identifier: `iss` of every token, `issuer` of the metadata. */
  readonly issuer: string;
  /** The default `aud`. */
  readonly audience: string | readonly string[];
  /** The metadata served (the RFC 8414 document when both are served). */
  readonly metadata: AuthorizationServerMetadata;
  /**
   * msw request handlers for every endpoint, for `server.use(...issuer.handlers)`.
   * Throws when msw is not installed.
   */
  readonly handlers: readonly HttpHandler[];
  /** Live request counts per endpoint. */
  readonly requests: Readonly<RequestCounts>;
  /** The published keys, oldest first. */
  readonly keys: readonly TestIssuerKey[];
  /** The JWKS document currently served. */
  jwks(): { keys: JWK[] };
  /**
   * Signs a JWT. `iss`, `aud`, `iat`, `exp` (now + `tokenTtlSeconds`) and `jti` are filled
   * in; every claim can be overridden, and set to `undefined` to leave it out. The header
   * is `{ alg, typ: 'JWT', kid }` unless `options.header` says otherwise.
   */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /**
   * Issues an opaque access token (a random string) that the introspection endpoint answers
   * for with these claims (`iss`, `aud`, `iat`, `exp` and `jti` filled in as by `sign`),
   * `active` until its `exp` or its revocation at the revocation endpoint.
   */
  issueOpaqueToken(claims?: Record<string, unknown>, options?: OpaqueTokenOptions): string;
  /** Creates new signing keys (one per algorithm) and returns them. */
  rotateKeys(options?: RotateKeysOptions): Promise<TestIssuerKey[]>;
  /** Makes the next request(s) to `endpoint` fail (queued after failures already pending). */
  failNext(endpoint: TestIssuerEndpoint, options?: FailureOptions): void;
  /** Zeroes `requests` and drops pending `failNext` failures. */
  reset(): void;
  /**
   * The issuer as a `fetch` function (no network, no msw): usable as the `fetch` option
   * of a verifier. URLs the issuer does not serve answer 404.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Stops the `listen` server and its keep-alive connections; a no-op otherwise. */
  close(): Promise<void>;
  /**
   * A test API (an MCP server, say) whose authorization server is this issuer: the main
   * entry's `protectedResource()` with `issuer` filled in (its verifier fetches through the
   * options' `fetch`, the global `fetch` by default), its RFC 9728 metadata served through
   * msw `handlers` or `fetch`, and `sign()` for tokens issued for it (`aud` = the resource).
   */
  protectedResource(options: TestProtectedResourceOptions): TestProtectedResource;
  /**
   * Runs `hook` before every token response (all grants): the claims it returns are merged
   * into the access token and the ID token; an `OAuthError` it throws is the answer.
   * Returns the function that removes it.
   */
  onToken(hook: Hook, options?: HookOptions): () => void;
  /**
   * Runs `hook` before every userinfo answer: the claims it returns are merged into the
   * answer (`sub` excepted: it always is the token's); an `OAuthError` it throws is the
   * answer. Returns the function that removes it.
   */
  onUserinfo(hook: Hook, options?: HookOptions): () => void;
}

/** Options of {@link TestIssuer.protectedResource}: those of `protectedResource()` but `issuer`. */
export type TestProtectedResourceOptions = Omit<ProtectedResourceOptions, 'issuer'>;

/** A test API that trusts a {@link TestIssuer}; see {@link TestIssuer.protectedResource}. */
export interface TestProtectedResource extends ProtectedResource {
  /** msw handlers serving the metadata at its well-known URL. Throws when msw is not installed. */
  readonly handlers: readonly HttpHandler[];
  /** The metadata as a `fetch` function (404 for any other URL), e.g. for `discoverResource`'s `fetch` option. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Signs a token issued for this API: `aud` is the resource; claims and options as {@link TestIssuer.sign}. */
  sign(claims?: Record<string, unknown>, options?: SignOptions): Promise<string>;
}

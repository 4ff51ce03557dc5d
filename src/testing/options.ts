// createTestIssuer's options: defaults applied and every value checked.
import type { JWK } from 'jose';
import { SUPPORTED_ALGORITHMS } from '../token/algorithms.js';
import { invalidArgument } from '../errors.js';
import type {
  TestClient,
  TestIssuerAlgorithm,
  TestIssuerOptions,
  TestIssuerProfile,
  TestRequestMapping,
  TestUser,
} from './types.js';
import { type TokenEncrypter, createTokenEncrypter } from './encrypt.js';

/** The issuer signs with every algorithm a verifier accepts. */
export const ALGORITHMS: readonly TestIssuerAlgorithm[] = SUPPORTED_ALGORITHMS;

const PROFILES = ['default', 'rfc8414', 'auth0'] as const satisfies readonly TestIssuerProfile[];

/** The options with every default applied and checked. */
export interface ResolvedOptions {
  issuer: string;
  audience: string | readonly string[];
  algorithms: readonly TestIssuerAlgorithm[];
  discovery: 'oauth' | 'oidc' | 'both';
  profile: TestIssuerProfile;
  listen: { port: number; host: string } | undefined;
  tokenTtlSeconds: number;
  subject: string;
  clients: readonly TestClient[] | undefined;
  users: readonly TestUser[];
  requestMappings: readonly TestRequestMapping[];
  interactiveLogin: boolean;
  now: () => number;
  accessTokenFormat: 'jwt' | 'opaque';
  requireDpopNonce: boolean;
  keys: readonly JWK[];
  encrypt: TokenEncrypter | undefined;
}

function fail(message: string): never {
  throw invalidArgument(`createTestIssuer: ${message}`);
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], name: string, fallback: T): T {
  if (value === undefined) return fallback;
  if (!allowed.includes(value as T)) {
    fail(`${name} must be one of ${allowed.join(', ')}, got ${String(value)}`);
  }
  return value as T;
}

function checkIssuer(value: unknown, profile: TestIssuerProfile): string {
  const issuer = value ?? 'https://issuer.test';
  if (typeof issuer !== 'string') fail('issuer must be a URL string');
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    fail(`issuer is not a URL: ${JSON.stringify(issuer)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    fail(`issuer must be http(s): ${issuer}`);
  }
  if (url.search || url.hash || issuer.includes('?') || issuer.includes('#')) {
    fail(`issuer must not have a query or fragment (RFC 8414 §2): ${issuer}`);
  }
  // Auth0 tenants' identifiers always end in '/'.
  return profile === 'auth0' && !issuer.endsWith('/') ? `${issuer}/` : issuer;
}

function checkAudience(value: unknown): string | readonly string[] {
  if (value === undefined) return 'https://api.test';
  if (typeof value === 'string' && value) return value;
  if (Array.isArray(value) && value.length && value.every((item) => typeof item === 'string' && item)) {
    return [...value];
  }
  return fail('audience must be a non-empty string or array of strings');
}

function checkAlgorithms(value: unknown): readonly TestIssuerAlgorithm[] {
  if (value === undefined) return ['RS256'];
  if (!Array.isArray(value) || value.length === 0) fail('algorithms must be a non-empty array');
  for (const alg of value) oneOf(alg, ALGORITHMS, 'each of algorithms', 'RS256');
  if (new Set(value).size !== value.length) fail(`algorithms has duplicates: ${value.join(', ')}`);
  return [...(value as TestIssuerAlgorithm[])];
}

function checkListen(value: TestIssuerOptions['listen']): ResolvedOptions['listen'] {
  if (value === undefined || value === false) return undefined;
  const { port = 0, host = '127.0.0.1' } = value === true ? {} : value;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    fail(`listen.port must be 0–65535, got ${port}`);
  }
  if (typeof host !== 'string' || !host) fail('listen.host must be a host name or address');
  return { port, host };
}

function checkClients(value: unknown): readonly TestClient[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) {
    fail('clients must be an array of { clientId, clientSecret?, redirectUris? }');
  }
  for (const client of value as TestClient[]) {
    if (typeof client?.clientId !== 'string' || !client.clientId) {
      fail('every client needs a clientId');
    }
    checkClientExtras(client);
  }
  return value as TestClient[];
}

const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'];

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkStringList(value: unknown, name: string): void {
  if (value === undefined) return;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string' && item)) {
    fail(`${name} must be an array of non-empty strings`);
  }
}

function checkClientExtras(client: TestClient): void {
  const name = `client ${JSON.stringify(client.clientId)}`;
  checkStringList(client.redirectUris, `${name}: redirectUris`);
  checkStringList(client.postLogoutRedirectUris, `${name}: postLogoutRedirectUris`);
  if (client.jwks !== undefined && !(isRecord(client.jwks) && Array.isArray(client.jwks.keys))) {
    fail(`${name}: jwks must be a JWK set ({ keys: [...] })`);
  }
  if (client.tokenExchange !== undefined) {
    if (!isRecord(client.tokenExchange)) fail(`${name}: tokenExchange must be { audiences: [...] }`);
    if (
      !Array.isArray(client.tokenExchange.audiences) ||
      !client.tokenExchange.audiences.every((item) => typeof item === 'string' && item)
    ) {
      fail(`${name}: tokenExchange.audiences must be an array of non-empty strings`);
    }
  }
  if (client.tokenEndpointAuthMethod !== undefined) {
    oneOf(client.tokenEndpointAuthMethod, AUTH_METHODS, `${name}: tokenEndpointAuthMethod`, 'none');
  }
}

function checkUsers(value: unknown): readonly TestUser[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('users must be an array of { sub, claims?, acr? }');
  const seen = new Set<string>();
  for (const [index, user] of (value as unknown[]).entries()) {
    if (!isRecord(user) || typeof user.sub !== 'string' || !user.sub) {
      fail(`users[${index}].sub must be a non-empty string`);
    }
    if (seen.has(user.sub)) fail(`users[${index}].sub ${JSON.stringify(user.sub)} appears twice`);
    seen.add(user.sub);
    if (user.claims !== undefined && !isRecord(user.claims)) fail(`users[${index}].claims must be an object`);
    if (user.acr !== undefined && (typeof user.acr !== 'string' || !user.acr)) {
      fail(`users[${index}].acr must be a non-empty string`);
    }
  }
  return value as TestUser[];
}

function checkRequestMappings(value: unknown): readonly TestRequestMapping[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('requestMappings must be an array of { param, match, claims }');
  for (const [index, mapping] of (value as unknown[]).entries()) {
    const where = `requestMappings[${index}]`;
    if (!isRecord(mapping)) fail(`${where} must be an object`);
    if (typeof mapping.param !== 'string' || !mapping.param)
      fail(`${where}.param must be a non-empty string`);
    if (typeof mapping.match !== 'string') fail(`${where}.match must be a string ('*' for any value)`);
    if (!isRecord(mapping.claims)) fail(`${where}.claims must be an object`);
  }
  return value as TestRequestMapping[];
}

function checkKeys(value: unknown, algorithms: readonly TestIssuerAlgorithm[]): readonly JWK[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('keys must be an array of private JWKs');
  for (const [index, key] of (value as unknown[]).entries()) {
    if (
      !isRecord(key) ||
      typeof key.kty !== 'string' ||
      (typeof key.d !== 'string' && typeof key.priv !== 'string')
    ) {
      fail(`keys[${index}] must be a private JWK (kty and its private members)`);
    }
    if (!algorithms.includes(key.alg as TestIssuerAlgorithm)) {
      fail(`keys[${index}].alg must be one of algorithms (${algorithms.join(', ')}), got ${String(key.alg)}`);
    }
    if (key.kid !== undefined && (typeof key.kid !== 'string' || !key.kid)) {
      fail(`keys[${index}].kid must be a non-empty string`);
    }
  }
  return value as JWK[];
}

export function resolveOptions(options: TestIssuerOptions = {}): ResolvedOptions {
  const profile = oneOf(options.profile, PROFILES, 'profile', 'default');
  const defaultDiscovery = profile === 'rfc8414' ? 'oauth' : profile === 'auth0' ? 'oidc' : 'both';
  const tokenTtlSeconds = options.tokenTtlSeconds ?? 3600;
  if (!Number.isFinite(tokenTtlSeconds) || tokenTtlSeconds <= 0) {
    fail(`tokenTtlSeconds must be a positive number, got ${tokenTtlSeconds}`);
  }
  if (options.subject !== undefined && (typeof options.subject !== 'string' || !options.subject)) {
    fail('subject must be a non-empty string');
  }
  if (options.now !== undefined && typeof options.now !== 'function') {
    fail('now must be a function');
  }
  if (options.requireDpopNonce !== undefined && typeof options.requireDpopNonce !== 'boolean') {
    fail('requireDpopNonce must be a boolean');
  }
  if (options.interactiveLogin !== undefined && typeof options.interactiveLogin !== 'boolean') {
    fail('interactiveLogin must be a boolean');
  }
  const algorithms = checkAlgorithms(options.algorithms);
  return {
    issuer: checkIssuer(options.issuer, profile),
    audience: checkAudience(options.audience),
    algorithms,
    discovery: oneOf(options.discovery, ['oauth', 'oidc', 'both'], 'discovery', defaultDiscovery),
    profile,
    listen: checkListen(options.listen),
    tokenTtlSeconds,
    subject: options.subject ?? 'test-user',
    clients: checkClients(options.clients),
    users: checkUsers(options.users),
    requestMappings: checkRequestMappings(options.requestMappings),
    interactiveLogin: options.interactiveLogin ?? false,
    // Looked up per call, so fake timers installed later still apply.
    now: options.now ?? (() => Date.now()),
    accessTokenFormat: oneOf(options.accessTokenFormat, ['jwt', 'opaque'], 'accessTokenFormat', 'jwt'),
    requireDpopNonce: options.requireDpopNonce ?? false,
    keys: checkKeys(options.keys, algorithms),
    encrypt: createTokenEncrypter(options.encryptAccessTokens),
  };
}

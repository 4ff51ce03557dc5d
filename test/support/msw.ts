import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import type { CryptoKey, JWK } from 'jose';
import { type SetupServer, setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { ERROR_STATUS, JwtVerifyError, type JwtVerifyErrorCode, isJwtVerifyError } from '../../src/index.js';
import { type TestIssuer, type TestIssuerOptions, createTestIssuer } from '../../src/testing/index.js';

/** A msw server for this file: unhandled requests fail, handlers reset after each test. */
export function useMsw(): SetupServer {
  const server = setupServer();
  beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
  afterEach(() => server.resetHandlers());
  afterAll(() => server.close());
  return server;
}

/**
 * {@link useMsw} plus one stub issuer for the file (keys are made once), its counts and
 * faults reset before each test and, unless `installHandlers` is false, its handlers
 * installed. `issuer` stands for the issuer created in `beforeAll`.
 */
export function useMswIssuer(
  options: TestIssuerOptions,
  { installHandlers = true } = {},
): { server: SetupServer; issuer: TestIssuer } {
  const server = useMsw();
  let created: TestIssuer | undefined;
  beforeAll(async () => {
    created = await createTestIssuer(options);
  });
  beforeEach(() => {
    if (installHandlers) server.use(...created!.handlers);
    created!.reset();
  });
  const issuer = new Proxy({} as TestIssuer, {
    get(_target, property) {
      if (!created) throw new Error('the test issuer is created in beforeAll; use it inside tests and hooks');
      const value: unknown = Reflect.get(created, property, created);
      return typeof value === 'function' ? value.bind(created) : value;
    },
  });
  return { server, issuer };
}

/** Awaits a promise that must reject, and returns the rejection. */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

/**
 * Awaits a verification that must fail with `code`, and checks what the contract promises of
 * every rejection: a JwtVerifyError with the table's status, an RFC 6750 challenge, and a
 * message that never holds the token.
 */
export async function expectRejection(
  promise: Promise<unknown>,
  code: JwtVerifyErrorCode,
  token?: string,
): Promise<JwtVerifyError> {
  const error = await rejectionOf(promise);
  expect((error as JwtVerifyError)?.code, String((error as Error)?.message)).toBe(code);
  expect(error).toBeInstanceOf(JwtVerifyError);
  expect(isJwtVerifyError(error, code)).toBe(true);
  const jwtError = error as JwtVerifyError;
  expect(jwtError.status).toBe(ERROR_STATUS[code]);
  expect(jwtError.message.length).toBeGreaterThan(10);
  if (token) {
    expect(jwtError.message).not.toContain(token);
    const [, payload, signature] = token.split('.');
    if (signature) expect(jwtError.message).not.toContain(signature);
    if (payload && payload.length > 20) expect(jwtError.message).not.toContain(payload);
  }
  return jwtError;
}

/** The URLs a msw server was asked for, in order, from now on. */
export function recordRequests(server: SetupServer): string[] {
  const urls: string[] = [];
  server.events.on('request:start', ({ request }) => {
    urls.push(`${request.method} ${request.url}`);
  });
  return urls;
}

/** A signing key pair made outside the test issuer, with its public JWK. */
export interface LooseKey {
  alg: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/** A key pair for hand-built JWKS documents (asynchronous generation, per STYLE.md). */
export async function looseKey(alg = 'RS256', options: { modulusLength?: number } = {}): Promise<LooseKey> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true, ...options });
  return { alg, privateKey, publicJwk: await exportJWK(publicKey) };
}

/** Signs a JWT with a loose key; `header` is merged over `{ alg, typ: 'JWT' }`. */
export async function signWith(
  key: LooseKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ iat: now, exp: now + 600, ...claims })
    .setProtectedHeader({ alg: key.alg, typ: 'JWT', ...header } as never)
    .sign(key.privateKey);
}

/** A random kid, as an attacker floods them. */
export function randomKid(): string {
  return `kid-${crypto.randomUUID()}`;
}

/** A JSON response, as a hand-built issuer sends it. */
export function jsonResponse(
  body: unknown,
  init: { status?: number; headers?: Record<string, string> } = {},
): Response {
  return new Response(JSON.stringify(body), {
    status: init.status ?? 200,
    headers: { 'content-type': 'application/json', ...init.headers },
  });
}

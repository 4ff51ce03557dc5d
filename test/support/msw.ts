import { type SetupServer, setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import type { TestIssuer, TestIssuerOptions } from '../../src/testing/index.js';
import { useTestIssuer } from './fixture.js';

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
  const issuer = useTestIssuer(options);
  beforeEach(() => {
    if (installHandlers) server.use(...issuer.handlers);
    issuer.reset();
  });
  return { server, issuer };
}

/** The URLs a msw server was asked for, in order, from now on. */
export function recordRequests(server: SetupServer): string[] {
  const urls: string[] = [];
  server.events.on('request:start', ({ request }) => {
    urls.push(`${request.method} ${request.url}`);
  });
  return urls;
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

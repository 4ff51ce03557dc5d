import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, beforeEach, vi } from 'vitest';
import type { VerifierEvent, VerifierEventType } from '../../src/index.js';
import { type TestIssuer, type TestIssuerOptions, createTestIssuer } from '../../src/testing/index.js';

/** Records a verifier's events and lets a test await the next one of a type. */
export class EventLog {
  readonly events: VerifierEvent[] = [];
  private waiters: { type: VerifierEventType; resolve: (event: VerifierEvent) => void }[] = [];

  /** Pass as the verifier's `onEvent`. */
  readonly listener = (event: VerifierEvent): void => {
    this.events.push(event);
    const ready = this.waiters.filter((waiter) => waiter.type === event.type);
    this.waiters = this.waiters.filter((waiter) => waiter.type !== event.type);
    for (const waiter of ready) waiter.resolve(event);
  };

  /** Resolves with the next event of this type (one emitted after the call). */
  next<T extends VerifierEventType>(type: T): Promise<Extract<VerifierEvent, { type: T }>> {
    return new Promise((resolve) => {
      this.waiters.push({ type, resolve: resolve as (event: VerifierEvent) => void });
    });
  }

  /** The events of one type so far. */
  of<T extends VerifierEventType>(type: T): Extract<VerifierEvent, { type: T }>[] {
    return this.events.filter((event): event is Extract<VerifierEvent, { type: T }> => event.type === type);
  }

  /** The event types so far, in order. */
  get types(): VerifierEventType[] {
    return this.events.map((event) => event.type);
  }
}

/** Wraps the global fetch (looked up per call, so msw applies) and counts the calls. */
export function countingFetch(): { fetch: typeof fetch; readonly calls: number } {
  const counter = {
    calls: 0,
    fetch: ((input: string | URL | Request, init?: RequestInit) => {
      counter.calls += 1;
      return globalThis.fetch(input, init);
    }) as typeof fetch,
  };
  return counter;
}

/**
 * Stub issuers behind msw (`onUnhandledRequest: 'error'`) on vitest's fake clock (setTimeout,
 * clearTimeout, Date), for the enclosing file or describe block. The array fills in before
 * the block's own `beforeAll` hooks run; request counts are reset before each test.
 */
export function stubIssuersOnFakeClock(...options: TestIssuerOptions[]): TestIssuer[] {
  const issuers: TestIssuer[] = [];
  const server = setupServer();
  beforeAll(async () => {
    issuers.push(...(await Promise.all(options.map((each) => createTestIssuer(each)))));
    server.listen({ onUnhandledRequest: 'error' });
  });
  beforeEach(() => {
    server.use(...issuers.flatMap((issuer) => issuer.handlers));
    for (const issuer of issuers) issuer.reset();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  });
  afterEach(() => {
    vi.useRealTimers();
    server.resetHandlers();
  });
  afterAll(() => server.close());
  return issuers;
}

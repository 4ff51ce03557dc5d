// Set-up a test file makes once: started in a beforeAll, stopped in the afterAll, and used
// through a stand-in that reads through to it, so that a file writes
// `const issuer = useTestIssuer({ ... })` in place of a `let`, a beforeAll and an afterAll.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type TestIssuer, type TestIssuerOptions, createTestIssuer } from '../../src/testing/index.js';

/**
 * Registers `start` as a beforeAll and `stop` as an afterAll (where this is called, so in
 * the order of the file's other hooks) and returns a stand-in for the value: its properties
 * read through to what `start` made, and its methods are called on it. Reading it before
 * the beforeAll ran throws.
 */
export function useFixture<T extends object>(
  start: () => Promise<T>,
  stop: (value: T) => unknown,
  what = 'the fixture',
  /** The beforeAll's timeout, when the set-up may take longer than the hook timeout. */
  timeout?: number,
): T {
  let value: T | undefined;
  const current = (): T => {
    if (value === undefined) throw new Error(`${what} is not set up yet: use it inside a hook or a test`);
    return value;
  };
  beforeAll(async () => {
    value = await start();
  }, timeout);
  afterAll(async () => {
    if (value !== undefined) await stop(value);
    value = undefined;
  });
  return new Proxy({} as T, {
    get(_, property) {
      const target = current();
      const member: unknown = Reflect.get(target, property, target);
      return typeof member === 'function' ? member.bind(target) : member;
    },
    has: (_, property) => Reflect.has(current(), property),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor: (_, property) => {
      const descriptor = Reflect.getOwnPropertyDescriptor(current(), property);
      return descriptor && { ...descriptor, configurable: true };
    },
  });
}

/**
 * The stub issuer of a test file: created with `options` before all its tests, closed after
 * them; with `reset`, its request counts and recorded requests are reset before each test.
 */
export function useTestIssuer(options: TestIssuerOptions = {}, { reset = false } = {}): TestIssuer {
  const issuer = useFixture(
    () => createTestIssuer(options),
    (created) => created.close(),
    'the test issuer',
  );
  if (reset) beforeEach(() => issuer.reset());
  return issuer;
}

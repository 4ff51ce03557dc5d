import { afterAll, beforeAll } from 'vitest';
import { type TestIssuer, type TestIssuerOptions, createTestIssuer } from '../../src/testing/index.js';

/**
 * An object standing for the one `current()` returns when a property is read, its methods
 * bound to it: for what a file's `beforeAll` creates, named before the hook has run.
 */
export function lateBound<T extends object>(current: () => T): T {
  return new Proxy({} as T, {
    get: (_target, property) => {
      const target = current();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

/**
 * One stub issuer for the file: created in `beforeAll` (keys are made once), closed in
 * `afterAll`. The issuer returned stands for it inside tests and hooks.
 */
export function useTestIssuer(options: TestIssuerOptions = {}): TestIssuer {
  let created: TestIssuer | undefined;
  beforeAll(async () => {
    created = await createTestIssuer(options);
  });
  afterAll(() => created?.close());
  return lateBound(() => {
    if (!created) throw new Error('the test issuer is created in beforeAll; use it inside tests and hooks');
    return created;
  });
}

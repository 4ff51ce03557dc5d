import { describe, expect, it } from 'vitest';
import { resolveAuthenticateOptions } from '../../src/server/authenticate.js';

describe('resolveAuthenticateOptions', () => {
  it('takes options it resolved before as they are, so adapters resolve once at set-up', () => {
    const resolved = resolveAuthenticateOptions({ realm: 'api', requiredScopes: 'read write' });
    expect(resolveAuthenticateOptions(resolved)).toBe(resolved);
    expect(resolved.requiredScopes).toEqual(['read', 'write']);
  });

  it('resolves a plain object that looks resolved anew, refusing its mistakes', () => {
    const lookalike = { realm: 'api', requiredScopes: ['read'], retryAfterSeconds: -1, onFailure: undefined };
    expect(() => resolveAuthenticateOptions(lookalike)).toThrow(/retryAfterSeconds/);
  });
});

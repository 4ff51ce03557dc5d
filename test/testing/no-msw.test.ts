import { describe, expect, it, vi } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';

// As if msw (an optional peer dependency) were not installed.
vi.mock('msw', () => {
  throw new Error("Cannot find package 'msw'");
});

describe('without msw installed', () => {
  it('still creates issuers, and handlers explain what is missing', async () => {
    const issuer = await createTestIssuer();
    expect(() => issuer.handlers).toThrow(/needs msw.*npm install --save-dev msw/);
    expect((await issuer.fetch(issuer.metadata.jwks_uri!)).status).toBe(200);
  });

  it('serves over real HTTP in listen mode', async () => {
    const live = await createTestIssuer({ listen: true });
    try {
      const metadata = await (await fetch(`${live.issuer}/.well-known/openid-configuration`)).json();
      expect(metadata.issuer).toBe(live.issuer);
    } finally {
      await live.close();
    }
  });
});

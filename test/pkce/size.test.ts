import { describe, expect, it } from 'vitest';
import {
  BUDGET_GZIP_BYTES,
  LOGIN_START_BUDGET_GZIP_BYTES,
  LOGIN_START_IMPORTS,
  MCP_CLIENT_MODULES,
  SPA_BUDGET_GZIP_BYTES,
  SPA_IMPORTS,
  measurePkceBundle,
  // @ts-expect-error -- a plain .mjs script without type declarations
} from '../../scripts/size.mjs';

interface SizeReport {
  bytes: number;
  gzipBytes: number;
  budgetGzipBytes: number;
  ok: boolean;
  modules: { path: string; bytes: number }[];
  forbidden: string[];
}

// The budgets of the browser bundles (esbuild, minified, gzip -9), as `npm run size` holds
// them: docs/decisions/bundle-budgets.md says why these.
describe('the browser bundle of oauth-jwt-verify/pkce (the npm run size measurement)', () => {
  it('pulls in no jose, Node built-in, verifier, testing or verifier-transport module', async () => {
    const report = (await measurePkceBundle()) as SizeReport;
    expect(report.forbidden).toEqual([]);
    expect(report.modules.map((module) => module.path)).not.toContain('src/issuer/verifier-http.ts');
  });

  it('fits everything the entry exports within 8 KB', async () => {
    const report = (await measurePkceBundle()) as SizeReport;
    expect(BUDGET_GZIP_BYTES).toBe(8192);
    expect(report.budgetGzipBytes).toBe(8192);
    expect(report.gzipBytes).toBeLessThanOrEqual(8192);
    expect(report.ok).toBe(true);
    // Per-file figures add up to the bundle, less esbuild's glue (the export statement).
    expect(report.modules.reduce((sum, module) => sum + module.bytes, 0)).toBeLessThanOrEqual(report.bytes);
  });

  it('reports ok only within the budget it was given', async () => {
    const report = (await measurePkceBundle({ budgetGzipBytes: 1024 })) as SizeReport;
    expect(report.gzipBytes).toBeGreaterThan(1024);
    expect(report.ok).toBe(false);
  });
});

describe('an SPA that imports only the PKCE login helpers', () => {
  it('fits within 5.5 KB and ships none of the resource discovery and registration modules', async () => {
    const spa = (await measurePkceBundle({
      imports: SPA_IMPORTS,
      budgetGzipBytes: SPA_BUDGET_GZIP_BYTES,
    })) as SizeReport;
    const whole = (await measurePkceBundle()) as SizeReport;
    const paths = spa.modules.map((module) => module.path);
    for (const module of MCP_CLIENT_MODULES) {
      expect(paths).not.toContain(module);
      expect(whole.modules.map((m) => m.path)).toContain(module);
    }
    expect(spa.forbidden).toEqual([]);
    expect(spa.gzipBytes).toBeLessThan(whole.gzipBytes);
    expect(SPA_BUDGET_GZIP_BYTES).toBe(5632);
    expect(spa.gzipBytes).toBeLessThanOrEqual(5632);
    expect(spa.ok).toBe(true);
  });
});

describe('the login start (the PKCE pair and the authorization URL)', () => {
  it('fits within 2 KB', async () => {
    expect(LOGIN_START_IMPORTS).toEqual(['createPkcePair', 'buildAuthorizationUrl']);
    const start = (await measurePkceBundle({
      imports: LOGIN_START_IMPORTS,
      budgetGzipBytes: LOGIN_START_BUDGET_GZIP_BYTES,
    })) as SizeReport;
    expect(LOGIN_START_BUDGET_GZIP_BYTES).toBe(2048);
    expect(start.forbidden).toEqual([]);
    expect(start.gzipBytes).toBeLessThanOrEqual(2048);
    expect(start.ok).toBe(true);
  });
});

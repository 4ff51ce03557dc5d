import { describe, expect, it } from 'vitest';
// @ts-expect-error -- a plain .mjs script without type declarations
import { BUDGET_GZIP_BYTES, measurePkceBundle } from '../../scripts/size.mjs';

interface SizeReport {
  bytes: number;
  gzipBytes: number;
  budgetGzipBytes: number;
  ok: boolean;
  modules: { path: string; bytes: number }[];
  forbidden: string[];
}

/**
 * NOT the issue 4 budget (BUDGET_GZIP_BYTES, 3072): the bundle measures 4987 bytes (about
 * 4.9 KiB) and `npm run size` exits 1 until it fits. This ceiling stops it from growing meanwhile; set
 * it to BUDGET_GZIP_BYTES once the bundle is under budget. Raised from 4672 by issue 16 (every
 * 4xx of the token endpoint typed, TokenEndpointRefusedError, Retry-After, the excerpt's
 * redaction: 4614 → 4987 bytes). Raised by issue 20: the entry exports the DPoP helpers too
 * (4987 → 6555 bytes for everything; an app that imports no DPoP helper ships none of them,
 * and one that does adds at most 1.5 KB: test/pkce/dpop-size.test.ts).
 */
const REGRESSION_CEILING_GZIP_BYTES = 6620;

describe('the browser bundle of oauth-jwt-verify/pkce (the npm run size measurement)', () => {
  it('pulls in no jose, Node built-in, verifier, testing or verifier-transport module', async () => {
    const report = (await measurePkceBundle()) as SizeReport;
    expect(report.forbidden).toEqual([]);
    expect(report.modules.map((module) => module.path)).not.toContain('src/issuer/verifier-http.ts');
  });

  it('does not grow past the regression ceiling, and reports ok only under the 3 KB budget', async () => {
    const report = (await measurePkceBundle()) as SizeReport;
    expect(report.budgetGzipBytes).toBe(3072);
    expect(BUDGET_GZIP_BYTES).toBe(3072);
    expect(report.gzipBytes).toBeLessThanOrEqual(REGRESSION_CEILING_GZIP_BYTES);
    expect(report.ok).toBe(report.gzipBytes <= BUDGET_GZIP_BYTES);
    // Per-file figures add up to the bundle, less esbuild's glue (the export statement).
    expect(report.modules.reduce((sum, module) => sum + module.bytes, 0)).toBeLessThanOrEqual(report.bytes);
  });
});

import { describe, expect, it } from 'vitest';
import {
  DPOP_BUDGET_GZIP_BYTES,
  DPOP_IMPORTS,
  SPA_BUDGET_GZIP_BYTES,
  measureDpopHelpers,
  // @ts-expect-error -- a plain .mjs script without type declarations
} from '../../../scripts/size.mjs';

interface DpopSizeReport {
  withoutDpop: { bytes: number; gzipBytes: number };
  withDpop: { bytes: number; gzipBytes: number };
  addedBytes: number;
  addedGzipBytes: number;
  budgetGzipBytes: number;
  dpopModules: { path: string; bytes: number }[];
  unusedLeaks: string[];
  ok: boolean;
}

// esbuild bundles of two small app entries (the login flow; the same with the DPoP
// helpers), as `node scripts/size.mjs` prints them.
describe('the size of the DPoP helpers in an app bundle', () => {
  it('adds at most 1.5 KB gzip to an app that uses them', async () => {
    const report = (await measureDpopHelpers()) as DpopSizeReport;
    expect(DPOP_BUDGET_GZIP_BYTES).toBe(1536);
    expect(DPOP_IMPORTS).toEqual([
      'createDpopKeyPair',
      'createDpopHandle',
      'createIndexedDbDpopStore',
      'fetchWithDpop',
    ]);
    expect(report.addedGzipBytes).toBe(report.withDpop.gzipBytes - report.withoutDpop.gzipBytes);
    expect(report.addedGzipBytes).toBeGreaterThan(0);
    expect(report.addedGzipBytes).toBeLessThanOrEqual(1536);
    expect(report.dpopModules.map((module) => module.path).sort()).toEqual([
      'src/pkce/dpop/fetch.ts',
      'src/pkce/dpop/handle.ts',
      'src/pkce/dpop/key-pair.ts',
      'src/pkce/dpop/store.ts',
    ]);
    expect(report.ok).toBe(true);
  });

  it('adds nothing of src/pkce/dpop/ to an app that does not use them', async () => {
    const report = (await measureDpopHelpers()) as DpopSizeReport;
    expect(report.unusedLeaks).toEqual([]);
    // The login flow alone, within the 5.5 KB of an SPA's login helpers: the `dpop` option of
    // the token helpers is all that it carries of DPoP.
    expect(report.withoutDpop.gzipBytes).toBeLessThanOrEqual(SPA_BUDGET_GZIP_BYTES);
  });
});

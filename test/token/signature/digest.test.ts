// sha256Base64Url on both signature paths: node:crypto's createHash (at once) and Web
// Crypto's digest must give the same base64url text, for strings as UTF-8 and for bytes.
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as node from '../../../src/token/signature/node.js';
import * as web from '../../../src/token/signature/web.js';

describe('sha256Base64Url', () => {
  it('is the RFC 9449 §4.2 ath of an access token (the RFC’s own example)', async () => {
    // RFC 9449 §4.2 (Figure 4): the ath of "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU".
    const ath = 'fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo';
    expect(node.sha256Base64Url('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(ath);
    expect(await web.sha256Base64Url('Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU')).toBe(ath);
  });

  it('answers on Node without a promise, and agrees with Web Crypto on any text and bytes', async () => {
    expect(typeof node.sha256Base64Url('x')).toBe('string');
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ unit: 'binary' }), fc.uint8Array()), async (data) => {
        const expected = createHash('sha256').update(data).digest('base64url');
        expect(node.sha256Base64Url(data)).toBe(expected);
        expect(await web.sha256Base64Url(data)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });
});

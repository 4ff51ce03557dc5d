/**
 * The signature check. Source code (tests, type checks) gets the Node implementation; the
 * build replaces this module with the package's `#signature` import, which picks
 * `signature-node` under the `node` and `bun` conditions, `signature-deno` (node:crypto for
 * RSA and EdDSA, Web Crypto for ECDSA) under `deno`, and the Web Crypto one (`signature-web`) everywhere
 * else, so browser and workerd bundles never see `node:crypto`.
 * See docs/performance.md and tsup.config.ts.
 */
export { checkSignature, mlDsaUnavailable, segmentDecoder, sha256Base64Url } from './node.js';
export type { SignatureCheck } from './types.js';

/**
 * `oauth-jwt-verify/node`: an undici transport for Node services (keep-alive, timeouts, a
 * response size limit, proxies, a custom CA), passed to the verifier as its `fetch`.
 * Node only: browser bundlers get `null` for this entry.
 *
 * @example
 * import { JwtVerifier } from 'oauth-jwt-verify';
 * import { createNodeFetch } from 'oauth-jwt-verify/node';
 * const verifier = new JwtVerifier({ issuer, audience, fetch: createNodeFetch({ proxy: 'env' }) });
 * @module
 */
export { createNodeFetch } from './create-node-fetch.js';
export type { NodeFetch, NodeFetchOptions } from './create-node-fetch.js';

export { createNodeFetch } from './create-node-fetch.js';
export type { NodeFetch, NodeFetchOptions } from './create-node-fetch.js';

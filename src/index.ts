export * from './errors.js';
export { discover, discoveryUrls } from './discovery.js';
export type { AuthorizationServerMetadata, DiscoveryMode, DiscoverOptions } from './discovery.js';
export type { FetchLike, HttpOptions } from './http.js';

import type { ClientRegistry } from './clients.js';
import type { GrantStore } from './grants.js';
import type { SignContext } from './sign.js';
import type { SignOptions } from './types.js';

/** What the endpoints need from the issuer they belong to. */
export interface IssuerContext extends SignContext {
  readonly subject: string;
  readonly clients: ClientRegistry;
  readonly grants: GrantStore;
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
}

import type { GrantStore } from './grants.js';
import type { OpaqueTokenStore } from './introspect.js';
import type { SignContext } from './sign.js';
import type { SignOptions, TestClient } from './types.js';

/** What the endpoints need from the issuer they belong to. */
export interface IssuerContext extends SignContext {
  readonly subject: string;
  readonly clients: readonly TestClient[] | undefined;
  readonly grants: GrantStore;
  readonly opaqueTokens: OpaqueTokenStore;
  /** What the token endpoint issues as access tokens. */
  readonly accessTokenFormat: 'jwt' | 'opaque';
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
}

import type { ClientRegistry } from './clients.js';
import type { GrantStore } from './grants.js';
import type { OpaqueTokenStore } from './opaque-tokens.js';
import type { SignContext } from './sign.js';
import type { TokenEndpointDpop } from './token-dpop.js';
import type { SignOptions, TestClient, TestRequestMapping, TestUser } from './types.js';

/** What the endpoints need from the issuer they belong to. */
export interface IssuerContext extends SignContext {
  readonly subject: string;
  /** The configured users (may be empty: `subject` is then the one user). */
  readonly users: readonly TestUser[];
  /** Claims merged into tokens when a token request's parameter matches. */
  readonly requestMappings: readonly TestRequestMapping[];
  /** Whether `/authorize` shows the login page (a `login_hint` skips it). */
  readonly interactiveLogin: boolean;
  readonly clients: ClientRegistry;
  readonly grants: GrantStore;
  readonly opaqueTokens: OpaqueTokenStore;
  /** What the token endpoint issues as access tokens. */
  readonly accessTokenFormat: 'jwt' | 'opaque';
  /** DPoP proofs at the token endpoint: nonces when required, the replay store. */
  readonly dpop: TokenEndpointDpop;
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
}

// What the stub issuer's endpoints share: keys, clients, grants, sessions, hooks.
import type { JwtVerifier } from '../verify/verifier.js';
import type { AssertionReplayStore } from './assertion-replay.js';
import type { ClientDocumentCache } from './client-metadata-document.js';
import type { ClientRegistry } from './clients.js';
import type { GrantStore } from './grants.js';
import type { LoginSessions } from './login/sessions.js';
import type { HookRegistry } from './hooks.js';
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
  /** The login page's sessions, ended by the logout endpoint. */
  readonly sessions: LoginSessions;
  readonly clients: ClientRegistry;
  readonly grants: GrantStore;
  readonly opaqueTokens: OpaqueTokenStore;
  /** What the token endpoint issues as access tokens. */
  readonly accessTokenFormat: 'jwt' | 'opaque';
  /** DPoP proofs at the token endpoint: nonces when required, the replay store. */
  readonly dpop: TokenEndpointDpop;
  sign(claims: Record<string, unknown>, options?: SignOptions): Promise<string>;
  /** The token endpoint's URL: an `aud` client assertions may have (RFC 7523 §3). */
  readonly tokenEndpoint: string;
  /** `onToken` / `onUserinfo` hooks. */
  readonly hooks: HookRegistry;
  /** Verifies this issuer's own JWT access tokens, Bearer or DPoP (userinfo). */
  readonly accessTokens: JwtVerifier;
  /** The `jti`s of client assertions until their `exp`. */
  readonly assertionReplay: AssertionReplayStore;
  /** The resources of `protectedResource()`: targets token exchange knows. */
  readonly protectedResources: readonly string[];
  /** Client ID Metadata Documents, where the profile supports them. */
  readonly clientDocuments: ClientDocumentCache | undefined;
}

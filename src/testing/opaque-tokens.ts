// Opaque access tokens of the stub issuer, known only to its introspection endpoint.
import { randomToken } from './random.js';

/** The opaque access tokens the issuer handed out, by token, with the claims introspection tells. */
export class OpaqueTokenStore {
  readonly #tokens = new Map<string, Record<string, unknown>>();

  issue(claims: Record<string, unknown>): string {
    const token = randomToken();
    this.#tokens.set(token, claims);
    return token;
  }

  find(token: string): Record<string, unknown> | undefined {
    return this.#tokens.get(token);
  }

  /** RFC 7009: revokes an opaque token of `clientId` (or of no client); other tokens are ignored. */
  revoke(token: string, clientId: string): void {
    const claims = this.#tokens.get(token);
    if (claims && (claims.client_id === undefined || claims.client_id === clientId))
      this.#tokens.delete(token);
  }
}

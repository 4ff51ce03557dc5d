/** The `acr` a login at the stub issuer's `/authorize` records (RFC 9470 step-up, OIDC Core §2). */
import type { TestUser } from './types.js';

/**
 * The authentication context class of a login: when the request asks for `acr_values`
 * (OpenID Connect Core §3.1.2.1), the user's own `acr` if it is one of them, else the first
 * one asked for (the stub pretends the stronger login happened, so a step-up always
 * succeeds); without `acr_values`, the user's `acr`, or none.
 */
export function loginAcr(params: URLSearchParams, user: TestUser | undefined): string | undefined {
  const requested = (params.get('acr_values') ?? '').split(' ').filter(Boolean);
  if (!requested.length) return user?.acr;
  return user?.acr !== undefined && requested.includes(user.acr) ? user.acr : requested[0];
}

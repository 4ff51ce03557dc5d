/** `fetchWithDpop()`: a fetch that adds a DPoP proof and retries once with a new server nonce. */
import { invalidArgument } from '../../errors.js';
import { requireDpopHandle, requireString } from '../params.js';
import type { DpopHandle } from './handle.js';

/**
 * Calls an API with a DPoP-bound access token: `fetch(input, init)` (the global `fetch`,
 * looked up now) with `Authorization: DPoP <token>` and a `DPoP` proof for the request's
 * method and URL carrying `ath` and the API origin's last nonce. When the API answers 401
 * with `WWW-Authenticate: DPoP error="use_dpop_nonce"` and a new `DPoP-Nonce`, the request
 * is sent once more (body included) with a proof carrying that nonce. Resolves to the
 * answer as `fetch` does, whatever its status.
 *
 * A cross-origin API must allow the `Authorization` and `DPoP` request headers and expose
 * `DPoP-Nonce` and `WWW-Authenticate` (`Access-Control-Expose-Headers`), or the browser
 * hides the nonce from this page.
 *
 * @throws {TypeError} `code: 'ERR_INVALID_ARGUMENT'` (as a rejection) for a `handle` that
 *   is not from {@link createDpopHandle}, an empty token, or `input`/`init` that make no Request.
 * @example
 * const response = await fetchWithDpop(dpop, tokens.access_token, 'https://api.example.com/me');
 * const me = await response.json();
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-7
 * @see https://www.rfc-editor.org/rfc/rfc9449#section-9
 */
export async function fetchWithDpop(
  handle: DpopHandle,
  accessToken: string,
  input: string | URL | Request,
  init?: RequestInit,
): Promise<Response> {
  requireDpopHandle(handle, true);
  requireString(accessToken, 'accessToken');
  let request: Request;
  try {
    request = new Request(input, init);
  } catch (cause) {
    throw invalidArgument(`input and init make no Request: ${(cause as Error)?.message}`);
  }
  let previous: Response | undefined;
  return handle.withProof(
    request.method,
    request.url,
    async (proof) => {
      // The challenged answer's body is not wanted: release its connection.
      previous?.body?.cancel().catch(() => undefined);
      const attempt = request.clone();
      attempt.headers.set('authorization', `DPoP ${accessToken}`);
      attempt.headers.set('dpop', proof);
      return (previous = await fetch(attempt));
    },
    accessToken,
  );
}

// The DPoP SPA both DPoP flow tests drive (against oidc-provider and against the stub
// issuer): one page for the start of the login (/) and the /callback route, with its key in
// IndexedDB across the redirect, the code exchange, API calls through fetchWithDpop, a
// refresh and revocation; what it saw goes to #result as a FlowResult.
import { spaPage } from './harness.js';

interface ApiCall {
  status: number;
  body: Record<string, unknown>;
}

/** What the flow page reports in #result. */
export interface FlowResult {
  error?: { name: string; message: string; code?: string; error?: string };
  jkt: string;
  tokenType: string;
  accessToken: string;
  me: ApiCall;
  /** With `otherKey`: how the refresh with a proof of another key ended, and that key's jkt. */
  otherKeyRefresh?: string;
  otherJkt?: string;
  refreshedTokenType: string;
  refreshedAccessToken: string;
  meAfterRefresh: ApiCall;
  afterRevoke: string;
}

export interface FlowConfig {
  title: string;
  issuer: string;
  /** The resource server's origin; the page calls its /me. */
  api: string;
  clientId: string;
  /** The `resource` the page asks tokens for. */
  resource: string;
  /** discover()'s options (`{ discovery: 'oidc' }` for oidc-provider). */
  discover?: { discovery: 'oidc' };
  /** The authorization request's `prompt`. */
  prompt?: string;
  /** Also try the refresh token with a proof of another key, before the page's own refresh. */
  otherKey?: boolean;
}

export function dpopFlowPage({ title, ...config }: FlowConfig): string {
  return spaPage({
    title,
    config,
    imports: `discover, buildAuthorizationUrl, parseAuthorizationResponse, exchangeAuthorizationCode,
  refreshTokens, revokeToken, createDpopKeyPair, createDpopHandle, createIndexedDbDpopStore,
  fetchWithDpop,`,
    script: `  const failure = (error) => error.name + ' ' + error.error;
  const metadata = await discover(config.issuer, config.discover);
  const redirectUri = location.origin + '/callback';
  // The key lives in IndexedDB: the one made before the redirect signs after it.
  const store = createIndexedDbDpopStore();
  const dpop = await createDpopHandle((await store.get('keyPair')) ?? (await createDpopKeyPair()), { store });
  if (location.pathname === '/callback') {
    const pending = JSON.parse(sessionStorage.getItem('oauth:pending') ?? 'null');
    sessionStorage.removeItem('oauth:pending');
    const { code } = parseAuthorizationResponse(location.href, { expectedState: pending.state, metadata });
    history.replaceState(null, '', '/');
    const client = { clientId: config.clientId, resource: config.resource, dpop };
    const tokens = await exchangeAuthorizationCode(metadata, {
      ...client, code, codeVerifier: pending.codeVerifier, redirectUri,
    });
    const call = async (token) => {
      const response = await fetchWithDpop(dpop, token, config.api + '/me?view=full');
      return { status: response.status, body: await response.json() };
    };
    const me = await call(tokens.access_token);
    const other = {};
    if (config.otherKey) {
      // The refresh token is bound to the page's key: a proof of another key cannot use it.
      const otherKey = await createDpopHandle(await createDpopKeyPair());
      other.otherJkt = otherKey.jkt;
      other.otherKeyRefresh = await refreshTokens(metadata, {
        ...client, dpop: otherKey, refreshToken: tokens.refresh_token,
      }).then(() => 'refreshed', (error) => failure(error) + ': ' + error.message);
    }
    const refreshed = await refreshTokens(metadata, { ...client, refreshToken: tokens.refresh_token });
    const meAfterRefresh = await call(refreshed.access_token);
    await revokeToken(metadata, {
      clientId: config.clientId, dpop, token: refreshed.refresh_token, tokenTypeHint: 'refresh_token',
    });
    const afterRevoke = await refreshTokens(metadata, { ...client, refreshToken: refreshed.refresh_token })
      .then(() => 'refreshed', failure);
    await store.clear();
    show('status', 'done');
    show('result', {
      jkt: dpop.jkt, tokenType: tokens.token_type, accessToken: tokens.access_token, me, ...other,
      refreshedTokenType: refreshed.token_type, refreshedAccessToken: refreshed.access_token,
      meAfterRefresh, afterRevoke,
    });
  } else {
    const request = await buildAuthorizationUrl(metadata, {
      clientId: config.clientId, redirectUri, scope: 'openid offline_access api:read',
      resource: config.resource, dpop, ...(config.prompt ? { prompt: config.prompt } : {}),
    });
    sessionStorage.setItem('oauth:pending', JSON.stringify({ state: request.state, codeVerifier: request.codeVerifier }));
    show('status', 'redirecting');
    location.assign(request.url);
  }`,
  });
}

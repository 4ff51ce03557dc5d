// fetchWithDpop over real HTTP: a node:http resource server on 127.0.0.1 that demands its
// own nonce (401 use_dpop_nonce once), then accepts the DPoP-bound token (RFC 9449 §7, §9).
import type { JWTPayload } from 'jose';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type DpopHandle,
  createDpopHandle,
  createDpopKeyPair,
  fetchWithDpop,
} from '../../../src/pkce/index.js';
import {
  type ResourceServer,
  createDpopCheck,
  startResourceServer,
} from '../../support/dpop-resource-server.js';
import { caught } from '../../support/rejections.js';

const ACCESS_TOKEN = 'opaque-access-token-1';
let dpop: DpopHandle;
let api: ResourceServer;

beforeAll(async () => {
  dpop = await createDpopHandle(await createDpopKeyPair());
  // An opaque token the server knows as bound to this handle's key (introspection would say so).
  const verifyAccessToken = async (token: string): Promise<JWTPayload> => {
    if (token !== ACCESS_TOKEN) throw new Error('unknown token');
    return { sub: 'user-1', cnf: { jkt: dpop.jkt } };
  };
  api = await startResourceServer(createDpopCheck({ verifyAccessToken, nonce: 'rs-nonce-1' }));
});
afterAll(() => api?.close());
beforeEach(() => {
  api.calls.length = 0;
});

/** Makes sure `dpop` holds the server's nonce (whatever ran before), then forgets the calls. */
async function primed(): Promise<void> {
  expect((await fetchWithDpop(dpop, ACCESS_TOKEN, `${api.origin}/me`)).status).toBe(200);
  api.calls.length = 0;
}

describe('fetchWithDpop', () => {
  it('retries once on 401 use_dpop_nonce with the nonce, keeps using it, and a token bound to another key stays refused', async () => {
    const fresh = await createDpopHandle(await createDpopKeyPair());
    // The server checks the binding to `dpop`'s key; this handle only shows the nonce dance
    // fails closed: same nonce rules, then invalid_token for the foreign key.
    const foreign = await fetchWithDpop(fresh, ACCESS_TOKEN, `${api.origin}/me`);
    expect(foreign.status).toBe(401);
    expect(foreign.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(api.calls.map((call) => call.status)).toEqual([401, 401]);

    api.calls.length = 0;
    const response = await fetchWithDpop(dpop, ACCESS_TOKEN, `${api.origin}/me?fields=sub#x`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ sub: 'user-1' });
    expect(api.calls.map((call) => call.status)).toEqual([401, 200]);

    // The nonce is remembered for this origin: the next call needs one request.
    api.calls.length = 0;
    expect((await fetchWithDpop(dpop, ACCESS_TOKEN, `${api.origin}/me`)).status).toBe(200);
    expect(api.calls.map((call) => call.status)).toEqual([200]);
  });

  it('sends the body again on the retry, with the method and headers of init', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const local = await startResourceServer(
      createDpopCheck({
        nonce: 'n-body',
        verifyAccessToken: async () => ({ sub: 'user-2', cnf: { jkt: handle.jkt } }),
      }),
    );
    try {
      const response = await fetchWithDpop(handle, 'at-2', `${local.origin}/echo`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ order: 7 }),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ method: 'PUT', body: '{"order":7}' });
      expect(local.calls).toEqual([
        { method: 'PUT', path: '/echo', status: 401, body: '{"order":7}' },
        { method: 'PUT', path: '/echo', status: 200, body: '{"order":7}' },
      ]);
    } finally {
      await local.close();
    }
  });

  it('takes a Request as input', async () => {
    await primed();
    const request = new Request(`${api.origin}/echo`, { method: 'POST', body: 'hello' });
    const response = await fetchWithDpop(dpop, ACCESS_TOKEN, request);
    expect(await response.json()).toEqual({ method: 'POST', body: 'hello' });
    expect(api.calls.map((call) => call.status)).toEqual([200]);
  });

  it('resolves to the answer of a refused token without retrying (not a nonce challenge)', async () => {
    await primed();
    const response = await fetchWithDpop(dpop, 'some-other-token', `${api.origin}/me`);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
    expect(api.calls).toHaveLength(1);
  });

  it('refuses a bad handle, an empty token or a URL that makes no Request with ERR_INVALID_ARGUMENT', async () => {
    for (const run of [
      () => fetchWithDpop(undefined as never, ACCESS_TOKEN, `${api.origin}/me`),
      () => fetchWithDpop({ jkt: 'x' } as never, ACCESS_TOKEN, `${api.origin}/me`),
      () => fetchWithDpop(dpop, '', `${api.origin}/me`),
      () => fetchWithDpop(dpop, ACCESS_TOKEN, '/relative-in-node'),
      () => fetchWithDpop(dpop, ACCESS_TOKEN, `${api.origin}/me`, { method: 'bad method' }),
    ]) {
      const error = await caught(run);
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    }
    expect(api.calls).toHaveLength(0);
  });
});

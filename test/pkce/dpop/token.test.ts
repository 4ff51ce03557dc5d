// The `dpop` option of buildAuthorizationUrl and the token helpers (RFC 9449 §5, §8, §10)
// through msw: the proof each request carries, the one retry on use_dpop_nonce built on
// the token helpers' 4xx handling, and token_type as the server sent it.
import { EmbeddedJWK, jwtVerify } from 'jose';
import { HttpResponse, http } from 'msw';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type DpopHandle,
  TokenEndpointError,
  buildAuthorizationUrl,
  createDpopHandle,
  createDpopKeyPair,
  exchangeAuthorizationCode,
  refreshTokens,
  revokeToken,
} from '../../../src/pkce/index.js';
import { REVOKE, TOKEN, exchange, expectAnswerError, metadata } from '../fixtures.js';
import { useMsw } from '../../support/msw.js';
import { caught } from '../../support/rejections.js';

const server = useMsw();
/** The DPoP header of each request the endpoints got, in order. */
const proofs: (string | null)[] = [];
afterEach(() => {
  proofs.length = 0;
});

let dpop: DpopHandle;
beforeEach(async () => {
  dpop = await createDpopHandle(await createDpopKeyPair());
});

/** An endpoint that demands `nonce` in the proof (§8), answering `ok` once it has it. */
function demandingNonce(url: string, nonce: string, ok: () => Response) {
  server.use(
    http.post(url, async ({ request }) => {
      const proof = request.headers.get('dpop');
      proofs.push(proof);
      const claims = proof ? (await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' })).payload : undefined;
      if (claims?.nonce !== nonce) {
        return HttpResponse.json(
          { error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof' },
          { status: 400, headers: { 'DPoP-Nonce': nonce } },
        );
      }
      return ok();
    }),
  );
}

const claimsOf = async (proof: string | null) =>
  (await jwtVerify(proof!, EmbeddedJWK, { typ: 'dpop+jwt' })).payload;

describe('buildAuthorizationUrl with dpop', () => {
  it('sends dpop_jkt, the thumbprint of the key (RFC 9449 §10)', async () => {
    const { url } = await buildAuthorizationUrl(metadata, {
      clientId: 'spa-client',
      redirectUri: exchange.redirectUri,
      dpop,
    });
    expect(new URL(url).searchParams.get('dpop_jkt')).toBe(dpop.jkt);
  });

  it('sends no dpop_jkt without it, and refuses what is not a handle', async () => {
    const { url } = await buildAuthorizationUrl(metadata, {
      clientId: 'c',
      redirectUri: exchange.redirectUri,
    });
    expect(new URL(url).searchParams.has('dpop_jkt')).toBe(false);
    const error = await caught(() =>
      buildAuthorizationUrl(metadata, {
        clientId: 'c',
        redirectUri: exchange.redirectUri,
        dpop: { jkt: 'forged' } as DpopHandle,
      }),
    );
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toBe('dpop must come from createDpopHandle()');
  });
});

describe('exchangeAuthorizationCode with dpop', () => {
  it('sends a proof for POST to the token endpoint, retries once with the nonce, and returns token_type as sent', async () => {
    const tokens = { access_token: 'at-1', token_type: 'DPoP', expires_in: 300, refresh_token: 'rt-1' };
    demandingNonce(TOKEN, 'as-nonce-1', () => HttpResponse.json(tokens));
    await expect(exchangeAuthorizationCode(metadata, { ...exchange, dpop })).resolves.toEqual(tokens);
    expect(proofs).toHaveLength(2);
    const [first, second] = [await claimsOf(proofs[0]!), await claimsOf(proofs[1]!)];
    expect(first).toMatchObject({ htm: 'POST', htu: TOKEN });
    expect(first.nonce).toBeUndefined();
    expect(first.ath).toBeUndefined();
    expect(second).toMatchObject({ htm: 'POST', htu: TOKEN, nonce: 'as-nonce-1' });
  });

  it('returns token_type Bearer as the server sent it when the server did not bind the token', async () => {
    server.use(
      http.post(TOKEN, ({ request }) => {
        proofs.push(request.headers.get('dpop'));
        return HttpResponse.json({ access_token: 'at-1', token_type: 'Bearer' });
      }),
    );
    const tokens = await exchangeAuthorizationCode(metadata, { ...exchange, dpop });
    expect(tokens.token_type).toBe('Bearer');
    expect(proofs).toHaveLength(1);
    expect(await claimsOf(proofs[0]!)).toMatchObject({ htm: 'POST', htu: TOKEN });
  });

  it('rejects with TokenEndpointError use_dpop_nonce when the retry is refused too (two requests, no more)', async () => {
    let n = 0;
    server.use(
      http.post(TOKEN, ({ request }) => {
        proofs.push(request.headers.get('dpop'));
        return HttpResponse.json(
          { error: 'use_dpop_nonce', error_description: 'nonce is required in the DPoP proof' },
          { status: 400, headers: { 'DPoP-Nonce': `changing-${++n}` } },
        );
      }),
    );
    const error = await caught(() => exchangeAuthorizationCode(metadata, { ...exchange, dpop }));
    expectAnswerError(error, TokenEndpointError, { error: 'use_dpop_nonce', status: 400 });
    expect(proofs).toHaveLength(2);
  });

  it('does not retry use_dpop_nonce without a DPoP-Nonce header, nor invalid_dpop_proof', async () => {
    for (const [body, headers] of [
      [{ error: 'use_dpop_nonce' }, {}],
      [{ error: 'invalid_dpop_proof' }, { 'DPoP-Nonce': 'n-1' }],
    ] as const) {
      proofs.length = 0;
      server.use(
        http.post(TOKEN, ({ request }) => {
          proofs.push(request.headers.get('dpop'));
          return HttpResponse.json(body, { status: 400, headers });
        }),
      );
      const error = await caught(() => exchangeAuthorizationCode(metadata, { ...exchange, dpop }));
      expect(error).toMatchObject({ name: 'TokenEndpointError', error: body.error });
      expect(proofs).toHaveLength(1);
    }
  });

  it('sends no DPoP header without the option', async () => {
    server.use(
      http.post(TOKEN, ({ request }) => {
        proofs.push(request.headers.get('dpop'));
        return HttpResponse.json({ access_token: 'at-1', token_type: 'Bearer' });
      }),
    );
    await exchangeAuthorizationCode(metadata, exchange);
    expect(proofs).toEqual([null]);
  });

  it('refuses a dpop option that is not a handle before any request', async () => {
    const error = await caught(() =>
      exchangeAuthorizationCode(metadata, { ...exchange, dpop: 'dpop' as unknown as DpopHandle }),
    );
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(proofs).toHaveLength(0);
  });
});

describe('refreshTokens and revokeToken with dpop', () => {
  it('refresh uses the nonce the exchange left (one request), then follows a new one', async () => {
    demandingNonce(TOKEN, 'as-nonce-1', () =>
      HttpResponse.json({ access_token: 'at-1', token_type: 'DPoP' }),
    );
    await exchangeAuthorizationCode(metadata, { ...exchange, dpop });
    expect(proofs).toHaveLength(2);

    proofs.length = 0;
    await expect(
      refreshTokens(metadata, { clientId: 'spa-client', refreshToken: 'rt-1', dpop }),
    ).resolves.toEqual({ access_token: 'at-1', token_type: 'DPoP' });
    expect(proofs).toHaveLength(1);
    expect(await claimsOf(proofs[0]!)).toMatchObject({ htm: 'POST', htu: TOKEN, nonce: 'as-nonce-1' });

    // The server rotated its nonce: one use_dpop_nonce, one retry.
    proofs.length = 0;
    demandingNonce(TOKEN, 'as-nonce-2', () =>
      HttpResponse.json({ access_token: 'at-2', token_type: 'DPoP' }),
    );
    const refreshed = await refreshTokens(metadata, { clientId: 'spa-client', refreshToken: 'rt-1', dpop });
    expect(refreshed.access_token).toBe('at-2');
    expect(proofs).toHaveLength(2);
    expect(await claimsOf(proofs[1]!)).toMatchObject({ nonce: 'as-nonce-2' });
  });

  it('revocation sends a proof for the revocation endpoint and follows its nonce', async () => {
    demandingNonce(REVOKE, 'rv-nonce', () => new HttpResponse(null, { status: 200 }));
    await expect(
      revokeToken(metadata, { clientId: 'spa-client', token: 'rt-1', dpop }),
    ).resolves.toBeUndefined();
    expect(proofs).toHaveLength(2);
    expect(await claimsOf(proofs[1]!)).toMatchObject({ htm: 'POST', htu: REVOKE, nonce: 'rv-nonce' });
  });
});

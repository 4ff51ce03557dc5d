import { HttpResponse, http } from 'msw';
import { setupServer } from 'msw/node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS, JwtVerifyError, discover as rootDiscover } from '../../src/index.js';
import { discover } from '../../src/pkce/index.js';
import { caught } from '../support/rejections.js';

const ISSUER = 'https://split.test';
const OAUTH = `${ISSUER}/.well-known/oauth-authorization-server`;
const OIDC = `${ISSUER}/.well-known/openid-configuration`;
const document = {
  issuer: ISSUER,
  authorization_endpoint: `${ISSUER}/authorize`,
  code_challenge_methods_supported: ['S256'],
};

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

describe('the core shared by ./pkce and the verifier', () => {
  it.each(Object.entries(ERROR_STATUS))('gives %s the status ERROR_STATUS lists (%i)', (code, status) => {
    const error = new JwtVerifyError(code as keyof typeof ERROR_STATUS, 'x');
    expect(error.code).toBe(code);
    expect(error.status).toBe(status);
  });

  it('applies the same discovery rules in both entries: RFC 8414 first, then OIDC', async () => {
    let oauth = 0;
    server.use(
      http.get(OAUTH, () => {
        oauth++;
        return new HttpResponse(null, { status: 404 });
      }),
      http.get(OIDC, () => HttpResponse.json(document)),
    );
    expect(await discover(ISSUER)).toEqual(document);
    expect(await rootDiscover(ISSUER)).toEqual(document);
    expect(oauth).toBe(2);
  });

  it('refuses an issuer mismatch in both entries with the same error', async () => {
    server.use(http.get(OAUTH, () => HttpResponse.json({ ...document, issuer: 'https://other.test' })));
    const [pkceError, rootError] = [
      await caught(() => discover(ISSUER)),
      await caught(() => rootDiscover(ISSUER)),
    ];
    expect(pkceError.code).toBe('ERR_METADATA_INVALID');
    expect(pkceError.message).toBe(rootError.message);
  });

  it('follows a same-origin redirect only in the verifier transport; ./pkce reports the 3xx', async () => {
    server.use(
      http.get(OAUTH, () => new HttpResponse(null, { status: 302, headers: { location: '/moved' } })),
      http.get(`${ISSUER}/moved`, () => HttpResponse.json(document)),
      http.get(OIDC, () => new HttpResponse(null, { status: 404 })),
    );
    expect(await rootDiscover(ISSUER, { discovery: 'oauth' })).toEqual(document);
    const error = await caught(() => discover(ISSUER, { discovery: 'oauth' }));
    expect(error.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(error.details).toEqual({ url: OAUTH, issuerStatus: 302 });
  });

  it('reports the server text and Retry-After only in the verifier transport', async () => {
    server.use(
      http.get(OAUTH, () =>
        HttpResponse.json({ message: 'maintenance' }, { status: 503, headers: { 'retry-after': '7' } }),
      ),
    );
    const root = await caught(() => rootDiscover(ISSUER, { discovery: 'oauth' }));
    expect(root.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(root.message).toContain('maintenance');
    expect(root.details).toMatchObject({ issuerStatus: 503, retryAfterSeconds: 7 });
    const pkce = await caught(() => discover(ISSUER, { discovery: 'oauth' }));
    expect(pkce.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(pkce.message).toBe(`${OAUTH} answered 503`);
  });

  it('refuses a metadata body over maxResponseBytes, streamed without a content-length', async () => {
    const big = JSON.stringify({ ...document, padding: 'x'.repeat(5000) });
    server.use(
      http.get(OAUTH, () => {
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            for (let i = 0; i < big.length; i += 1000)
              controller.enqueue(new TextEncoder().encode(big.slice(i, i + 1000)));
            controller.close();
          },
        });
        return new HttpResponse(body, { headers: { 'content-type': 'application/json' } });
      }),
    );
    const error = await caught(() => discover(ISSUER, { discovery: 'oauth', maxResponseBytes: 4096 }));
    expect(error.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toContain('4096-byte');
    await expect(discover(ISSUER, { discovery: 'oauth', maxResponseBytes: 8192 })).resolves.toMatchObject(
      document,
    );
  });

  it("reports a browser's opaque redirect (redirect: 'manual') as ERR_ISSUER_UNAVAILABLE", async () => {
    const seen: RequestInit[] = [];
    // What a browser's fetch hands back for a 3xx under redirect: 'manual'.
    const fetch = async (_input: string | URL | Request, init?: RequestInit) => {
      seen.push(init!);
      return Object.defineProperty(new Response(null), 'type', { value: 'opaqueredirect' });
    };
    const error = await caught(() => discover(ISSUER, { discovery: 'oauth', fetch }));
    expect(error.code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toMatch(/redirect/);
    expect(seen[0]!.redirect).toBe('manual');
  });

  it('rejects bad options of the browser discover with a coded TypeError', async () => {
    const error = await caught(() => discover(ISSUER, { timeoutMs: -1 }));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error).toBeInstanceOf(TypeError);
  });
});

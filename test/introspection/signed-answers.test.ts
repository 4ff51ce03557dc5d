// RFC 9701 signed introspection answers: asked for with Accept, verified with the issuer's
// JWKS (the verifier's own key cache: one fetch, a refetch for a new kid), and every answer
// that does not verify (key, alg, typ, iss, aud, iat) refused as the issuer's failure (503).
import { http } from 'msw';
import { describe, expect, it } from 'vitest';
import { IntrospectionVerifier, type IntrospectionVerifierOptions } from '../../src/index.js';
import type { SignOptions } from '../../src/testing/index.js';
import { jsonResponse, useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';

const API = 'https://api.test';
const CLIENT = { clientId: 'orders-api', clientSecret: 'orders-secret' };
const { server, issuer } = useMswIssuer({ issuer: 'https://signed.test', audience: API, clients: [CLIENT] });

function verifierWith(options: Partial<IntrospectionVerifierOptions> = {}): IntrospectionVerifier {
  return new IntrospectionVerifier({
    issuer: issuer.issuer,
    audience: API,
    ...CLIENT,
    jwtResponse: true,
    ...options,
  });
}

/** Makes the introspection endpoint answer with this JWT (RFC 9701 content type). */
function answerWith(jwt: string, contentType = 'application/token-introspection+jwt'): void {
  server.use(
    http.post(
      'https://signed.test/introspect',
      () => new Response(jwt, { headers: { 'content-type': contentType } }),
    ),
  );
}

/** A signed answer about an active token, with the claims and sign options given. */
function signedAnswer(claims: Record<string, unknown> = {}, options: SignOptions = {}): Promise<string> {
  return issuer.sign(
    {
      aud: CLIENT.clientId,
      exp: undefined,
      jti: undefined,
      token_introspection: { active: true, iss: issuer.issuer, aud: API, sub: 'signed-user' },
      ...claims,
    },
    { ...options, header: { typ: 'token-introspection+jwt', ...options.header } },
  );
}

describe('IntrospectionVerifier with jwtResponse (RFC 9701)', () => {
  it('asks for a signed answer, verifies it with the JWKS and returns its header', async () => {
    const accepts: (string | null)[] = [];
    server.events.on('request:start', ({ request }) => {
      if (request.url.endsWith('/introspect')) accepts.push(request.headers.get('accept'));
    });
    const verifier = verifierWith();
    const { payload, header } = await verifier.verify(
      issuer.issueOpaqueToken({ sub: 'alice', scope: 'read' }),
    );
    expect(payload).toMatchObject({ active: true, sub: 'alice', scope: 'read', aud: API });
    expect(header).toEqual({ alg: 'RS256', kid: issuer.keys[0]!.kid, typ: 'token-introspection+jwt' });
    expect(accepts).toEqual(['application/token-introspection+jwt']);
    await verifier.verify(issuer.issueOpaqueToken({ sub: 'bob' }));
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1, introspect: 2 });
  });

  it('refuses a token the signed answer calls inactive with ERR_CLAIM_INVALID', async () => {
    await expectRejection(verifierWith().verify('unknown-token'), 'ERR_CLAIM_INVALID');
  });

  it('refetches the JWKS once for an answer signed with a newly published key', async () => {
    const verifier = verifierWith();
    await verifier.warmup();
    await issuer.rotateKeys();
    const { header } = await verifier.verify(issuer.issueOpaqueToken({ sub: 'carol' }));
    expect(header.kid).toBe(issuer.keys[1]!.kid);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('with jwksUri, needs no jwks_uri from the metadata', async () => {
    const verifier = verifierWith({
      jwksUri: issuer.metadata.jwks_uri!,
      introspectionEndpoint: issuer.metadata.introspection_endpoint!,
    });
    expect((await verifier.verify(issuer.issueOpaqueToken({ sub: 'dan' }))).payload.sub).toBe('dan');
    expect(issuer.requests).toMatchObject({ metadata: 0, jwks: 1 });
  });

  it('takes a signed answer whatever its content type, but for JSON: the signature proves it', async () => {
    answerWith(await signedAnswer(), 'text/plain; charset=utf-8');
    expect((await verifierWith().verify('some-token')).payload.sub).toBe('signed-user');
  });

  it('refuses a plain JSON answer when a signed one was asked for (503, naming RFC 9701)', async () => {
    server.use(
      http.post('https://signed.test/introspect', () => jsonResponse({ active: true, aud: API, sub: 'x' })),
    );
    const error = await expectRejection(verifierWith().verify('some-token'), 'ERR_ISSUER_UNAVAILABLE');
    expect(error.message).toMatch(
      /answered application\/json, not the signed application\/token-introspection\+jwt/,
    );
  });

  it.each<[string, () => Promise<string>, RegExp]>([
    ['an unpublished key', () => signedAnswer({}, { unpublishedKey: true }), /no key with kid/],
    ['alg none', () => signedAnswer({}, { header: { alg: 'none' } }), /"none", which is not allowed/],
    [
      'a tampered answer',
      async () => {
        const [h, , s] = (await signedAnswer()).split('.');
        const payload = Buffer.from(
          JSON.stringify({
            iss: issuer.issuer,
            aud: CLIENT.clientId,
            iat: 1,
            token_introspection: { active: true },
          }),
        ).toString('base64url');
        return `${h}.${payload}.${s}`;
      },
      /signature of the answer does not verify/,
    ],
    [
      'typ JWT',
      () => signedAnswer({}, { header: { typ: 'JWT' } }),
      /expected typ "token-introspection\+jwt"/,
    ],
    ['another client as aud', () => signedAnswer({ aud: 'other-client' }), /expected audience "orders-api"/],
    ['another issuer', () => signedAnswer({ iss: 'https://impostor.test' }), /expected issuer/],
    ['no iat', () => signedAnswer({ iat: undefined }), /required "iat" claim is missing/],
    ['no token_introspection', () => signedAnswer({ token_introspection: undefined }), /boolean "active"/],
    ['not a JWT', async () => 'not-a-jwt', /3 dot-separated parts/],
  ])(
    'refuses an answer with %s as the issuer failing (ERR_ISSUER_UNAVAILABLE)',
    async (_name, make, message) => {
      answerWith(await make());
      const error = await expectRejection(verifierWith().verify('some-token'), 'ERR_ISSUER_UNAVAILABLE');
      expect(error.message).toMatch(/https:\/\/signed\.test\/introspect/);
      expect(error.message).toMatch(message);
    },
  );
});

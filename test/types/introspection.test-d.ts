// Types of the introspection, ID-token and certificate-binding API as users write against it.
import { describe, expectTypeOf, it } from 'vitest';
import {
  type AuthenticateOptions,
  IntrospectionVerifier,
  type JwtPayload,
  JwtOrIntrospectionVerifier,
  JwtVerifier,
  MultiIssuerVerifier,
  type TokenVerifier,
  type VerifyResult,
  checkCertificateBinding,
  verifyIdToken,
} from '../../src/index.js';

const options = {
  issuer: 'https://issuer.example.com',
  audience: 'https://api.example.com',
  clientId: 'orders-api',
  clientSecret: 'secret',
};
const introspection = new IntrospectionVerifier(options);
const combined = new JwtOrIntrospectionVerifier({ ...options, jwt: { typ: 'at+jwt' } });

describe('IntrospectionVerifier and JwtOrIntrospectionVerifier', () => {
  it('resolve to the same result type as JwtVerifier, generic claims included', async () => {
    expectTypeOf(introspection.verify('t')).resolves.toEqualTypeOf<VerifyResult<JwtPayload>>();
    const { payload } = await combined.verify<{ sub: string; scope: string }>('t');
    expectTypeOf(payload.scope).toEqualTypeOf<string>();
  });

  it('fit authenticate() and the adapters, and MultiIssuerVerifier takes them', () => {
    expectTypeOf(introspection).toMatchTypeOf<TokenVerifier>();
    expectTypeOf(combined).toMatchTypeOf<TokenVerifier>();
    void new MultiIssuerVerifier([introspection, combined, { issuer: 'https://b.example', audience: null }]);
  });

  it('need the client credentials and an audience', () => {
    // @ts-expect-error: clientSecret is required
    void new IntrospectionVerifier({ issuer: 'https://i', audience: 'a', clientId: 'c' });
    // @ts-expect-error: audience is required (null skips the check, explicitly)
    void new IntrospectionVerifier({ issuer: 'https://i', clientId: 'c', clientSecret: 's' });
    // @ts-expect-error: typ is about a JWT header; an introspection answer has none
    void new IntrospectionVerifier({ ...options, typ: 'at+jwt' });
  });
});

describe('verifyIdToken', () => {
  const verifier = new JwtVerifier({ issuer: 'https://issuer.example.com', audience: 'my-spa' });

  it('needs the nonce (null when none was sent)', () => {
    void verifyIdToken(verifier, 't', { nonce: 'n', maxAge: 300, accessToken: 'a', code: 'c' });
    void verifyIdToken(verifier, 't', { nonce: null });
    // @ts-expect-error: nonce must be given, explicitly null to skip it
    void verifyIdToken(verifier, 't', { maxAge: 300 });
  });

  it('resolves to a VerifyResult with the claims type given', async () => {
    const { payload } = await verifyIdToken<JwtPayload & { email: string }>(verifier, 't', { nonce: null });
    expectTypeOf(payload.email).toEqualTypeOf<string>();
  });
});

describe('certificate binding', () => {
  it('takes DER bytes or text, and authenticate() a source of them', () => {
    expectTypeOf(checkCertificateBinding)
      .parameter(1)
      .toEqualTypeOf<Uint8Array | string | null | undefined>();
    const clientCertificate: AuthenticateOptions['clientCertificate'] = () => ':AAAA:';
    void clientCertificate;
  });
});

// Types of the verifier as users write against it: results, generic claims, options.
import { describe, expectTypeOf, it } from 'vitest';
import {
  type JwtHeader,
  type JwtPayload,
  JwtVerifier,
  type JwtVerifierOptions,
  JwtOrIntrospectionVerifier,
  MultiIssuerVerifier,
  type TokenVerifier,
  type VerifyOptions,
  type VerifyResult,
} from '../../src/index.js';

const verifier = new JwtVerifier({
  issuer: 'https://issuer.example.com',
  audience: 'https://api.example.com',
});

describe('JwtVerifier.verify', () => {
  it('resolves to the payload and the header', () => {
    expectTypeOf(verifier.verify).parameter(0).toEqualTypeOf<string>();
    expectTypeOf(verifier.verify('t')).resolves.toEqualTypeOf<VerifyResult<JwtPayload>>();
    expectTypeOf<VerifyResult['payload']>().toEqualTypeOf<JwtPayload>();
    expectTypeOf<VerifyResult['header']>().toEqualTypeOf<JwtHeader>();
  });

  it('takes VerifyOptions on every verifier, and an index as a map callback', () => {
    expectTypeOf(verifier.verify('t', { allowBoundTokens: true })).resolves.toEqualTypeOf<
      VerifyResult<JwtPayload>
    >();
    expectTypeOf<VerifyOptions['allowBoundTokens']>().toEqualTypeOf<boolean | undefined>();
    // @ts-expect-error -- allowBoundTokens is a boolean
    void verifier.verify('t', { allowBoundTokens: 'yes' });
    // @ts-expect-error -- no such option
    void verifier.verify('t', { allowBound: true });
    const multi = new MultiIssuerVerifier([verifier]);
    expectTypeOf(multi.verify('t', { allowBoundTokens: true })).resolves.toEqualTypeOf<
      VerifyResult<JwtPayload>
    >();
    const both = new JwtOrIntrospectionVerifier({
      issuer: 'https://i',
      audience: null,
      clientId: 'c',
      clientSecret: 's',
    });
    expectTypeOf([''].map(both.verify)).toEqualTypeOf<Promise<VerifyResult<JwtPayload>>[]>();
    const own: TokenVerifier = { verify: (token, options) => verifier.verify(token, options) };
    void own;
  });

  it('types the registered claims and leaves the others unknown', () => {
    expectTypeOf<JwtPayload['iss']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<JwtPayload['exp']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<JwtPayload['aud']>().toEqualTypeOf<string | string[] | undefined>();
    expectTypeOf<JwtPayload['tenant']>().toEqualTypeOf<unknown>();
  });

  it('takes the claims type as a generic argument', async () => {
    const { payload } = await verifier.verify<{ sub: string; roles: string[] }>('t');
    expectTypeOf(payload.sub).toEqualTypeOf<string>();
    expectTypeOf(payload.roles).toEqualTypeOf<string[]>();
    expectTypeOf(payload).toEqualTypeOf<{ sub: string; roles: string[] }>();
  });

  it('takes JwtPayload extended with custom claims, keeping the registered ones typed', async () => {
    const { payload } = await verifier.verify<JwtPayload & { tenant: string }>('t');
    expectTypeOf(payload.tenant).toEqualTypeOf<string>();
    expectTypeOf(payload.exp).toEqualTypeOf<number | undefined>();
  });

  it('refuses a claims type that contradicts a registered claim', () => {
    // @ts-expect-error: `exp` is a NumericDate, never a string
    void verifier.verify<{ exp: string }>('t');
  });

  it('types verifyAuthorizationHeader like verify, taking the header value', async () => {
    expectTypeOf(verifier.verifyAuthorizationHeader)
      .parameter(0)
      .toEqualTypeOf<string | readonly string[] | null | undefined>();
    const { payload } = await verifier.verifyAuthorizationHeader<{ sub: string }>('Bearer t');
    expectTypeOf(payload.sub).toEqualTypeOf<string>();
  });

  it('types MultiIssuerVerifier.verify like JwtVerifier.verify', async () => {
    const multi = new MultiIssuerVerifier([
      verifier,
      { issuer: 'https://other.example.com', audience: null },
    ]);
    const { payload } = await multi.verify<{ sub: string }>('t');
    expectTypeOf(payload.sub).toEqualTypeOf<string>();
  });
});

describe('JwtVerifier options', () => {
  it('needs an audience: leaving it out does not compile', () => {
    // @ts-expect-error: audience is required
    void new JwtVerifier({ issuer: 'https://issuer.example.com' });
    // @ts-expect-error: audience is required
    const options: JwtVerifierOptions = { issuer: 'https://issuer.example.com' };
    void options;
  });

  it('skips the audience check only with an explicit null', () => {
    expectTypeOf<JwtVerifierOptions['audience']>().toEqualTypeOf<string | readonly string[] | null>();
    void new JwtVerifier({ issuer: 'https://issuer.example.com', audience: null });
    void new JwtVerifier({ issuer: 'https://issuer.example.com', audience: ['a', 'b'] as const });
    // @ts-expect-error: undefined is not an explicit skip
    void new JwtVerifier({ issuer: 'https://issuer.example.com', audience: undefined });
  });

  it('needs an issuer', () => {
    // @ts-expect-error: issuer is required
    void new JwtVerifier({ audience: 'https://api.example.com' });
  });

  it('accepts only known algorithms and discovery modes', () => {
    void new JwtVerifier({ issuer: 'i', audience: 'a', algorithms: ['RS256', 'ES256'], discovery: 'oidc' });
    // @ts-expect-error: HMAC is never accepted from a JWKS
    void new JwtVerifier({ issuer: 'i', audience: 'a', algorithms: ['HS256'] });
    // @ts-expect-error: not a discovery mode
    void new JwtVerifier({ issuer: 'i', audience: 'a', discovery: 'openid' });
  });
});

describe('JwtVerifier as a Disposable', () => {
  it('takes `using` where the lib declares Symbol.dispose (here @types/node)', () => {
    expectTypeOf(verifier).toExtend<Disposable>();
    expectTypeOf(verifier[Symbol.dispose]).toEqualTypeOf<() => void>();
    function scoped(): void {
      using scopedVerifier = new JwtVerifier({ issuer: 'https://i.example.com', audience: 'a' });
      void scopedVerifier.issuer;
    }
    void scoped;
  });
});

describe('detached methods', () => {
  it('keep their types when passed as callbacks', () => {
    const tokens: string[] = [];
    expectTypeOf(tokens.map(verifier.verify)).toEqualTypeOf<Promise<VerifyResult<JwtPayload>>[]>();
    const { verifyAuthorizationHeader, warmup, close } = verifier;
    expectTypeOf(verifyAuthorizationHeader).returns.resolves.toEqualTypeOf<VerifyResult<JwtPayload>>();
    expectTypeOf(warmup).toEqualTypeOf<() => Promise<void>>();
    expectTypeOf(close).toEqualTypeOf<() => void>();
  });
});

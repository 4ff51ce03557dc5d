import {
  InsufficientScopeError,
  InvalidTokenError,
  ServerError,
} from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { describe, expect, it } from 'vitest';
import { JwtVerifier, JwtVerifyError, protectedResource } from '../../src/index.js';
import { mcpTokenVerifier } from '../../src/mcp/index.js';
import { useTestIssuer } from '../support/fixture.js';

const RESOURCE = 'https://mcp.example.test/mcp';
const issuer = useTestIssuer({ audience: RESOURCE });

const resource = () => protectedResource({ resource: RESOURCE, issuer: issuer.issuer, fetch: issuer.fetch });

async function rejection(promise: Promise<unknown>): Promise<Error & { cause?: unknown }> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('mcpTokenVerifier(verifier).verifyAccessToken(token)', () => {
  it('gives the SDK its AuthInfo: token, clientId, scopes, expiresAt, resource, extra', async () => {
    const token = await issuer.sign({
      sub: 'alice',
      client_id: 'desktop-app',
      scope: 'tools:read tools:call',
    });
    const info = await mcpTokenVerifier(resource()).verifyAccessToken(token);
    const { payload } = await resource().verify(token);
    expect(info).toEqual({
      token,
      clientId: 'desktop-app',
      scopes: ['tools:read', 'tools:call'],
      expiresAt: payload.exp,
      resource: new URL(RESOURCE),
      extra: { payload, header: expect.objectContaining({ alg: 'RS256' }) },
    });
  });

  it('takes clientId from azp when there is no client_id, scopes from an scp array', async () => {
    const token = await issuer.sign({ azp: 'spa', scp: ['a', 'b'] });
    const info = await mcpTokenVerifier(resource()).verifyAccessToken(token);
    expect(info).toMatchObject({ clientId: 'spa', scopes: ['a', 'b'] });
    const none = await mcpTokenVerifier(resource()).verifyAccessToken(await issuer.sign({}));
    expect(none).toMatchObject({ clientId: '', scopes: [] });
  });

  it('with a plain JwtVerifier: resource from an aud that is one URL, else none', async () => {
    const verifier = new JwtVerifier({
      issuer: issuer.issuer,
      audience: [RESOURCE, 'api'],
      fetch: issuer.fetch,
    });
    const one = await mcpTokenVerifier(verifier).verifyAccessToken(await issuer.sign({ aud: [RESOURCE] }));
    expect(one.resource?.href).toBe(RESOURCE);
    const two = await mcpTokenVerifier(verifier).verifyAccessToken(
      await issuer.sign({ aud: [RESOURCE, 'api'] }),
    );
    expect(two.resource).toBeUndefined();
    const name = await mcpTokenVerifier(verifier).verifyAccessToken(await issuer.sign({ aud: 'api' }));
    expect(name.resource).toBeUndefined();
  });

  it('refuses a bad token with the SDK’s InvalidTokenError, the verifier’s error as its cause', async () => {
    const other = await issuer.sign({ aud: 'https://other.example/mcp' });
    const error = await rejection(mcpTokenVerifier(resource()).verifyAccessToken(other));
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect((error.cause as JwtVerifyError).code).toBe('ERR_AUDIENCE_MISMATCH');
    // Cleaned as wwwAuthenticate() cleans it: the SDK writes it into error_description as it is.
    expect(error.message).toMatch(/expected audience 'https:\/\/mcp\.example\.test\/mcp'/);
    const garbage = await rejection(mcpTokenVerifier(resource()).verifyAccessToken('garbage'));
    expect((garbage.cause as JwtVerifyError).code).toBe('ERR_TOKEN_MALFORMED');
    expect(garbage).toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a DPoP-bound token (cnf.jkt): the SDK sends Bearer tokens, which prove no key', async () => {
    const bound = await issuer.sign({}, { dpopJkt: 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' });
    const error = await rejection(mcpTokenVerifier(resource()).verifyAccessToken(bound));
    expect((error.cause as JwtVerifyError).code).toBe('ERR_DPOP_BINDING');
    expect(error).toBeInstanceOf(InvalidTokenError);
  });

  it('refuses a certificate-bound token (cnf x5t#S256): the SDK shows no TLS client certificate', async () => {
    const bound = await issuer.sign({ cnf: { 'x5t#S256': 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' } });
    const error = await rejection(mcpTokenVerifier(resource()).verifyAccessToken(bound));
    expect((error.cause as JwtVerifyError).code).toBe('ERR_CERTIFICATE_BINDING');
    expect(error).toBeInstanceOf(InvalidTokenError);
    expect(error.message).toMatch(/^[ !#-[\]-~]+$/);
    // A verifier of your own that takes no options does not let it through either.
    const jwt = resource();
    const own = await rejection(
      mcpTokenVerifier({ verify: (t) => jwt.verify(t, { allowBoundTokens: true }) }).verifyAccessToken(bound),
    );
    expect((own.cause as JwtVerifyError).code).toBe('ERR_CERTIFICATE_BINDING');
  });

  it('refuses missing requiredScopes with InsufficientScopeError', async () => {
    const strict = protectedResource({
      resource: RESOURCE,
      issuer: issuer.issuer,
      fetch: issuer.fetch,
      requiredScopes: 'tools:call',
    });
    const error = await rejection(
      mcpTokenVerifier(strict).verifyAccessToken(await issuer.sign({ scope: 'tools:read' })),
    );
    expect((error.cause as JwtVerifyError).code).toBe('ERR_INSUFFICIENT_SCOPE');
    expect(error).toBeInstanceOf(InsufficientScopeError);
  });

  it('turns an outage into ServerError without the issuer’s URL, and anything else too', async () => {
    issuer.failNext('jwks', { status: 503 });
    const error = await rejection(mcpTokenVerifier(resource()).verifyAccessToken(await issuer.sign()));
    expect((error.cause as JwtVerifyError).code).toBe('ERR_ISSUER_UNAVAILABLE');
    expect(error).toBeInstanceOf(ServerError);
    expect(error.message).not.toContain(issuer.issuer);
    const broken = mcpTokenVerifier({ verify: () => Promise.reject(new RangeError('bug')) });
    const bug = await rejection(broken.verifyAccessToken('t'));
    expect(bug).toBeInstanceOf(ServerError);
    expect(bug.cause).toBeInstanceOf(RangeError);
  });

  it('refuses something that is not a verifier at once, with a coded TypeError', () => {
    expect(() => mcpTokenVerifier({} as never)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

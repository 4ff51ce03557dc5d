import { setupServer } from 'msw/node';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { JwtVerifier } from '../../src/index.js';
import { createTestIssuer } from '../../src/testing/index.js';

const issuer = await createTestIssuer({ audience: 'https://api.test' });
const server = setupServer(...issuer.handlers);
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

it('verifies tokens through a key rotation and an issuer outage', async () => {
  const verifier = new JwtVerifier({ issuer: issuer.issuer, audience: 'https://api.test', cache: { cooldownMs: 0 } });
  expect((await verifier.verify(await issuer.sign({ sub: 'user-1' }))).payload.sub).toBe('user-1');
  await issuer.rotateKeys();
  await verifier.verify(await issuer.sign()); // signed with the new key: one JWKS refetch
  issuer.failNext('jwks', { times: Infinity }); // the issuer goes down
  await verifier.verify(await issuer.sign()); // known key: still verifies
  await expect(verifier.verify(await issuer.sign({}, { unpublishedKey: true }))).rejects.toMatchObject({ code: 'ERR_ISSUER_UNAVAILABLE' });
});

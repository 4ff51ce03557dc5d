// Token exchange (RFC 8693) at the stub issuer with openid-client 6 as the client, through msw
// and over real HTTP: targets, narrowing, actors, token types, the §2.2.2 errors.
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { describe, expect, it } from 'vitest';
import { createTestIssuer, type TestIssuer } from '../../src/testing/index.js';
import { clientKey, configure, useIssuerPair, verifyIssued } from './openid-client.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN = 'urn:ietf:params:oauth:token-type:access_token';
const ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const API = 'https://api.test';
const ORDERS = 'https://orders.test';

const gateway = await clientKey('ES256', 'gateway-1');
const issuers = useIssuerPair({
  audience: [API, ORDERS],
  clients: [
    { clientId: 'gateway', jwks: { keys: [gateway.publicJwk] } },
    { clientId: 'narrow', clientSecret: 'narrow-secret', tokenExchange: { audiences: [ORDERS] } },
    { clientId: 'none', clientSecret: 'none-secret', tokenExchange: { audiences: [] } },
    { clientId: 'spa' },
  ],
});

/** A user's access token as the gateway received it. */
const userToken = (issuer: TestIssuer, claims: Record<string, unknown> = {}) =>
  issuer.sign(
    { sub: 'alice', scope: 'read write', client_id: 'spa', aud: API, ...claims },
    { header: { typ: 'at+jwt' } },
  );

async function exchangeError(promise: Promise<unknown>): Promise<{ error: string; status: number }> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(client.ResponseBodyError);
  const { error: code, status } = error as client.ResponseBodyError;
  return { error: code, status };
}

describe.each(issuers)('token exchange %s', (_how, issuer) => {
  const gatewayConfig = () =>
    configure(issuer, 'gateway', client.PrivateKeyJwt({ key: gateway.privateKey, kid: gateway.kid }));

  it('exchanges a user’s access token for a downstream API, narrower, with issued_token_type', async () => {
    const config = await gatewayConfig();
    const answer = await client.genericGrantRequest(config, EXCHANGE, {
      subject_token: await userToken(issuer),
      subject_token_type: ACCESS_TOKEN,
      audience: ORDERS,
      scope: 'read',
    });
    expect(answer).toMatchObject({ issued_token_type: ACCESS_TOKEN, token_type: 'bearer', scope: 'read' });
    expect(answer.refresh_token).toBeUndefined();
    const payload = await verifyIssued(issuer, answer.access_token, ORDERS);
    expect(payload).toMatchObject({ sub: 'alice', aud: ORDERS, scope: 'read', client_id: 'gateway' });
    expect(payload.act).toBeUndefined();
  });

  it('keeps the subject’s audience and scope without a target, and takes a resource (RFC 8707) as one', async () => {
    const config = await gatewayConfig();
    const subject_token = await userToken(issuer);
    const same = await client.genericGrantRequest(config, EXCHANGE, {
      subject_token,
      subject_token_type: ACCESS_TOKEN,
    });
    expect(await verifyIssued(issuer, same.access_token, API)).toMatchObject({
      aud: API,
      scope: 'read write',
    });
    const byResource = await client.genericGrantRequest(config, EXCHANGE, {
      subject_token,
      subject_token_type: ACCESS_TOKEN,
      resource: ORDERS,
      requested_token_type: JWT,
    });
    expect(byResource.issued_token_type).toBe(JWT);
    expect(decodeJwt(byResource.access_token).aud).toBe(ORDERS);
  });

  it('puts the actor in act, over the subject’s own act (delegation chains nest)', async () => {
    const config = await gatewayConfig();
    const actor_token = await issuer.sign({ sub: 'gateway-service' }, { header: { typ: 'at+jwt' } });
    const first = await client.genericGrantRequest(config, EXCHANGE, {
      subject_token: await userToken(issuer),
      subject_token_type: ACCESS_TOKEN,
      actor_token,
      actor_token_type: ACCESS_TOKEN,
      audience: ORDERS,
    });
    expect(decodeJwt(first.access_token).act).toEqual({ sub: 'gateway-service' });
    const second = await client.genericGrantRequest(config, EXCHANGE, {
      subject_token: first.access_token,
      subject_token_type: ACCESS_TOKEN,
      actor_token: await issuer.sign({ sub: 'orders-service' }, { header: { typ: 'at+jwt' } }),
      actor_token_type: JWT,
      audience: API,
    });
    const payload = await verifyIssued(issuer, second.access_token, API);
    expect(payload.act).toEqual({ sub: 'orders-service', act: { sub: 'gateway-service' } });
  });

  it('exchanges an ID token it issued, but not one passed off as an access token', async () => {
    const config = await gatewayConfig();
    const idToken = await issuer.sign({ sub: 'alice', aud: 'spa' });
    const answer = await client.genericGrantRequest(config, EXCHANGE, {
      subject_token: idToken,
      subject_token_type: ID_TOKEN,
      audience: API,
    });
    expect(await verifyIssued(issuer, answer.access_token, API)).toMatchObject({ sub: 'alice' });
    expect(
      await exchangeError(
        client.genericGrantRequest(config, EXCHANGE, {
          subject_token: idToken,
          subject_token_type: ACCESS_TOKEN,
        }),
      ),
    ).toEqual({ error: 'invalid_request', status: 400 });
  });

  it('binds the new token to the DPoP key of the exchange request', async () => {
    const config = await gatewayConfig();
    const DPoP = client.getDPoPHandle(config, await client.randomDPoPKeyPair());
    const answer = await client.genericGrantRequest(
      config,
      EXCHANGE,
      { subject_token: await userToken(issuer), subject_token_type: ACCESS_TOKEN, audience: ORDERS },
      { DPoP },
    );
    expect(answer.token_type).toBe('dpop');
    expect(decodeJwt(answer.access_token).cnf).toEqual({ jkt: expect.any(String) });
  });

  it.each([
    ['an unknown audience', { audience: 'https://evil.test' }, 'invalid_target'],
    ['a wider scope', { scope: 'read admin' }, 'invalid_scope'],
    ['a forged subject token', { subject_token: 'eyJhbGciOiJub25lIn0.e30.' }, 'invalid_request'],
    [
      'an unsupported subject_token_type',
      { subject_token_type: 'urn:ietf:params:oauth:token-type:saml2' },
      'invalid_request',
    ],
    ['an unsupported requested_token_type', { requested_token_type: ID_TOKEN }, 'invalid_request'],
    ['an actor_token without its type', { actor_token: 'x' }, 'invalid_request'],
  ])('refuses %s with %s (RFC 8693 §2.2.2)', async (_name, fields, error) => {
    const config = await gatewayConfig();
    const parameters = {
      subject_token: await userToken(issuer),
      subject_token_type: ACCESS_TOKEN,
      ...fields,
    };
    expect(await exchangeError(client.genericGrantRequest(config, EXCHANGE, parameters))).toEqual({
      error,
      status: 400,
    });
  });

  it('refuses an expired subject token and an actor the subject’s may_act does not name', async () => {
    const config = await gatewayConfig();
    const expired = await issuer.sign(
      { sub: 'alice', scope: 'read' },
      { header: { typ: 'at+jwt' }, expiresIn: -60 },
    );
    expect(
      await exchangeError(
        client.genericGrantRequest(config, EXCHANGE, {
          subject_token: expired,
          subject_token_type: ACCESS_TOKEN,
        }),
      ),
    ).toEqual({ error: 'invalid_request', status: 400 });
    expect(
      await exchangeError(
        client.genericGrantRequest(config, EXCHANGE, {
          subject_token: await userToken(issuer, { may_act: { sub: 'trusted' } }),
          subject_token_type: ACCESS_TOKEN,
          actor_token: await issuer.sign({ sub: 'intruder' }, { header: { typ: 'at+jwt' } }),
          actor_token_type: ACCESS_TOKEN,
        }),
      ),
    ).toEqual({ error: 'invalid_request', status: 400 });
  });

  it('holds a client to its tokenExchange audiences: others are invalid_target, none is unauthorized_client', async () => {
    const narrow = await configure(issuer, 'narrow', client.ClientSecretPost('narrow-secret'));
    const subject = { subject_token: await userToken(issuer), subject_token_type: ACCESS_TOKEN };
    const ok = await client.genericGrantRequest(narrow, EXCHANGE, { ...subject, audience: ORDERS });
    expect(decodeJwt(ok.access_token).aud).toBe(ORDERS);
    expect(
      await exchangeError(client.genericGrantRequest(narrow, EXCHANGE, { ...subject, audience: API })),
    ).toEqual({ error: 'invalid_target', status: 400 });
    const none = await configure(issuer, 'none', client.ClientSecretPost('none-secret'));
    expect(
      await exchangeError(client.genericGrantRequest(none, EXCHANGE, { ...subject, audience: ORDERS })),
    ).toEqual({ error: 'unauthorized_client', status: 400 });
  });
});

describe('token exchange targets', () => {
  it('knows the issuer’s protected resources as targets', async () => {
    const issuer = await createTestIssuer();
    const subject_token = await issuer.sign({ sub: 'alice', scope: 'tools' }, { header: { typ: 'at+jwt' } });
    const form = (audience: string) =>
      issuer.fetch(issuer.metadata.token_endpoint!, {
        method: 'POST',
        body: new URLSearchParams({
          grant_type: EXCHANGE,
          client_id: 'mcp-server',
          subject_token,
          subject_token_type: ACCESS_TOKEN,
          audience,
        }),
      });
    const mcp = 'https://mcp.test/mcp';
    expect((await (await form(mcp)).json()).error).toBe('invalid_target');
    const resource = issuer.protectedResource({ resource: mcp, fetch: issuer.fetch });
    const answer = await (await form(mcp)).json();
    expect((await resource.verify(answer.access_token)).payload.sub).toBe('alice');
  });
});

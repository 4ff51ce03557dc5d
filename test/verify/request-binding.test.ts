// verifyRequest() is the one path for sender-constrained tokens: certificate binding (RFC
// 8705) is checked there, for JwtVerifier, IntrospectionVerifier, JwtOrIntrospectionVerifier,
// MultiIssuerVerifier and authenticate() alike (a verifier with only verify() too), and an
// introspected answer with cnf.jkt gets the same DPoP treatment as a JWT (RFC 9449).
// Certificates here are DER-shaped bytes: real mutual TLS is in certificate-binding.test.ts.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  IntrospectionVerifier,
  JwtOrIntrospectionVerifier,
  JwtVerifier,
  MultiIssuerVerifier,
  type TokenVerifier,
  authenticate,
  certificateThumbprint,
} from '../../src/index.js';
import { useMswIssuer } from '../support/msw.js';
import { API, type DpopClient, dpopClient, fetchRequest, proofFor } from '../support/dpop.js';
import { expectRejection } from '../support/rejections.js';

const CLIENT = { clientId: 'orders-api', clientSecret: 'orders-secret' };
const { issuer } = useMswIssuer({ issuer: 'https://issuer.test', audience: API, clients: [CLIENT] });

// A DER certificate starts with a SEQUENCE (0x30); the binding only hashes the bytes.
const certA = Uint8Array.from([0x30, 0x03, 0x01, 0x02, 0x0a]);
const certB = Uint8Array.from([0x30, 0x03, 0x01, 0x02, 0x0b]);
let thumbprintA: string;
let client: DpopClient;
beforeAll(async () => {
  thumbprintA = await certificateThumbprint(certA);
  client = await dpopClient();
});

/** The request's certificate as a TLS-terminating proxy would forward it (here: by a test header). */
const presented = (certificate?: Uint8Array) => () => certificate;

const jwtVerifier = (options: { dpop?: object } = {}) =>
  new JwtVerifier({ issuer: issuer.issuer, audience: API, ...options });
const introspectionVerifier = (options: { dpop?: object } = {}) =>
  new IntrospectionVerifier({ issuer: issuer.issuer, audience: API, ...CLIENT, ...options });

describe('verifyRequest checks certificate binding (RFC 8705)', () => {
  it('JwtVerifier: accepts the matching certificate, refuses another or none with ERR_CERTIFICATE_BINDING', async () => {
    const token = await issuer.sign({ sub: 'alice', cnf: { 'x5t#S256': thumbprintA } });
    const request = () => fetchRequest(`Bearer ${token}`);
    const verifier = jwtVerifier();
    const { payload } = await verifier.verifyRequest(request(), { clientCertificate: presented(certA) });
    expect(payload.sub).toBe('alice');
    await expectRejection(
      verifier.verifyRequest(request(), { clientCertificate: presented(certB) }),
      'ERR_CERTIFICATE_BINDING',
    );
    // A Fetch Request has no TLS socket: without the option there is no certificate.
    await expectRejection(verifier.verifyRequest(request()), 'ERR_CERTIFICATE_BINDING');
  });

  it('reads the certificate only for a bound token', async () => {
    let reads = 0;
    const source = () => {
      reads++;
      return certA;
    };
    const verifier = jwtVerifier();
    await verifier.verifyRequest(fetchRequest(`Bearer ${await issuer.sign({ sub: 'bob' })}`), {
      clientCertificate: source,
    });
    expect(reads).toBe(0);
    const bound = await issuer.sign({ cnf: { 'x5t#S256': thumbprintA } });
    await verifier.verifyRequest(fetchRequest(`Bearer ${bound}`), { clientCertificate: source });
    expect(reads).toBe(1);
  });

  it('checks a DPoP request whose token is bound to a certificate too', async () => {
    const token = await issuer.sign({ cnf: { 'x5t#S256': thumbprintA } }, { dpopJkt: client.jkt });
    const verifier = jwtVerifier({ dpop: {} });
    const request = async () => fetchRequest(`DPoP ${token}`, await proofFor(client, token));
    const result = await verifier.verifyRequest(await request(), { clientCertificate: presented(certA) });
    expect(result.dpop?.jkt).toBe(client.jkt);
    await expectRejection(
      verifier.verifyRequest(await request(), { clientCertificate: presented(certB) }),
      'ERR_CERTIFICATE_BINDING',
    );
  });

  it('IntrospectionVerifier, JwtOrIntrospectionVerifier and MultiIssuerVerifier check a bound answer', async () => {
    const token = issuer.issueOpaqueToken({ sub: 'opaque', cnf: { 'x5t#S256': thumbprintA } });
    const either = new JwtOrIntrospectionVerifier({ issuer: issuer.issuer, audience: API, ...CLIENT });
    for (const verifier of [introspectionVerifier(), either, new MultiIssuerVerifier([either])]) {
      const request = fetchRequest(`Bearer ${token}`);
      expect(
        (await verifier.verifyRequest(request, { clientCertificate: presented(certA) })).payload.sub,
      ).toBe('opaque');
      await expectRejection(
        verifier.verifyRequest(fetchRequest(`Bearer ${token}`), { clientCertificate: presented(certB) }),
        'ERR_CERTIFICATE_BINDING',
      );
    }
  });

  it('refuses a clientCertificate option that is not a function, as a rejection', async () => {
    await expect(
      jwtVerifier().verifyRequest(fetchRequest('Bearer x'), { clientCertificate: 'pem' as never }),
    ).rejects.toMatchObject({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('authenticate() goes through the same check', () => {
  it('refuses a bound token without its certificate, also for a verifier with only verify()', async () => {
    const token = await issuer.sign({ cnf: { 'x5t#S256': thumbprintA } });
    const jwt = jwtVerifier();
    // It passes the options on: authenticate() asks for bound tokens, and checks them.
    const verifyOnly: TokenVerifier = { verify: (t, options) => jwt.verify(t, options) };
    for (const verifier of [jwt, verifyOnly]) {
      const refused = await authenticate(verifier, fetchRequest(`Bearer ${token}`), {
        clientCertificate: presented(certB),
      });
      expect(refused.ok || refused.body.code).toBe('ERR_CERTIFICATE_BINDING');
      expect(refused.ok || refused.status).toBe(401);
      const accepted = await authenticate(verifier, fetchRequest(`Bearer ${token}`), {
        clientCertificate: presented(certA),
      });
      expect(accepted.ok).toBe(true);
    }
  });

  it('refuses a DPoP-bound token sent as Bearer through a verifier with only verify() (RFC 9449 §7.2)', async () => {
    const token = await issuer.sign({}, { dpopJkt: client.jkt });
    const jwt = jwtVerifier();
    const result = await authenticate({ verify: (t) => jwt.verify(t) }, fetchRequest(`Bearer ${token}`));
    expect(result.ok || result.body.code).toBe('ERR_DPOP_BINDING');
  });
});

describe('an introspected answer with cnf.jkt is DPoP-bound (RFC 9449)', () => {
  it('is accepted with the DPoP scheme and a proof of its key, through verifyRequest and authenticate()', async () => {
    const token = issuer.issueOpaqueToken({ sub: 'opaque', cnf: { jkt: client.jkt } });
    const verifier = introspectionVerifier({ dpop: {} });
    const result = await verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(client, token)));
    expect(result.payload.sub).toBe('opaque');
    expect(result.dpop?.jkt).toBe(client.jkt);
    const authenticated = await authenticate(
      verifier,
      fetchRequest(`DPoP ${token}`, await proofFor(client, token)),
    );
    expect(authenticated.ok).toBe(true);
  });

  it('is refused as Bearer (ERR_DPOP_BINDING), and with a proof of another key', async () => {
    const token = issuer.issueOpaqueToken({ sub: 'opaque', cnf: { jkt: client.jkt } });
    const verifier = introspectionVerifier({ dpop: {} });
    await expectRejection(verifier.verifyRequest(fetchRequest(`Bearer ${token}`)), 'ERR_DPOP_BINDING');
    await expectRejection(verifier.verifyAuthorizationHeader(`Bearer ${token}`), 'ERR_DPOP_BINDING');
    const other = await dpopClient('EdDSA');
    await expectRejection(
      verifier.verifyRequest(fetchRequest(`DPoP ${token}`, await proofFor(other, token))),
      'ERR_DPOP_BINDING',
    );
  });

  it('lets an unbound opaque token pass as Bearer through a verifier with the dpop option', async () => {
    const token = issuer.issueOpaqueToken({ sub: 'opaque' });
    const verifier = introspectionVerifier({ dpop: {} });
    expect((await verifier.verifyRequest(fetchRequest(`Bearer ${token}`))).dpop).toBeUndefined();
  });
});

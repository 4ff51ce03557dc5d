// Certificate-bound access tokens (RFC 8705) over real mutual TLS on 127.0.0.1: a CA, a
// server and two client certificates made by the openssl CLI at test time; authenticate()
// and the Express adapter compare cnf["x5t#S256"] with the client certificate of the TLS
// socket, or with the one a TLS-terminating proxy forwards (RFC 9440 Client-Cert, PEM).
import { execFile } from 'node:child_process';
import { X509Certificate, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { type IncomingMessage, type Server, createServer } from 'node:http';
import { request as httpsRequest, createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthenticateOptions,
  IntrospectionVerifier,
  JwtVerifier,
  type TokenVerifier,
  authenticate,
  certificateThumbprint,
  checkCertificateBinding,
} from '../../src/index.js';
import { bearerAuth } from '../../src/express/index.js';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { expectRejection } from '../support/rejections.js';

const run = promisify(execFile);
const API = 'https://api.test';

interface Pem {
  key: string;
  cert: string;
}

let dir: string;
let ca: string;
let serverPem: Pem;
let clientA: Pem;
let clientB: Pem;
let issuer: TestIssuer;
let verifier: JwtVerifier;
const servers: Server[] = [];

/** A P-256 key and a certificate for `cn` signed by the test CA (with `san`, if given). */
async function issueCertificate(name: string, cn: string, san?: string): Promise<Pem> {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  await run(
    'openssl',
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      key,
      '-out',
      csr,
      '-subj',
      `/CN=${cn}`,
    ]),
  );
  const extensions = join(dir, `${name}.ext`);
  await writeFile(extensions, san ? `subjectAltName=${san}\n` : 'basicConstraints=CA:FALSE\n');
  await run(
    'openssl',
    ['x509', '-req', '-in', csr, '-CA', join(dir, 'ca.crt'), '-CAkey', join(dir, 'ca.key')].concat([
      '-CAcreateserial',
      '-out',
      cert,
      '-days',
      '1',
      '-extfile',
      extensions,
    ]),
  );
  return { key: await readFile(key, 'utf8'), cert: await readFile(cert, 'utf8') };
}

/** The RFC 8705 thumbprint, computed apart from the code under test. */
const thumbprintOf = (pem: string) =>
  createHash('sha256').update(new X509Certificate(pem).raw).digest('base64url');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'mtls-'));
  await run(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'].concat([
      '-keyout',
      join(dir, 'ca.key'),
      '-out',
      join(dir, 'ca.crt'),
      '-subj',
      '/CN=test-ca',
      '-days',
      '1',
    ]),
  );
  ca = await readFile(join(dir, 'ca.crt'), 'utf8');
  serverPem = await issueCertificate('server', '127.0.0.1', 'IP:127.0.0.1');
  clientA = await issueCertificate('client-a', 'client-a');
  clientB = await issueCertificate('client-b', 'client-b');
  issuer = await createTestIssuer({
    listen: true,
    audience: API,
    clients: [{ clientId: 'api', clientSecret: 'api-secret' }],
  });
  verifier = new JwtVerifier({ issuer: issuer.issuer, audience: API });
}, 60_000);

afterAll(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await issuer?.close();
  await rm(dir, { recursive: true, force: true });
});

/** `authenticate()` behind a plain request listener: 200 with the subject, or the rejection. */
function handler(tokens: TokenVerifier, options?: AuthenticateOptions) {
  return async (req: IncomingMessage, res: import('node:http').ServerResponse) => {
    const result = await authenticate(tokens, req, options);
    if (!result.ok) return res.writeHead(result.status, result.headers).end(JSON.stringify(result.body));
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ sub: result.token.payload.sub }));
  };
}

/** A server asking for (not requiring) a client certificate; the chain is not checked here. */
async function startMtls(listener: Parameters<typeof createHttpsServer>[1]): Promise<number> {
  const server = createHttpsServer(
    { ...serverPem, ca, requestCert: true, rejectUnauthorized: false },
    listener,
  );
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

interface Answer {
  status: number;
  body: { code?: string; sub?: string };
  wwwAuthenticate: string | undefined;
}

/** GET / over mutual TLS, presenting `client` (or no certificate), on a fresh connection. */
function getOverTls(port: number, token: string, client?: Pem): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        ca,
        agent: false,
        ...client,
        headers: { authorization: `Bearer ${token}` },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            body: JSON.parse(text),
            wwwAuthenticate: res.headers['www-authenticate'],
          }),
        );
      },
    );
    req.on('error', reject).end();
  });
}

const boundTo = (pem: Pem, claims: Record<string, unknown> = {}) =>
  issuer.sign({ sub: 'bound-client', cnf: { 'x5t#S256': thumbprintOf(pem.cert) }, ...claims });

describe('certificate-bound tokens over mutual TLS (authenticate on node:https)', () => {
  let port: number;
  beforeAll(async () => {
    port = await startMtls(handler(verifier, { realm: 'api' }));
  });

  it('accepts a token bound to the certificate the client presented', async () => {
    expect(await getOverTls(port, await boundTo(clientA), clientA)).toMatchObject({
      status: 200,
      body: { sub: 'bound-client' },
    });
  });

  it('refuses it from a client with another certificate, or none, with 401 ERR_CERTIFICATE_BINDING', async () => {
    const token = await boundTo(clientA);
    for (const client of [clientB, undefined]) {
      const answer = await getOverTls(port, token, client);
      expect(answer.body.code).toBe('ERR_CERTIFICATE_BINDING');
      expect(answer.status).toBe(401);
      expect(answer.wwwAuthenticate).toMatch(
        /^Bearer realm="api", error="invalid_token", error_description=".*RFC 8705/,
      );
    }
  });

  it('accepts an unbound token with or without a client certificate', async () => {
    const token = await issuer.sign({ sub: 'plain' });
    expect((await getOverTls(port, token, clientA)).status).toBe(200);
    expect((await getOverTls(port, token)).status).toBe(200);
  });

  it('refuses a malformed confirmation with ERR_CLAIM_INVALID', async () => {
    const token = await issuer.sign({ cnf: { 'x5t#S256': 'not-a-thumbprint' } });
    expect((await getOverTls(port, token, clientA)).body.code).toBe('ERR_CLAIM_INVALID');
  });

  it('checks a binding that came from introspection (cnf in the answer)', async () => {
    const introspecting = new IntrospectionVerifier({
      issuer: issuer.issuer,
      audience: API,
      clientId: 'api',
      clientSecret: 'api-secret',
    });
    const introspectedPort = await startMtls(handler(introspecting));
    const token = issuer.issueOpaqueToken({ sub: 'opaque', cnf: { 'x5t#S256': thumbprintOf(clientA.cert) } });
    expect((await getOverTls(introspectedPort, token, clientA)).status).toBe(200);
    expect((await getOverTls(introspectedPort, token, clientB)).body.code).toBe('ERR_CERTIFICATE_BINDING');
  });
});

describe('certificate-bound tokens through the Express adapter over mutual TLS', () => {
  it('reads the certificate from req.socket', async () => {
    const app = express();
    app.use(bearerAuth(verifier));
    app.get('/', (req, res) => {
      res.json({ sub: req.auth!.payload.sub });
    });
    const port = await startMtls(app);
    const token = await boundTo(clientB);
    expect((await getOverTls(port, token, clientB)).status).toBe(200);
    expect((await getOverTls(port, token, clientA)).body.code).toBe('ERR_CERTIFICATE_BINDING');
  });

  it('refuses a clientCertificate option that is not a function at set-up', () => {
    expect(() => bearerAuth(verifier, { clientCertificate: 'client-cert' as never })).toThrow(
      expect.objectContaining({ name: 'TypeError', code: 'ERR_INVALID_ARGUMENT' }),
    );
  });
});

describe('behind a TLS-terminating proxy: the clientCertificate option', () => {
  let origin: string;
  beforeAll(async () => {
    // What the proxy forwards: RFC 9440 Client-Cert, or (AWS ALB, nginx) URL-encoded PEM.
    const fromProxy = (request: unknown) => {
      const headers = (request as IncomingMessage).headers;
      return (
        (headers['client-cert'] as string | undefined) ?? (headers['x-client-cert-pem'] as string | undefined)
      );
    };
    const server = createServer(handler(verifier, { clientCertificate: fromProxy }));
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  const forwarded = async (token: string, headers: Record<string, string>) => {
    const response = await fetch(origin, { headers: { authorization: `Bearer ${token}`, ...headers } });
    return { status: response.status, body: (await response.json()) as { code?: string } };
  };
  const rfc9440 = (pem: Pem) => `:${new X509Certificate(pem.cert).raw.toString('base64')}:`;

  it('accepts the certificate the proxy forwards as an RFC 9440 Client-Cert or URL-encoded PEM', async () => {
    const token = await boundTo(clientA);
    expect((await forwarded(token, { 'client-cert': rfc9440(clientA) })).status).toBe(200);
    expect((await forwarded(token, { 'x-client-cert-pem': encodeURIComponent(clientA.cert) })).status).toBe(
      200,
    );
  });

  it('refuses another forwarded certificate, none, or one that cannot be read', async () => {
    const token = await boundTo(clientA);
    for (const headers of <Record<string, string>[]>[
      { 'client-cert': rfc9440(clientB) },
      {},
      { 'client-cert': ':bm90IGEgY2VydA==:' },
    ]) {
      const answer = await forwarded(token, headers);
      expect(answer.body.code).toBe('ERR_CERTIFICATE_BINDING');
      expect(answer.status).toBe(401);
    }
  });
});

describe('certificateThumbprint and checkCertificateBinding', () => {
  it('gives the base64url SHA-256 of the DER certificate, from DER, PEM, RFC 9440 or URL-encoded PEM', async () => {
    const expected = thumbprintOf(clientA.cert);
    const der = new X509Certificate(clientA.cert).raw;
    for (const form of [
      new Uint8Array(der),
      clientA.cert,
      `:${der.toString('base64')}:`,
      encodeURIComponent(clientA.cert),
    ]) {
      expect(await certificateThumbprint(form)).toBe(expected);
    }
  });

  it('rejects with ERR_CERTIFICATE_BINDING, and lets an unbound payload pass', async () => {
    const bound = { cnf: { 'x5t#S256': thumbprintOf(clientA.cert) } };
    await expect(checkCertificateBinding(bound, clientA.cert)).resolves.toBeUndefined();
    await expectRejection(checkCertificateBinding(bound, clientB.cert), 'ERR_CERTIFICATE_BINDING');
    await expectRejection(checkCertificateBinding(bound, undefined), 'ERR_CERTIFICATE_BINDING');
    await expectRejection(checkCertificateBinding(bound, 'garbage'), 'ERR_CERTIFICATE_BINDING');
    await expect(checkCertificateBinding({ cnf: { jkt: 'a-dpop-key' } }, undefined)).resolves.toBeUndefined();
    await expect(checkCertificateBinding({}, undefined)).resolves.toBeUndefined();
    await expectRejection(checkCertificateBinding({ cnf: 'x' }, clientA.cert), 'ERR_CLAIM_INVALID');
  });
});

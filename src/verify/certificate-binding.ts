/** Certificate-bound tokens (RFC 8705 §3): `cnf["x5t#S256"]` against the TLS client certificate. */
import { JwtVerifyError, describeValue } from '../errors.js';
import { sha256Base64Url } from '../token/signature/index.js';
import type { JwtPayload } from '../token/parse.js';
import { socketCertificate } from '../request/http-request.js';

/**
 * A TLS client certificate: its DER bytes (Node's `getPeerCertificate().raw`), or the text a
 * TLS-terminating proxy forwards: PEM (URL-encoded too, as nginx's `$ssl_client_escaped_cert`
 * and AWS ALB send it), an RFC 9440 `Client-Cert` byte sequence (`:base64:`), or base64 DER.
 */
export type ClientCertificate = Uint8Array | string;

function bindingError(message: string): JwtVerifyError {
  return new JwtVerifyError('ERR_CERTIFICATE_BINDING', message);
}

/**
 * The `cnf["x5t#S256"]` a token is bound to (RFC 8705 §3.1), or `undefined` for an unbound
 * token. A confirmation that is not a base64url SHA-256 is `ERR_CLAIM_INVALID`.
 */
export function certificateBinding(payload: JwtPayload): string | undefined {
  const { cnf } = payload;
  if (cnf === undefined) return undefined;
  const thumbprint =
    typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : cnf;
  if (thumbprint === undefined) return undefined;
  if (typeof thumbprint !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(thumbprint)) {
    throw new JwtVerifyError(
      'ERR_CLAIM_INVALID',
      `the "cnf" claim must be an object whose "x5t#S256" is a base64url SHA-256 thumbprint, found ${describeValue(thumbprint)}`,
    );
  }
  return thumbprint;
}

/** The DER bytes of a certificate given as bytes or text; `undefined` when it cannot be read. */
function certificateDer(certificate: ClientCertificate): Uint8Array | undefined {
  if (certificate instanceof Uint8Array) return certificate;
  try {
    let text = certificate.trim();
    if (text.includes('%')) text = decodeURIComponent(text);
    const pem = /-----BEGIN CERTIFICATE-----([^-]*)-----END CERTIFICATE-----/.exec(text);
    const base64 = (pem ? pem[1]! : text.replace(/^:(.*):$/, '$1')).replace(/\s+/g, '');
    const binary = atob(base64.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(binary, (char) => char.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/**
 * The RFC 8705 §3.1 thumbprint of a certificate: the base64url SHA-256 of its DER bytes,
 * what a certificate-bound token carries as `cnf["x5t#S256"]`.
 *
 * @example
 * const thumbprint = await certificateThumbprint(tlsSocket.getPeerCertificate().raw);
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3.1
 */
export async function certificateThumbprint(certificate: ClientCertificate): Promise<string> {
  const der = certificateDer(certificate);
  // A DER certificate is a SEQUENCE (0x30).
  if (der === undefined || der[0] !== 0x30) {
    throw bindingError('the client certificate could not be read: neither DER, PEM nor base64 DER');
  }
  return sha256Base64Url(der);
}

/**
 * Refuses a certificate-bound token (`cnf["x5t#S256"]`, RFC 8705 §3) unless `certificate`
 * is the TLS client certificate it is bound to; an unbound token passes, with or without a
 * certificate. Rejects with `ERR_CERTIFICATE_BINDING` (401 `invalid_token`). The
 * certificate's chain is not this check's business: the TLS handshake proved the client
 * holds its private key, and the token names exactly this certificate.
 *
 * @example
 * const { payload } = await verifier.verify(token);
 * await checkCertificateBinding(payload, request.socket.getPeerCertificate().raw);
 * @see https://www.rfc-editor.org/rfc/rfc8705#section-3
 */
export async function checkCertificateBinding(
  payload: JwtPayload,
  certificate: ClientCertificate | null | undefined,
): Promise<void> {
  const bound = certificateBinding(payload);
  if (bound === undefined) return;
  if (certificate === undefined || certificate === null || certificate.length === 0) {
    throw bindingError(
      'the token is bound to a TLS client certificate (cnf x5t#S256, RFC 8705) and the request presented none',
    );
  }
  if ((await certificateThumbprint(certificate)) !== bound) {
    throw bindingError(
      'the token is bound (cnf x5t#S256, RFC 8705) to another TLS client certificate than the one presented: the SHA-256 thumbprints differ',
    );
  }
}

/**
 * {@link checkCertificateBinding} for a request: the certificate is read (from `source`,
 * by default the request's TLS socket) only when the token is bound to one.
 */
export async function checkRequestCertificate<Request>(
  payload: JwtPayload,
  request: Request,
  source: (request: Request) => MaybePromise<ClientCertificate | null | undefined> = socketCertificate,
): Promise<void> {
  if (certificateBinding(payload) === undefined) return;
  await checkCertificateBinding(payload, await source(request));
}

type MaybePromise<T> = T | Promise<T>;

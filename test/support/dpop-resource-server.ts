// A DPoP resource server on 127.0.0.1 (node:http) for the SPA tests: it demands a nonce
// of its own (so a client's first call gets 401 use_dpop_nonce), then accepts. Its whole
// decision is one function, `RequestCheck`, shaped like `authenticate(verifier, request)`'s
// result, so that the library's own resource-server side (`authenticate` with a DPoP
// verifier, or `verifier.verifyRequest`) can stand in for `createDpopCheck` unchanged.
import { type IncomingMessage, type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmbeddedJWK, type JWTPayload, calculateJwkThumbprint, jwtVerify } from 'jose';

/** The request as the check sees it (a Fetch-like view of the node:http request). */
export interface CheckedRequest {
  method: string;
  /** The absolute URL the client called (public origin + path and query). */
  url: string;
  headers: Headers;
}

/** What the resource server decides; the shape of authenticate()'s result. */
export type CheckResult =
  | { ok: true; token: { payload: JWTPayload } }
  | { ok: false; status: number; headers: Record<string, string>; body?: unknown };

/** THE seam: swap this for the library's verifier (verifyRequest / authenticate). */
export type RequestCheck = (request: CheckedRequest) => Promise<CheckResult>;

/**
 * RFC 9449 §7 checks, written out with jose: `Authorization: DPoP`, one proof that
 * verifies with its own jwk, `htm`, `htu`, `iat` within a minute, an unseen `jti`, `ath`
 * of the token, the server's current nonce (else 401 use_dpop_nonce with a DPoP-Nonce),
 * and the token's `cnf.jkt` equal to the proof key's thumbprint.
 */
export function createDpopCheck(options: {
  /** Reads and verifies the access token itself, resolving to its claims (with `cnf.jkt`). */
  verifyAccessToken: (token: string) => Promise<JWTPayload>;
  /** The nonce the server currently demands. */
  nonce: string;
}): RequestCheck {
  const seenJtis = new Set<string>();
  const refuse = (error: string, description: string, extra: Record<string, string> = {}): CheckResult => ({
    ok: false,
    status: 401,
    headers: {
      'www-authenticate': `DPoP algs="ES256 ES384 ES512", error="${error}", error_description="${description}"`,
      ...extra,
    },
  });
  return async ({ method, url, headers }) => {
    const [scheme, token, ...rest] = (headers.get('authorization') ?? '').split(' ');
    if (scheme !== 'DPoP' || !token || rest.length)
      return refuse('invalid_token', 'DPoP credentials expected');
    const proof = headers.get('dpop');
    if (!proof || proof.includes(',')) return refuse('invalid_dpop_proof', 'one DPoP header expected');
    let claims: JWTPayload;
    let jkt: string;
    try {
      const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
        typ: 'dpop+jwt',
        algorithms: ['ES256', 'ES384', 'ES512'],
        maxTokenAge: 60,
        clockTolerance: 5,
      });
      claims = payload;
      jkt = await calculateJwkThumbprint(protectedHeader.jwk!);
    } catch (error) {
      return refuse('invalid_dpop_proof', (error as Error).message);
    }
    const htu = new URL(url);
    htu.search = htu.hash = '';
    const ath = Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(token))).toString(
      'base64url',
    );
    if (
      claims.htm !== method ||
      claims.htu !== htu.href ||
      claims.ath !== ath ||
      typeof claims.jti !== 'string'
    ) {
      return refuse('invalid_dpop_proof', 'htm, htu, ath or jti do not fit the request');
    }
    if (claims.nonce !== options.nonce) {
      return refuse('use_dpop_nonce', 'Resource server requires nonce in DPoP proof', {
        'dpop-nonce': options.nonce,
      });
    }
    if (seenJtis.has(claims.jti)) return refuse('invalid_dpop_proof', 'jti replayed');
    seenJtis.add(claims.jti);
    let payload: JWTPayload;
    try {
      payload = await options.verifyAccessToken(token);
    } catch (error) {
      return refuse('invalid_token', (error as Error).message);
    }
    const cnf = payload.cnf as { jkt?: unknown } | undefined;
    if (cnf?.jkt !== jkt) return refuse('invalid_token', 'the token is not bound to the proof key');
    return { ok: true, token: { payload } };
  };
}

export interface ResourceServer {
  origin: string;
  /** Every request that reached the check (preflights not counted), with its result status. */
  calls: { method: string; path: string; status: number; body: string }[];
  close(): Promise<void>;
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => resolve(body));
    request.on('error', reject);
  });
}

/**
 * Serves `/me` (GET: the token's claims) and `/echo` (any method: the body it got), each
 * behind `check`. With `allowOrigin`, answers CORS for that page origin: preflights allow
 * `Authorization` and `DPoP`, answers expose `DPoP-Nonce` and `WWW-Authenticate`.
 */
export async function startResourceServer(
  check: RequestCheck,
  allowOrigin?: string,
): Promise<ResourceServer> {
  const calls: ResourceServer['calls'] = [];
  const cors: Record<string, string> = allowOrigin
    ? {
        'access-control-allow-origin': allowOrigin,
        'access-control-expose-headers': 'DPoP-Nonce, WWW-Authenticate',
        vary: 'Origin',
      }
    : {};
  let origin = '';
  const server: Server = createServer(async (req, res) => {
    if (req.method === 'OPTIONS' && allowOrigin) {
      res
        .writeHead(204, {
          ...cors,
          'access-control-allow-methods': 'GET, POST, PUT, DELETE',
          'access-control-allow-headers': 'authorization, dpop, content-type',
          'access-control-max-age': '0',
        })
        .end();
      return;
    }
    const body = await readBody(req);
    const url = new URL(req.url ?? '/', origin);
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const result = await check({ method: req.method ?? 'GET', url: url.href, headers });
    calls.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      status: result.ok ? 200 : result.status,
      body,
    });
    if (!result.ok) {
      res.writeHead(result.status, { ...cors, ...result.headers, 'content-type': 'application/json' });
      res.end(JSON.stringify(result.body ?? { error: 'unauthorized' }));
    } else if (url.pathname === '/me') {
      res
        .writeHead(200, { ...cors, 'content-type': 'application/json' })
        .end(JSON.stringify(result.token.payload));
    } else {
      res
        .writeHead(200, { ...cors, 'content-type': 'application/json' })
        .end(JSON.stringify({ method: req.method, body }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    calls,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

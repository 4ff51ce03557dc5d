// DPoP proofs of the SPA helpers (RFC 9449 §4), on Node's Web Crypto: the key pair, the
// handle's thumbprint and proofs (checked with jose, as a server would), the nonces it
// keeps, and the in-memory store. Chromium runs the same code in test/browser.
import { EmbeddedJWK, calculateJwkThumbprint, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import {
  type DpopStore,
  createDpopHandle,
  createDpopKeyPair,
  createMemoryDpopStore,
} from '../../../src/pkce/index.js';
import { caught } from '../../support/rejections.js';

const API = 'https://api.example.com/v1/orders?page=2#top';

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('base64url');
}

/** A proof verified the way oidc-provider and RFC 9449 servers do, with its parts. */
async function verifyProof(proof: string) {
  const { payload, protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { typ: 'dpop+jwt' });
  return { payload, header: protectedHeader };
}

describe('createDpopKeyPair', () => {
  it('makes an ECDSA P-256 pair by default whose private key cannot be exported', async () => {
    const { privateKey, publicKey } = await createDpopKeyPair();
    expect(privateKey.extractable).toBe(false);
    expect(privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve: 'P-256' });
    expect(privateKey.usages).toEqual(['sign']);
    expect(publicKey.usages).toEqual(['verify']);
    const refused = await caught(() => crypto.subtle.exportKey('jwk', privateKey));
    // Node 20 names it InvalidAccessException; browsers InvalidAccessError (test/browser).
    expect(refused.name).toMatch(/^InvalidAccess(Error|Exception)$/);
  });

  it('makes ES384 and ES512 keys on request, and proofs that say so', async () => {
    for (const [alg, namedCurve] of [
      ['ES384', 'P-384'],
      ['ES512', 'P-521'],
    ] as const) {
      const keyPair = await createDpopKeyPair({ alg });
      expect(keyPair.privateKey.algorithm).toMatchObject({ name: 'ECDSA', namedCurve });
      const handle = await createDpopHandle(keyPair);
      expect(handle.alg).toBe(alg);
      const { header } = await verifyProof(await handle.proof('GET', API));
      expect(header.alg).toBe(alg);
    }
  });

  it('refuses another alg with ERR_INVALID_ARGUMENT', async () => {
    for (const alg of ['RS256', 'HS256', 'none', 'es256', 42 as never]) {
      const error = await caught(() => createDpopKeyPair({ alg: alg as never }));
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toBe(`alg must be ES256, ES384 or ES512, got ${String(alg)}`);
    }
  });
});

describe('createDpopHandle', () => {
  it('exposes the RFC 7638 thumbprint of the public key', async () => {
    const keyPair = await createDpopKeyPair();
    const handle = await createDpopHandle(keyPair);
    expect(handle.jkt).toBe(await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)));
    expect(handle.jkt).toMatch(/^[\w-]{43}$/);
    expect(handle.alg).toBe('ES256');
  });

  it('builds a proof that verifies with its embedded public JWK and carries the claims of RFC 9449 §4.2', async () => {
    const keyPair = await createDpopKeyPair();
    const handle = await createDpopHandle(keyPair);
    const before = Math.floor(Date.now() / 1000);
    const { payload, header } = await verifyProof(await handle.proof('POST', API));
    const after = Math.floor(Date.now() / 1000);
    expect(header).toEqual({
      typ: 'dpop+jwt',
      alg: 'ES256',
      jwk: { kty: 'EC', crv: 'P-256', x: expect.any(String), y: expect.any(String) },
    });
    expect(await calculateJwkThumbprint(header.jwk!)).toBe(handle.jkt);
    expect(Object.keys(payload).sort()).toEqual(['htm', 'htu', 'iat', 'jti']);
    expect(payload.htm).toBe('POST');
    expect(payload.htu).toBe('https://api.example.com/v1/orders');
    expect(payload.iat).toBeGreaterThanOrEqual(before);
    expect(payload.iat).toBeLessThanOrEqual(after);
    expect(payload.jti).toMatch(/^[\w-]{43}$/);
  });

  it('puts no private or usage members in the header jwk', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const { jwk } = decodeProtectedHeader(await handle.proof('GET', API));
    expect(Object.keys(jwk!).sort()).toEqual(['crv', 'kty', 'x', 'y']);
  });

  it('gives every proof a new jti', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const jtis = new Set<unknown>();
    for (let i = 0; i < 20; i++) jtis.add((await verifyProof(await handle.proof('GET', API))).payload.jti);
    expect(jtis.size).toBe(20);
  });

  it('adds ath, the base64url SHA-256 of the access token, and a nonce when given', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const accessToken = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2ln';
    const { payload } = await verifyProof(
      await handle.proof('GET', API, { accessToken, nonce: 'server-nonce-1' }),
    );
    expect(payload.ath).toBe(await sha256(accessToken));
    expect(payload.nonce).toBe('server-nonce-1');
  });

  it('refuses what is not a Web Crypto ECDSA signing pair, and a bad store, with ERR_INVALID_ARGUMENT', async () => {
    const ecdh = (await crypto.subtle.generateKey({ name: 'ECDH', namedCurve: 'P-256' }, false, [
      'deriveBits',
    ])) as CryptoKeyPair;
    const rsa = (await crypto.subtle.generateKey(
      {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      },
      false,
      ['sign', 'verify'],
    )) as CryptoKeyPair;
    const good = await createDpopKeyPair();
    for (const keyPair of [
      undefined,
      {},
      ecdh,
      rsa,
      { privateKey: good.publicKey, publicKey: good.publicKey },
      { privateKey: good.privateKey },
    ]) {
      const error = await caught(() => createDpopHandle(keyPair as CryptoKeyPair));
      expect(error.code).toBe('ERR_INVALID_ARGUMENT');
      expect(error.message).toBe('keyPair must come from createDpopKeyPair()');
    }
    const error = await caught(() => createDpopHandle(good, { store: {} as DpopStore }));
    expect(error.code).toBe('ERR_INVALID_ARGUMENT');
    expect(error.message).toBe('store must be a DpopStore');
  });

  it('refuses a relative URL or an empty method for a proof', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const relative = await caught(() => handle.proof('GET', '/orders'));
    expect(relative.code).toBe('ERR_INVALID_ARGUMENT');
    const empty = await caught(() => handle.proof('', API));
    expect(empty.code).toBe('ERR_INVALID_ARGUMENT');
  });
});

/** A withProof send function answering from a list, recording the proofs it got. */
function answers(...list: { status?: number; headers?: Record<string, string>; body?: unknown }[]) {
  const proofs: string[] = [];
  const send = async (proof: string) => {
    proofs.push(proof);
    const next = list.shift() ?? {};
    return { status: next.status ?? 200, headers: new Headers(next.headers), body: next.body };
  };
  return { proofs, send };
}

const nonceOf = async (proof: string) => (await verifyProof(proof)).payload.nonce;

describe('DpopHandle.withProof (the nonce rules the token helpers and fetchWithDpop share)', () => {
  it('remembers the last DPoP-Nonce per origin and puts it in the next proof to that origin only', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const first = answers({ headers: { 'dpop-nonce': 'n-api-1' } });
    await handle.withProof('GET', 'https://api.example.com/a', first.send);
    expect(await nonceOf(first.proofs[0]!)).toBeUndefined();
    expect(await nonceOf(await handle.proof('GET', 'https://api.example.com/b?x=1'))).toBe('n-api-1');
    expect(await nonceOf(await handle.proof('GET', 'https://other.example.com/a'))).toBeUndefined();
    // A newer nonce replaces the older one.
    await handle.withProof(
      'GET',
      'https://api.example.com/a',
      answers({ headers: { 'dpop-nonce': 'n-api-2' } }).send,
    );
    expect(await nonceOf(await handle.proof('GET', 'https://api.example.com/c'))).toBe('n-api-2');
  });

  it('retries once with the new nonce when a token endpoint answers use_dpop_nonce', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const { proofs, send } = answers(
      { status: 400, headers: { 'dpop-nonce': 'n-1' }, body: { error: 'use_dpop_nonce' } },
      { status: 200, body: { access_token: 'at', token_type: 'DPoP' } },
    );
    const answer = await handle.withProof('POST', 'https://as.example.com/token', send);
    expect(answer.status).toBe(200);
    expect(proofs).toHaveLength(2);
    expect(await nonceOf(proofs[0]!)).toBeUndefined();
    expect(await nonceOf(proofs[1]!)).toBe('n-1');
    expect((await verifyProof(proofs[0]!)).payload.jti).not.toBe((await verifyProof(proofs[1]!)).payload.jti);
  });

  it('retries once when a resource server answers 401 WWW-Authenticate: DPoP error="use_dpop_nonce"', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const { proofs, send } = answers(
      {
        status: 401,
        headers: {
          'www-authenticate': 'Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"',
          'dpop-nonce': 'rs-1',
        },
      },
      { status: 200 },
    );
    const answer = await handle.withProof('GET', API, send, 'at-1');
    expect(answer.status).toBe(200);
    expect(proofs).toHaveLength(2);
    const { payload } = await verifyProof(proofs[1]!);
    expect(payload).toMatchObject({ nonce: 'rs-1', ath: await sha256('at-1') });
  });

  it('does not retry a second time, nor without a new nonce, nor on other errors', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    const challenge = (nonce?: string) => ({
      status: 400,
      headers: nonce ? { 'dpop-nonce': nonce } : undefined,
      body: { error: 'use_dpop_nonce' },
    });
    const twice = answers(challenge('n-1'), challenge('n-2'), { status: 200 });
    expect((await handle.withProof('POST', 'https://as.example.com/token', twice.send)).status).toBe(400);
    expect(twice.proofs).toHaveLength(2);

    // The nonce just sent, or none, or one that is not an RFC 9449 nonce: retrying would fail again.
    for (const again of [challenge('n-2'), challenge(), challenge('bad nonce "with" spaces')]) {
      const once = answers(again, { status: 200 });
      expect((await handle.withProof('POST', 'https://as.example.com/token', once.send)).status).toBe(400);
      expect(once.proofs).toHaveLength(1);
    }

    for (const other of [
      { status: 400, headers: { 'dpop-nonce': 'n-9' }, body: { error: 'invalid_dpop_proof' } },
      { status: 401, headers: { 'dpop-nonce': 'n-10', 'www-authenticate': 'DPoP error="invalid_token"' } },
      { status: 500, headers: { 'dpop-nonce': 'n-11' }, body: { error: 'use_dpop_nonce' } },
    ] as { status: number; headers: Record<string, string>; body?: unknown }[]) {
      const once = answers(other, { status: 200 });
      expect((await handle.withProof('POST', 'https://as.example.com/token', once.send)).status).toBe(
        other.status,
      );
      expect(once.proofs).toHaveLength(1);
    }
  });

  it('keeps the nonces of at most 32 origins, dropping the least recently updated', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    for (let i = 0; i < 40; i++) {
      const { send } = answers({ headers: { 'dpop-nonce': `n-${i}` } });
      await handle.withProof('GET', `https://rs${i}.example.com/`, send);
    }
    expect(await nonceOf(await handle.proof('GET', 'https://rs7.example.com/'))).toBeUndefined();
    expect(await nonceOf(await handle.proof('GET', 'https://rs8.example.com/'))).toBe('n-8');
    expect(await nonceOf(await handle.proof('GET', 'https://rs39.example.com/'))).toBe('n-39');
  });

  it('ignores a DPoP-Nonce that is not 1*NQCHAR or is longer than 512 characters', async () => {
    const handle = await createDpopHandle(await createDpopKeyPair());
    for (const nonce of ['with space', 'quote"', 'back\\slash', 'x'.repeat(513)]) {
      await handle.withProof('GET', API, answers({ headers: { 'dpop-nonce': nonce } }).send);
    }
    expect(await nonceOf(await handle.proof('GET', API))).toBeUndefined();
    await handle.withProof('GET', API, answers({ headers: { 'dpop-nonce': 'x'.repeat(512) } }).send);
    expect(await nonceOf(await handle.proof('GET', API))).toBe('x'.repeat(512));
  });
});

describe('createMemoryDpopStore', () => {
  it('keeps the key pair and the nonces for the next handle, as a reload with IndexedDB would', async () => {
    const store = createMemoryDpopStore();
    expect(await store.get('keyPair')).toBeUndefined();
    const keyPair = await createDpopKeyPair();
    const first = await createDpopHandle(keyPair, { store });
    expect(await store.get('keyPair')).toBe(keyPair);
    await first.withProof('GET', API, answers({ headers: { 'dpop-nonce': 'kept-1' } }).send);
    expect(await store.get('nonces')).toEqual([['https://api.example.com', 'kept-1']]);

    const second = await createDpopHandle((await store.get('keyPair'))!, { store });
    expect(second.jkt).toBe(first.jkt);
    expect(await nonceOf(await second.proof('GET', API))).toBe('kept-1');

    await store.clear();
    expect(await store.get('keyPair')).toBeUndefined();
    expect(await store.get('nonces')).toBeUndefined();
  });

  it('skips saved nonces that are not [origin, nonce] pairs', async () => {
    const store = createMemoryDpopStore();
    await store.set('nonces', [
      null,
      'x',
      ['https://api.example.com', 'ok-1'],
      ['https://b.example', 7],
    ] as never);
    const handle = await createDpopHandle(await createDpopKeyPair(), { store });
    expect(await nonceOf(await handle.proof('GET', API))).toBe('ok-1');
    expect(await nonceOf(await handle.proof('GET', 'https://b.example/'))).toBeUndefined();
  });

  it('answers the request even when the store cannot save a nonce', async () => {
    const store = createMemoryDpopStore();
    const failing: DpopStore = {
      get: store.get.bind(store) as DpopStore['get'],
      set: (async (key: 'keyPair' | 'nonces', value: never) => {
        if (key === 'nonces') throw new DOMException('quota', 'QuotaExceededError');
        await store.set(key, value);
      }) as DpopStore['set'],
      clear: () => store.clear(),
    };
    const handle = await createDpopHandle(await createDpopKeyPair(), { store: failing });
    const answer = await handle.withProof('GET', API, answers({ headers: { 'dpop-nonce': 'n-1' } }).send);
    expect(answer.status).toBe(200);
    expect(await nonceOf(await handle.proof('GET', API))).toBe('n-1');
  });
});

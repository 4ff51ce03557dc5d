// Stateless DPoP server nonces (RFC 9449 §9): use_dpop_nonce with a fresh nonce, the current
// and the previous time step accepted, a fleet sharing the secret, DPoP-Nonce from
// authenticate() on 401s and on successes whose nonce is about to roll.
import { beforeAll, describe, expect, it } from 'vitest';
import { JwtVerifier, type JwtVerifyError, authenticate } from '../../src/index.js';
import { useMswIssuer } from '../support/msw.js';
import { API, type DpopClient, dpopClient, fetchRequest, proofFor } from '../support/dpop.js';
import { expectRejection } from '../support/rejections.js';

const { issuer } = useMswIssuer({ issuer: 'https://issuer.test', audience: API });
const SECRET = 'a-secret-shared-by-every-instance-of-the-fleet';
const LIFETIME = 60;

let client: DpopClient;
beforeAll(async () => {
  client = await dpopClient();
});

/** A verifier on a clock the test moves. */
function instance(clock: { ms: number }, secret = SECRET): JwtVerifier {
  return new JwtVerifier({
    issuer: issuer.issuer,
    audience: API,
    now: () => clock.ms,
    dpop: { nonce: { secret, lifetimeSeconds: LIFETIME }, maxAgeSeconds: 600 },
  });
}

async function signedAt(clock: { ms: number }): Promise<string> {
  const iat = Math.floor(clock.ms / 1000);
  return issuer.sign({ iat, exp: iat + 3600 }, { dpopJkt: client.jkt });
}

async function request(clock: { ms: number }, token: string, nonce?: string): Promise<Request> {
  const proof = await proofFor(client, token, { nonce, iat: Math.floor(clock.ms / 1000) });
  return fetchRequest(`DPoP ${token}`, proof);
}

/** The nonce a refusal hands out. */
async function nonceFrom(promise: Promise<unknown>): Promise<string> {
  const error: JwtVerifyError = await expectRejection(promise, 'ERR_DPOP_NONCE_REQUIRED');
  expect(error.details.dpopNonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
  return error.details.dpopNonce!;
}

describe('DPoP server nonces', () => {
  it('asks for a nonce with use_dpop_nonce, then accepts the proof that carries it', async () => {
    const clock = { ms: Date.UTC(2031, 4, 1, 12, 0, 10) };
    const verifier = instance(clock);
    const token = await signedAt(clock);
    const error = await expectRejection(
      verifier.verifyRequest(await request(clock, token)),
      'ERR_DPOP_NONCE_REQUIRED',
    );
    expect(error.status).toBe(401);
    expect(error.message).toMatch(/requires a server nonce/);
    expect(error.wwwAuthenticate()).toMatch(
      /^Bearer, DPoP error="use_dpop_nonce", error_description="[^"]+", algs="/,
    );
    const nonce = error.details.dpopNonce!;
    const result = await verifier.verifyRequest(await request(clock, token, nonce));
    expect(result.dpop?.proof.payload.nonce).toBe(nonce);
    expect(result.dpop).not.toHaveProperty('nonce'); // current: nothing new to hand out
  });

  it('accepts the previous step’s nonce and hands out the next; refuses it a step later', async () => {
    const clock = { ms: Date.UTC(2031, 4, 1, 12, 0, 5) };
    const verifier = instance(clock);
    const token = await signedAt(clock);
    const first = await nonceFrom(verifier.verifyRequest(await request(clock, token)));
    clock.ms += LIFETIME * 1000;
    const rolled = await verifier.verifyRequest(await request(clock, token, first));
    const next = rolled.dpop?.nonce;
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(next).not.toBe(first);
    clock.ms += LIFETIME * 1000;
    const error = await expectRejection(
      verifier.verifyRequest(await request(clock, token, first)),
      'ERR_DPOP_NONCE_REQUIRED',
    );
    expect(error.message).toMatch(/nonce is not current/);
    expect(error.details.dpopNonce).not.toBe(first);
    expect((await verifier.verifyRequest(await request(clock, token, next))).dpop).toBeDefined();
  });

  it('is stateless: an instance accepts the nonce another handed out, with the same secret only', async () => {
    const clock = { ms: Date.UTC(2031, 4, 1, 12, 0, 30) };
    const [a, b, stranger] = [
      instance(clock),
      instance(clock),
      instance(clock, 'another-secret-another-deployment!!'),
    ];
    const token = await signedAt(clock);
    const nonce = await nonceFrom(a.verifyRequest(await request(clock, token)));
    expect((await b.verifyRequest(await request(clock, token, nonce))).dpop?.proof.payload.nonce).toBe(nonce);
    await expectRejection(
      stranger.verifyRequest(await request(clock, token, nonce)),
      'ERR_DPOP_NONCE_REQUIRED',
    );
  });

  it('refuses a nonce that is not a string', async () => {
    const clock = { ms: Date.UTC(2031, 4, 1, 12, 0, 30) };
    const token = await signedAt(clock);
    const proof = await proofFor(client, token, { claims: { nonce: 42 }, iat: Math.floor(clock.ms / 1000) });
    await expectRejection(
      instance(clock).verifyRequest(fetchRequest(`DPoP ${token}`, proof)),
      'ERR_DPOP_NONCE_REQUIRED',
    );
  });

  it('authenticate() sends DPoP-Nonce on the 401s and on a success whose nonce is about to roll', async () => {
    const clock = { ms: Date.UTC(2031, 4, 1, 12, 0, 1) };
    const verifier = instance(clock);
    const token = await signedAt(clock);
    const missing = await authenticate(verifier, fetchRequest(undefined));
    expect(missing.ok).toBe(false);
    const nonce = !missing.ok && missing.headers['DPoP-Nonce'];
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);

    const asked = await authenticate(verifier, await request(clock, token));
    expect(!asked.ok && asked.body.code).toBe('ERR_DPOP_NONCE_REQUIRED');
    expect(!asked.ok && asked.headers['DPoP-Nonce']).toBe(nonce);
    expect(!asked.ok && asked.body.error).toBe('invalid_token');

    const current = await authenticate(verifier, await request(clock, token, nonce as string));
    expect(current).toMatchObject({ ok: true });
    expect(current).not.toHaveProperty('headers');

    clock.ms += LIFETIME * 1000;
    const rolling = await authenticate(verifier, await request(clock, token, nonce as string));
    expect(rolling.ok && rolling.headers?.['DPoP-Nonce']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rolling.ok && rolling.headers?.['DPoP-Nonce']).not.toBe(nonce);
  });
});

// Rotation without storms: a newly published key verifies on its first token (right after
// warm-up and right after a flood of unknown kids), while a flood of invented kids costs the
// issuer at most one JWKS request per cooldown. Time is vitest's fake clock: the verifier
// reads Date.now and waits with setTimeout, both faked, so no test sleeps.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions, type VerifierEvent } from '../../src/index.js';
import { useMswIssuer } from '../support/msw.js';
import { expectRejection } from '../support/rejections.js';
import { randomKid } from '../support/tokens.js';

const COOLDOWN_MS = 5_000;
const { issuer } = useMswIssuer({ issuer: 'https://rotation.test', audience: 'https://api.test' });
beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

function verifierFor(options: Partial<JwtVerifierOptions> = {}): JwtVerifier {
  return new JwtVerifier({ issuer: issuer.issuer, audience: 'https://api.test', ...options });
}

/** Tokens signed by a published key but naming kids the issuer never published. */
function floodTokens(count: number, base: string): string[] {
  return Array.from({ length: count }, () => {
    const [, payload, signature] = base.split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'RS256', typ: 'JWT', kid: randomKid() })).toString(
      'base64url',
    );
    return `${header}.${payload}.${signature}`;
  });
}

/** Settles every promise and returns the rejection codes. */
async function codesOf(promises: Promise<unknown>[]): Promise<string[]> {
  const results = await Promise.allSettled(promises);
  return results.map((r) => (r.status === 'fulfilled' ? 'ok' : (r.reason as { code: string }).code));
}

describe('rotation', () => {
  it('verifies a key published right after warm-up on its first token, with one refetch and no wait', async () => {
    const verifier = verifierFor();
    await verifier.warmup();
    expect(issuer.requests.jwks).toBe(1);
    const [fresh] = await issuer.rotateKeys();
    // The clock has not moved since warm-up: the refetch still reflects the new key.
    const { header } = await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(header.kid).toBe(fresh!.kid);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('verifies a key published right after a flood of unknown kids, waiting at most the cooldown', async () => {
    const verifier = verifierFor({ cache: { cooldownMs: COOLDOWN_MS } });
    await verifier.warmup();
    const base = await issuer.sign();
    const codes = await codesOf(floodTokens(1000, base).map((t) => verifier.verify(t)));
    expect(new Set(codes)).toEqual(new Set(['ERR_KEY_NOT_FOUND']));
    expect(issuer.requests.jwks).toBe(2);

    await issuer.rotateKeys();
    let settled = false;
    const first = verifier.verify(await issuer.sign({ sub: 'after-flood' })).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS - 1);
    expect(settled).toBe(false); // still inside the cooldown: waiting, not failing
    await vi.advanceTimersByTimeAsync(1);
    expect((await first).payload.sub).toBe('after-flood');
    expect(issuer.requests.jwks).toBe(3);
  });

  it('ends the wait after the cooldown even when an injected clock does not move', async () => {
    vi.useRealTimers();
    const frozen = Date.now() + 60_000; // later than every token's iat below
    const verifier = verifierFor({ now: () => frozen, cache: { cooldownMs: 50 } });
    await verifier.warmup();
    const base = await issuer.sign();
    await codesOf(floodTokens(10, base).map((t) => verifier.verify(t)));
    await issuer.rotateKeys();
    // Waits the 50 ms cooldown (timed by setTimeout), then refetches.
    expect((await verifier.verify(await issuer.sign({ sub: 'frozen' }))).payload.sub).toBe('frozen');
    expect(issuer.requests.jwks).toBe(3);
  });

  it('lets 1000 tokens with random unknown kids cost at most 2 JWKS requests from a cold start', async () => {
    const verifier = verifierFor();
    const base = await issuer.sign();
    const codes = await codesOf(floodTokens(1000, base).map((t) => verifier.verify(t)));
    expect(codes.every((code) => code === 'ERR_KEY_NOT_FOUND')).toBe(true);
    expect(issuer.requests.jwks).toBeLessThanOrEqual(2);
    expect(issuer.requests.metadata).toBe(1);
  });

  it('holds the cooldown while a flood goes on: one refetch per cooldown, shared by every waiter', async () => {
    const verifier = verifierFor({ cache: { cooldownMs: COOLDOWN_MS } });
    await verifier.warmup();
    const base = await issuer.sign();
    await codesOf(floodTokens(300, base).map((t) => verifier.verify(t)));
    expect(issuer.requests.jwks).toBe(2);

    // A second wave 1 s later waits for the cooldown's end, then shares a single refetch.
    await vi.advanceTimersByTimeAsync(1_000);
    const wave = codesOf(floodTokens(1000, base).map((t) => verifier.verify(t)));
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    expect((await wave).every((code) => code === 'ERR_KEY_NOT_FOUND')).toBe(true);
    expect(issuer.requests.jwks).toBe(3);
  });

  it('remembers a kid that stayed unknown after a refetch and refuses it again without a request', async () => {
    const verifier = verifierFor({ cache: { cooldownMs: COOLDOWN_MS } });
    await verifier.warmup();
    const token = floodTokens(1, await issuer.sign())[0]!;
    await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
    expect(issuer.requests.jwks).toBe(2);

    // Past the cooldown, but still remembered: no request.
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS * 2);
    const again = await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
    expect(again.message).toContain('kid');
    expect(issuer.requests.jwks).toBe(2);

    // Forgotten after 30 s: asked about once more.
    await vi.advanceTimersByTimeAsync(30_000);
    await expectRejection(verifier.verify(token), 'ERR_KEY_NOT_FOUND', token);
    expect(issuer.requests.jwks).toBe(3);
  });

  it('shares one refetch among concurrent tokens with the same new kid', async () => {
    const verifier = verifierFor();
    await verifier.warmup();
    await issuer.rotateKeys();
    const token = await issuer.sign();
    const results = await Promise.all(Array.from({ length: 50 }, () => verifier.verify(token)));
    expect(results).toHaveLength(50);
    expect(issuer.requests.jwks).toBe(2);
  });

  it('stops verifying a removed key once the set is refetched, and reports the rotation', async () => {
    const events: VerifierEvent[] = [];
    const verifier = verifierFor({ onEvent: (e) => events.push(e) });
    const oldToken = await issuer.sign();
    await verifier.verify(oldToken);
    const oldKids = issuer.keys.map((key) => key.kid);
    const [fresh] = await issuer.rotateKeys({ keepPrevious: false });
    await verifier.verify(await issuer.sign()); // new kid: refetch
    expect(events).toContainEqual({ type: 'key_rotated', added: [fresh!.kid], removed: oldKids });
    // Its kid is unknown now: one more refetch, once the cooldown allows, then refused.
    const refused = expectRejection(verifier.verify(oldToken), 'ERR_KEY_NOT_FOUND', oldToken);
    await vi.advanceTimersByTimeAsync(COOLDOWN_MS);
    await refused;
    expect(issuer.requests.jwks).toBe(3);
  });

  it('rejects with ERR_ISSUER_UNAVAILABLE when the refetch for an unknown kid fails', async () => {
    const verifier = verifierFor();
    await verifier.warmup();
    await issuer.rotateKeys();
    issuer.failNext('jwks', { status: 500 });
    const token = await issuer.sign();
    const error = await expectRejection(verifier.verify(token), 'ERR_ISSUER_UNAVAILABLE', token);
    expect(error.message).toContain('500');
    // A known key keeps verifying meanwhile.
    await verifier.verify(await issuer.sign({}, { kid: issuer.keys[0]!.kid }));
  });
});

// exportCache() and cache.snapshot: a verifier (a serverless cold start) starts warm from
// what another one fetched, checked as strictly as a fresh response and never trusted past
// its freshness. The issuer is the stub behind msw; time is vitest's fake clock.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { JwtVerifier, type JwtVerifierOptions, type VerifierCacheSnapshot } from '../../src/index.js';
import type { TestIssuer } from '../../src/testing/index.js';
import { EventLog, stubIssuersOnFakeClock } from './helpers.js';

const MAX_AGE_MS = 60_000;
const stubs = stubIssuersOnFakeClock(
  { issuer: 'https://snapshot.test', audience: 'https://api.test' },
  { issuer: 'https://other.test', audience: 'https://api.test' },
);
let issuer: TestIssuer;
let other: TestIssuer;
beforeAll(() => {
  [issuer, other] = stubs as [TestIssuer, TestIssuer];
});

function verifierFor(options: Partial<JwtVerifierOptions> = {}, from: TestIssuer = issuer) {
  const log = new EventLog();
  const verifier = new JwtVerifier({
    issuer: from.issuer,
    audience: 'https://api.test',
    onEvent: log.listener,
    ...options,
    cache: { maxAgeMs: MAX_AGE_MS, ...options.cache },
  });
  return { verifier, log };
}

async function exported(): Promise<VerifierCacheSnapshot> {
  const { verifier } = verifierFor({ cache: { refreshAhead: false } });
  await verifier.warmup();
  const snapshot = verifier.exportCache();
  issuer.reset();
  return snapshot;
}

describe('cache snapshots', () => {
  it('exports plain JSON: metadata, keys, fetch times and the ETag', async () => {
    const snapshot = await exported();
    expect(JSON.parse(JSON.stringify(snapshot))).toEqual(snapshot);
    expect(snapshot.issuer).toBe(issuer.issuer);
    expect(snapshot.metadata?.document.jwks_uri).toBe(issuer.metadata.jwks_uri);
    expect(snapshot.jwks?.uri).toBe(issuer.metadata.jwks_uri);
    expect(snapshot.jwks?.keys.map((key) => key.kid)).toEqual(issuer.keys.map((key) => key.kid));
    expect(snapshot.jwks?.etag).toMatch(/^".+"$/);
    expect(snapshot.jwks!.freshUntil - snapshot.jwks!.fetchedAt).toBe(MAX_AGE_MS);
  });

  it('starts a verifier warm from a snapshot, object or JSON string: no request before the first token verifies', async () => {
    const snapshot = await exported();
    for (const given of [snapshot, JSON.stringify(snapshot)]) {
      const { verifier, log } = verifierFor({ cache: { snapshot: given } });
      const { payload } = await verifier.verify(await issuer.sign({ sub: 'cold-start' }));
      expect(payload.sub).toBe('cold-start');
      expect(issuer.requests).toMatchObject({ metadata: 0, jwks: 0 });
      expect(log.of('jwks_loaded')).toMatchObject([{ source: 'snapshot', url: issuer.metadata.jwks_uri }]);
      verifier.close();
    }
  });

  it('refreshes ahead from a snapshot, revalidating with its ETag', async () => {
    const snapshot = await exported();
    const { verifier, log } = verifierFor({ cache: { snapshot } });
    const revalidated = log.next('jwks_revalidated');
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS * 0.9);
    await revalidated;
    expect(issuer.requests.jwks).toBe(1);
    expect(log.of('jwks_fetched')).toHaveLength(0);
    verifier.close();
  });

  it('still refetches for a kid the snapshot does not have', async () => {
    const snapshot = await exported();
    const [fresh] = await issuer.rotateKeys();
    const { verifier } = verifierFor({ cache: { snapshot, refreshAhead: false } });
    const { header } = await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(header.kid).toBe(fresh!.kid);
    expect(issuer.requests.jwks).toBe(1);
  });

  it('ignores a snapshot of another issuer, with an event, and fetches its own keys', async () => {
    const snapshot = await exported();
    const { verifier, log } = verifierFor({ cache: { snapshot, refreshAhead: false } }, other);
    expect(log.of('snapshot_ignored')).toHaveLength(1);
    expect(log.of('snapshot_ignored')[0]!.reason).toContain(issuer.issuer);
    await verifier.verify(await other.sign({ sub: 'u' }));
    expect(other.requests.jwks).toBe(1);
    // The snapshot's keys were not taken: the first issuer's key is unknown to this verifier.
    await expect(verifier.verify(await issuer.sign({ sub: 'u' }))).rejects.toMatchObject({
      code: 'ERR_KEY_NOT_FOUND',
    });
  });

  it('ignores a snapshot past its freshness', async () => {
    const snapshot = await exported();
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS);
    const { verifier, log } = verifierFor({ cache: { snapshot, refreshAhead: false } });
    expect(log.of('snapshot_ignored').map((event) => event.reason)).toEqual([
      'the metadata in the snapshot is stale',
      'the key set in the snapshot is stale',
    ]);
    await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });

  it('never trusts a snapshot longer than its own maxAgeMs, whatever freshUntil it claims', async () => {
    const snapshot = await exported();
    snapshot.jwks!.freshUntil = snapshot.jwks!.fetchedAt + 365 * 86_400_000;
    snapshot.metadata!.freshUntil = snapshot.metadata!.fetchedAt + 365 * 86_400_000;
    const { verifier } = verifierFor({ cache: { snapshot, refreshAhead: false } });
    const token = await issuer.sign({ sub: 'u' });
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(0);
    await vi.advanceTimersByTimeAsync(MAX_AGE_MS);
    await verifier.verify(token);
    expect(issuer.requests.jwks).toBe(1);
  });

  it('ignores keys in a snapshot that a JWKS would not be allowed to hold', async () => {
    const snapshot = await exported();
    const tampered = structuredClone(snapshot);
    tampered.jwks!.keys.push({ kty: 'oct', kid: 'hmac', k: 'c2VjcmV0' });
    const { verifier, log } = verifierFor({ cache: { snapshot: tampered, refreshAhead: false } });
    expect(log.of('snapshot_ignored')[0]!.reason).toMatch(
      /^the key set in the snapshot is not usable: .*symmetric/,
    );
    await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(issuer.requests.jwks).toBe(1);
  });

  it('ignores keys whose JWKS URL is not the one the metadata names', async () => {
    const snapshot = await exported();
    const moved = structuredClone(snapshot);
    moved.jwks!.uri = 'https://attacker.example/jwks';
    const { log } = verifierFor({ cache: { snapshot: moved, refreshAhead: false } });
    expect(log.of('snapshot_ignored')[0]!.reason).toContain('https://attacker.example/jwks');
    expect(log.of('jwks_loaded')).toHaveLength(0);
  });

  it('ignores metadata that fails discovery validation, and the keys that depended on it', async () => {
    const snapshot = await exported();
    const forged = structuredClone(snapshot);
    forged.metadata!.document.issuer = 'https://evil.example';
    const { log } = verifierFor({ cache: { snapshot: forged, refreshAhead: false } });
    expect(log.of('snapshot_ignored').map((event) => event.reason)).toEqual([
      expect.stringMatching(
        /^the metadata in the snapshot is not valid: .*issuer is "https:\/\/evil\.example", expected "https:\/\/snapshot\.test" exactly$/,
      ),
      'the snapshot has keys but no valid metadata naming their jwks_uri',
    ]);
  });

  it('uses the keys of a snapshot with a configured jwksUri, without metadata', async () => {
    const { verifier: source } = verifierFor({
      jwksUri: issuer.metadata.jwks_uri!,
      cache: { refreshAhead: false },
    });
    await source.warmup();
    const snapshot = source.exportCache();
    expect(snapshot.metadata).toBeUndefined();
    issuer.reset();
    const { verifier } = verifierFor({
      jwksUri: issuer.metadata.jwks_uri!,
      cache: { snapshot, refreshAhead: false },
    });
    await verifier.verify(await issuer.sign({ sub: 'u' }));
    expect(issuer.requests).toMatchObject({ metadata: 0, jwks: 0 });
  });

  it('ignores what is not a snapshot at all, never throwing', () => {
    for (const junk of [
      '{not json',
      '42',
      42,
      null,
      [],
      { format: 'something-else' },
      { format: 'oauth-jwt-verify/cache@1' },
    ]) {
      const { log } = verifierFor({ cache: { snapshot: junk as never } });
      expect(log.of('snapshot_ignored'), JSON.stringify(junk)).toHaveLength(1);
    }
  });
});

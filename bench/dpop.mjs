#!/usr/bin/env node
// node bench/dpop.mjs [--quick] [--alg=RS256,ES256,EdDSA] [--proof-alg=ES256] [--rounds=9]
//                     [--slice-ms=150] [--baseline=DIR]
//
// What a DPoP request costs at the resource server, against the built package, one request
// in flight, as a ratio of THE FLOOR: the same work done with raw node:crypto and nothing
// else (bench/dpop-floor.mjs: both JWTs parsed, the token's and the proof's signatures
// verified with key objects made once, the two SHA-256). Target: ours ≥ 0.9× the floor.
//
// In one process, in alternating slices (each round starts with another contender, so a
// machine whose load drifts touches all alike), per token algorithm:
//   dpop        verifyRequest() with `Authorization: DPoP` and a fresh proof each time
//               (made before its slice starts)
//   floor       the floor above, on the same token and proofs
//   bearer      verifyRequest() with `Authorization: Bearer` (an unbound token)
//   proof-raw   one bare proof signature check, node:crypto verify (what our path calls)
//   proof-jose  the same with jose compactVerify, key imported once
//   dpop-base   with --baseline=DIR: `dpop` from the build in DIR/dist (an A/B in one run)
// Ratios are taken per round; the figures are the medians. Prints tables, writes nothing.
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { compactVerify, decodeProtectedHeader, generateKeyPair, importJWK } from 'jose';
import { ensureBuilt } from '../scripts/ensure-build.mjs';
import { createDpopFloor } from './dpop-floor.mjs';
import { median } from './measure.mjs';
import { fetchJwks } from './web-contenders.mjs';
import { RAW } from './contenders.mjs';
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';

const TARGET = 0.9;
const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const quick = args.includes('--quick');
const tokenAlgorithms = flag('alg')?.split(',') ?? ['RS256', 'ES256', 'EdDSA'];
const proofAlg = flag('proof-alg') ?? 'ES256';
const rounds = Number(flag('rounds') ?? (quick ? 5 : 9));
const sliceMs = Number(flag('slice-ms') ?? (quick ? 60 : 150));
const baselineDir = flag('baseline');

ensureBuilt();
const { JwtVerifier, createMemoryDpopReplayStore } = await import(join(root, 'dist/index.js'));
const { createDpopProof, createTestIssuer, dpopThumbprint } = await import(
  join(root, 'dist/testing/index.js')
);
const baseline =
  baselineDir && (await import(pathToFileURL(join(resolve(baselineDir), 'dist/index.js')).href));

const audience = 'https://api.test';
const url = 'https://api.test/orders';
const issuer = await createTestIssuer({ listen: true, audience, algorithms: tokenAlgorithms });
const key = await generateKeyPair(proofAlg);
const jkt = await dpopThumbprint(key);
const jwks = await fetchJwks(issuer.metadata.jwks_uri);

/** Runs `step(i)` one at a time for `ms` (at most `limit` times); operations per second. */
async function slice(step, ms, limit = Infinity) {
  let done = 0;
  const started = performance.now();
  const end = started + ms;
  while (done < limit && performance.now() < end) {
    const result = step(done);
    if (result instanceof Promise) await result;
    done++;
  }
  return done / ((performance.now() - started) / 1000);
}

const shortfall = (ratio) =>
  ratio >= TARGET
    ? `${ratio.toFixed(2)}x, met`
    : `${ratio.toFixed(3)}x, short by ${((1 - ratio / TARGET) * 100).toFixed(1)} %`;

/** One token algorithm: every contender in alternating slices; medians of the rounds. */
async function measureAlgorithm(alg) {
  const bound = await issuer.sign({ sub: 'bench' }, { alg, dpopJkt: jkt, expiresIn: 3600 });
  const unbound = await issuer.sign({ sub: 'bench' }, { alg, expiresIn: 3600 });
  const tokenJwk = jwks.keys.find((entry) => entry.kid === decodeProtectedHeader(bound).kid);
  const makeVerifier = (library) =>
    new library.JwtVerifier({
      issuer: issuer.issuer,
      audience,
      dpop: { replay: library.createMemoryDpopReplayStore({ max: 1_000_000 }) },
    });
  const verifier = makeVerifier({ JwtVerifier, createMemoryDpopReplayStore });
  const baselineVerifier = baseline && makeVerifier(baseline);
  await verifier.warmup();
  await baselineVerifier?.warmup();

  // Fresh proofs for `dpop` (and `dpop-base`, whose replay store is its own), made between slices.
  const proofs = [];
  const cursors = { dpop: 0, 'dpop-base': 0 };
  const topUp = async (name, count) => {
    while (proofs.length - cursors[name] < count) {
      proofs.push(await createDpopProof({ key, method: 'GET', url, accessToken: bound }));
    }
  };
  const dpopStep = (target, name) => () =>
    target.verifyRequest({
      method: 'GET',
      url,
      headers: { authorization: `DPoP ${bound}`, dpop: proofs[cursors[name]++] },
    });

  await topUp('dpop', 1);
  const proofJwk = decodeProtectedHeader(proofs[0]).jwk;
  const floor = createDpopFloor({ tokenJwk, tokenAlg: alg, proofJwk, proofAlg, jkt });
  const joseKey = await importJWK(proofJwk, proofAlg);
  const [encodedHeader, encodedPayload, encodedSignature] = proofs[0].split('.');
  const [digest, input] = RAW[proofAlg](createPublicKey({ key: proofJwk, format: 'jwk' }));
  const bearerRequest = { method: 'GET', url, headers: { authorization: `Bearer ${unbound}` } };
  const contenders = {
    dpop: dpopStep(verifier, 'dpop'),
    floor: (i) => floor(bound, proofs[i % proofs.length]),
    bearer: () => verifier.verifyRequest(bearerRequest),
    'proof-raw': () => {
      const ok = cryptoVerify(
        digest,
        Buffer.from(`${encodedHeader}.${encodedPayload}`),
        input,
        Buffer.from(encodedSignature, 'base64url'),
      );
      if (!ok) throw new Error('the proof did not verify');
    },
    'proof-jose': () => compactVerify(proofs[0], joseKey),
    ...(baselineVerifier ? { 'dpop-base': dpopStep(baselineVerifier, 'dpop-base') } : {}),
  };
  const names = Object.keys(contenders);
  const expected = Object.fromEntries(names.map((name) => [name, 2000]));
  const run = async (name, ms, limit = Infinity) => {
    if (!(name in cursors)) return slice(contenders[name], ms, limit);
    await topUp(name, Math.ceil(Math.min(limit, (expected[name] * ms) / 1000 + 200)));
    return slice(contenders[name], ms, Math.min(limit, proofs.length - cursors[name]));
  };
  for (const name of names) await run(name, Infinity, 300); // warm-up: 300 calls each
  for (const name of names) await run(name, 200); // and a longer one, untimed
  const perRound = [];
  for (let round = 0; round < rounds; round++) {
    const ops = {};
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length];
      ops[name] = await run(name, sliceMs);
      expected[name] = Math.max(expected[name], ops[name]);
    }
    perRound.push(ops);
  }
  verifier.close();
  baselineVerifier?.close();
  const ops = Object.fromEntries(names.map((name) => [name, median(perRound.map((r) => r[name]))]));
  const ratio = (a, b) => median(perRound.map((r) => r[a] / r[b]));
  const us = (name) => 1e6 / ops[name];
  const extra = median(perRound.map((r) => 1e6 / r.dpop - 1e6 / r.bearer));
  return {
    token: alg,
    proof: proofAlg,
    'dpop ops/s': Math.round(ops.dpop),
    'floor ops/s': Math.round(ops.floor),
    [`dpop ÷ floor (target ${TARGET})`]: shortfall(ratio('dpop', 'floor')),
    ...(baselineVerifier ? { 'dpop ÷ baseline': `${ratio('dpop', 'dpop-base').toFixed(2)}x` } : {}),
    'bearer ops/s': Math.round(ops.bearer),
    'extra µs/request over bearer': extra.toFixed(1),
    'proof signature µs (node:crypto)': us('proof-raw').toFixed(1),
    'proof signature µs (jose)': us('proof-jose').toFixed(1),
    floorRatio: ratio('dpop', 'floor'),
  };
}

const rows = [];
try {
  for (const alg of tokenAlgorithms) rows.push(await measureAlgorithm(alg));
} finally {
  await issuer.close();
}
console.log(
  `DPoP at the resource server, one request in flight, ${proofAlg} proofs; ${rounds} rounds of ${sliceMs} ms slices, medians (Node ${process.version})`,
);
console.table(rows.map(({ floorRatio, ...row }) => row));
console.log(
  `DPoP request ÷ floor (raw node:crypto: two signatures, two SHA-256, two parses), target ≥ ${TARGET}x: ${rows
    .map((row) => `${row.token} ${row.floorRatio.toFixed(2)}x`)
    .join(', ')}`,
);

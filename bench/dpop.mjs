#!/usr/bin/env node
// node bench/dpop.mjs [--quick] [--alg=RS256,ES256,EdDSA] [--proof-alg=ES256]
//
// What DPoP costs at the resource server, against the built package: the same bound token
// through verifyRequest() as Bearer (unbound token) and as DPoP (a fresh proof each time,
// made before the clock starts), next to one bare signature check of a proof, two ways: the
// runtime's raw primitive (node:crypto verify, key object made once: what our own path does)
// and jose (compactVerify, key imported once). The claim checked: a DPoP request costs about
// one more signature check than a Bearer one (plus two SHA-256 and the replay store's call).
// One process, one request in flight; prints a table, writes nothing.
import { createPublicKey, verify as cryptoVerify } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compactVerify, generateKeyPair, importJWK, decodeProtectedHeader } from 'jose';
import { ensureBuilt } from '../scripts/ensure-build.mjs';
import { RAW } from './contenders.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const flag = (name) => args.find((arg) => arg.startsWith(`--${name}=`))?.split('=')[1];
const quick = args.includes('--quick');
const tokenAlgorithms = flag('alg')?.split(',') ?? ['RS256', 'ES256', 'EdDSA'];
const proofAlg = flag('proof-alg') ?? 'ES256';
const ms = quick ? 300 : 1500;
const proofsPerRun = quick ? 5_000 : 40_000;

ensureBuilt();
const { JwtVerifier, createMemoryDpopReplayStore } = await import(join(root, 'dist/index.js'));
const { createDpopProof, createTestIssuer, dpopThumbprint } = await import(
  join(root, 'dist/testing/index.js')
);

const audience = 'https://api.test';
const url = 'https://api.test/orders';
const issuer = await createTestIssuer({ listen: true, audience, algorithms: tokenAlgorithms });
const key = await generateKeyPair(proofAlg);
const jkt = await dpopThumbprint(key);

/** Calls `step(i)` one at a time for `ms` after a short warm-up; operations per second. */
async function measure(step, limit = Infinity) {
  for (let i = 0; i < 200; i++) await step(i);
  let done = 0;
  const end = performance.now() + ms;
  const started = performance.now();
  while (performance.now() < end && done < limit) await step(200 + done++);
  return done / ((performance.now() - started) / 1000);
}

const rows = [];
try {
  for (const alg of tokenAlgorithms) {
    const bound = await issuer.sign({ sub: 'bench' }, { alg, dpopJkt: jkt, expiresIn: 3600 });
    const unbound = await issuer.sign({ sub: 'bench' }, { alg, expiresIn: 3600 });
    const verifier = new JwtVerifier({
      issuer: issuer.issuer,
      audience,
      dpop: { replay: createMemoryDpopReplayStore({ max: proofsPerRun + 1000 }) },
    });
    await verifier.warmup();
    const proofs = [];
    for (let i = 0; i < proofsPerRun + 200; i++) {
      proofs.push(await createDpopProof({ key, method: 'GET', url, accessToken: bound }));
    }
    const bearer = await measure(() =>
      verifier.verifyRequest({ method: 'GET', url, headers: { authorization: `Bearer ${unbound}` } }),
    );
    const dpop = await measure(
      (i) =>
        verifier.verifyRequest({
          method: 'GET',
          url,
          headers: { authorization: `DPoP ${bound}`, dpop: proofs[i] },
        }),
      proofsPerRun,
    );
    const proofJwk = decodeProtectedHeader(proofs[0]).jwk;
    const publicKey = await importJWK(proofJwk, proofAlg);
    const joseSignature = await measure(() => compactVerify(proofs[0], publicKey));
    const [encodedHeader, encodedPayload, encodedSignature] = proofs[0].split('.');
    const [digest, input] = RAW[proofAlg](createPublicKey({ key: proofJwk, format: 'jwk' }));
    const rawSignature = await measure(() => {
      const ok = cryptoVerify(
        digest,
        Buffer.from(`${encodedHeader}.${encodedPayload}`),
        input,
        Buffer.from(encodedSignature, 'base64url'),
      );
      if (!ok) throw new Error('the proof did not verify');
    });
    verifier.close();
    const us = (opsPerSecond) => 1e6 / opsPerSecond;
    rows.push({
      token: alg,
      proof: proofAlg,
      'bearer ops/s': Math.round(bearer),
      'dpop ops/s': Math.round(dpop),
      'extra µs/request': (us(dpop) - us(bearer)).toFixed(1),
      'proof signature µs (node:crypto)': us(rawSignature).toFixed(1),
      'extra ÷ node:crypto signature': ((us(dpop) - us(bearer)) / us(rawSignature)).toFixed(2),
      'proof signature µs (jose)': us(joseSignature).toFixed(1),
      'extra ÷ jose signature': ((us(dpop) - us(bearer)) / us(joseSignature)).toFixed(2),
    });
  }
} finally {
  await issuer.close();
}
console.table(rows);

#!/usr/bin/env node
// Main-thread instructions per warm verify, counted by callgrind: deterministic where the
// clock on this VM is not. For each build given (the working tree's dist/, and optionally
// an older build's folder), runs Node under valgrind twice, with LOW and HIGH verifies of
// the same tokens, and prints (HIGH − LOW run's main-thread Ir) ÷ (HIGH − LOW): the cost of
// one more verify, start-up and warm-up cancelled out.
//
//   node bench/instructions.mjs [--alg=RS256] [--tokens=1] [--low=2000] [--high=6000] [--baseline=DIR]
//   node bench/instructions.mjs --dpop [--alg=RS256] [--low=1000] [--high=3000] [--baseline=DIR]
//
// --tokens=1 repeats one token (the bench's "one token, 1 in flight" row); more cycles
// through that many distinct tokens. One verify in flight, no verified-token cache; the
// JWKS comes from an in-process fetch stub, tokens from a file signed beforehand.
// --dpop counts a DPoP request instead: verifyRequest() with one token bound to an ES256
// key and a fresh proof each time (made beforehand), next to the floor of bench/dpop.mjs
// (the same work with raw node:crypto, bench/dpop-floor.mjs) counted the same way, and
// prints floor ÷ ours: the instruction-count twin of bench/dpop.mjs's ratio.
// (Internal mode: --child <mode> <dist> <work folder> <count>.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'https://api.bench';
const DPOP_URL = 'https://api.bench/orders';

const WARM_UP = 300;

if (args[0] === '--child') {
  const [, mode, dist, work, count] = args;
  const tokens = readFileSync(join(work, 'tokens.txt'), 'utf8').trim().split('\n');
  const jwks = readFileSync(join(work, 'jwks.json'), 'utf8');
  const n = WARM_UP + Number(count);
  if (mode === 'floor') {
    const { createDpopFloor } = await import('./dpop-floor.mjs');
    const { proofs, ...keys } = JSON.parse(readFileSync(join(work, 'dpop.json'), 'utf8'));
    const floor = createDpopFloor(keys);
    for (let i = 0; i < n; i++) floor(tokens[0], proofs[i]);
    process.exit(0);
  }
  const { JwtVerifier } = await import(pathToFileURL(join(dist, 'index.js')).href);
  const verifier = new JwtVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: `${ISSUER}/jwks`,
    fetch: async () => new Response(jwks, { headers: { 'content-type': 'application/json' } }),
    // The proofs are made before valgrind starts, which takes minutes.
    ...(mode === 'dpop' ? { dpop: { maxAgeSeconds: 86_400 } } : {}),
  });
  if (mode === 'dpop') {
    const { proofs } = JSON.parse(readFileSync(join(work, 'dpop.json'), 'utf8'));
    const headers = (i) => ({ authorization: `DPoP ${tokens[0]}`, dpop: proofs[i] });
    for (let i = 0; i < n; i++)
      await verifier.verifyRequest({ method: 'GET', url: DPOP_URL, headers: headers(i) });
  } else {
    for (let i = 0; i < n; i++) await verifier.verify(tokens[i % tokens.length]);
  }
  process.exit(0);
}

const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const dpop = args.includes('--dpop');
const alg = flag('alg', 'RS256');
const tokenCount = dpop ? 1 : Number(flag('tokens', '1'));
const low = Number(flag('low', dpop ? '1000' : '2000'));
const high = Number(flag('high', dpop ? '3000' : '6000'));
const root = fileURLToPath(new URL('..', import.meta.url));
const builds = [['working tree', join(root, 'dist')]];
if (flag('baseline')) builds.unshift(['baseline', join(resolve(flag('baseline')), 'dist')]);
if (dpop) builds.push(['floor (raw node:crypto)', undefined]);

const { SignJWT, exportJWK, generateKeyPair } = await import('jose');
const work = mkdtempSync(join(tmpdir(), 'ojv-instructions-'));
const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg, use: 'sig' };
writeFileSync(join(work, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
const now = Math.floor(Date.now() / 1000);
const proofKey = dpop ? await generateKeyPair('ES256', { extractable: true }) : undefined;
const { createDpopProof, dpopThumbprint } = dpop
  ? await import(pathToFileURL(join(root, 'dist/testing/index.js')).href)
  : {};
const jkt = dpop ? await dpopThumbprint(proofKey) : undefined;
const lines = [];
for (let i = 0; i < tokenCount; i++) {
  lines.push(
    await new SignJWT({ scope: 'read', client_id: 'bench', n: i, ...(dpop ? { cnf: { jkt } } : {}) })
      .setProtectedHeader({ alg, kid: 'k1', typ: 'at+jwt' })
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setSubject(`user-${i}`)
      .setIssuedAt(now)
      .setExpirationTime(now + 86_400)
      .setJti(`jti-${i}`)
      .sign(privateKey),
  );
}
writeFileSync(join(work, 'tokens.txt'), lines.join('\n'));
if (dpop) {
  const proofs = [];
  for (let i = 0; i < WARM_UP + high; i++) {
    proofs.push(
      await createDpopProof({ key: proofKey, method: 'GET', url: DPOP_URL, accessToken: lines[0] }),
    );
  }
  const proofJwk = await exportJWK(proofKey.publicKey);
  const keys = { tokenJwk: jwk, tokenAlg: alg, proofJwk, proofAlg: 'ES256', jkt };
  writeFileSync(join(work, 'dpop.json'), JSON.stringify({ ...keys, proofs }));
}

/** The main thread's instruction count for one run of `count` verifies (requests, floors). */
function mainThreadInstructions(dist, count) {
  const mode = dist === undefined ? 'floor' : dpop ? 'dpop' : 'verify';
  const out = mkdtempSync(join(work, 'run-'));
  execFileSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(out, 'callgrind.out')}`,
      process.execPath,
      '--single-threaded',
      '--predictable-gc-schedule',
      '--hash-seed=42',
      '--random-seed=42',
      fileURLToPath(import.meta.url),
      '--child',
      mode,
      String(dist),
      work,
      String(count),
    ],
    { stdio: ['ignore', 'ignore', 'ignore'] },
  );
  // With --separate-threads the main thread's file ends in -01.
  const file = readdirSync(out).find((name) => name.endsWith('-01'));
  const summary = readFileSync(join(out, file), 'utf8').match(/^summary: (\d+)/m);
  return Number(summary[1]);
}

try {
  const rows = [];
  for (const [label, dist] of builds) {
    const perVerify = (mainThreadInstructions(dist, high) - mainThreadInstructions(dist, low)) / (high - low);
    if (dpop)
      rows.push({
        build: label,
        'token alg': alg,
        proof: 'ES256',
        'instructions per request': Math.round(perVerify),
      });
    else
      rows.push({ build: label, alg, tokens: tokenCount, 'instructions per verify': Math.round(perVerify) });
  }
  if (dpop) {
    const floor = rows.at(-1)['instructions per request'];
    for (const row of rows) row['floor ÷ this'] = (floor / row['instructions per request']).toFixed(3);
  }
  console.table(rows);
} finally {
  rmSync(work, { recursive: true, force: true });
}

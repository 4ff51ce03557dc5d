#!/usr/bin/env node
// Main-thread instructions per warm verify, counted by callgrind: deterministic where the
// clock on this VM is not. For each build given (the working tree's dist/, and optionally
// an older build's folder), runs Node under valgrind twice, with LOW and HIGH verifies of
// the same tokens, and prints (HIGH − LOW run's main-thread Ir) ÷ (HIGH − LOW): the cost of
// one more verify, start-up and warm-up cancelled out.
//
//   node bench/instructions.mjs [--alg=RS256] [--tokens=1] [--low=2000] [--high=6000] [--baseline=DIR]
//
// --tokens=1 repeats one token (the bench's "one token, 1 in flight" row); more cycles
// through that many distinct tokens. One verify in flight, no verified-token cache; the
// JWKS comes from an in-process fetch stub, tokens from a file signed beforehand.
// (Internal mode: --child <dist> <tokens file> <jwks file> <count>.)
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const ISSUER = 'https://issuer.bench';
const AUDIENCE = 'https://api.bench';

if (args[0] === '--child') {
  const [, dist, tokensFile, jwksFile, count] = args;
  const { JwtVerifier } = await import(pathToFileURL(join(dist, 'index.js')).href);
  const tokens = readFileSync(tokensFile, 'utf8').trim().split('\n');
  const jwks = readFileSync(jwksFile, 'utf8');
  const verifier = new JwtVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: `${ISSUER}/jwks`,
    fetch: async () => new Response(jwks, { headers: { 'content-type': 'application/json' } }),
  });
  for (let i = 0; i < 300; i++) await verifier.verify(tokens[i % tokens.length]);
  for (let i = 0, n = Number(count); i < n; i++) await verifier.verify(tokens[i % tokens.length]);
  process.exit(0);
}

const flag = (name, fallback) => args.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? fallback;
const alg = flag('alg', 'RS256');
const tokenCount = Number(flag('tokens', '1'));
const low = Number(flag('low', '2000'));
const high = Number(flag('high', '6000'));
const root = fileURLToPath(new URL('..', import.meta.url));
const builds = [['working tree', join(root, 'dist')]];
if (flag('baseline')) builds.unshift(['baseline', join(resolve(flag('baseline')), 'dist')]);

const { SignJWT, exportJWK, generateKeyPair } = await import('jose');
const work = mkdtempSync(join(tmpdir(), 'ojv-instructions-'));
const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg, use: 'sig' };
writeFileSync(join(work, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
const now = Math.floor(Date.now() / 1000);
const lines = [];
for (let i = 0; i < tokenCount; i++) {
  lines.push(
    await new SignJWT({ scope: 'read', client_id: 'bench', n: i })
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

/** The main thread's instruction count for one run of `count` verifies. */
function mainThreadInstructions(dist, count) {
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
      dist,
      join(work, 'tokens.txt'),
      join(work, 'jwks.json'),
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
    rows.push({ build: label, alg, tokens: tokenCount, 'instructions per verify': Math.round(perVerify) });
  }
  console.table(rows);
} finally {
  rmSync(work, { recursive: true, force: true });
}

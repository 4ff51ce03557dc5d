// verifyIdToken in real headless Chromium, as docs/spa-pkce.md step 5 shows it: the built
// main entry (dist/index.js, bundled for the browser by esbuild, so `#signature` resolves to
// the jose/Web Crypto path) fetches the stub issuer's metadata and JWKS over CORS and checks
// ID tokens signed on the Node side: nonce, at_hash (Web Crypto SHA-256), the signature.
import { existsSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type TestIssuer, createTestIssuer } from '../../src/testing/index.js';
import { idTokenHash } from '../../src/verify/id-token.js';
import { close, listen } from '../support/network.js';
import { readResult, useChromium } from './harness.js';

const CLIENT_ID = 'browser-spa';
const root = fileURLToPath(new URL('../../', import.meta.url));

let issuer: TestIssuer;
let app: Server;
let appOrigin: string;

/** The page: verifies each case with the bundle and reports `{ name: sub | error code }`. */
function page(config: Record<string, unknown>): string {
  return `<!doctype html><html><head><meta charset="utf-8"></head><body><pre id="result"></pre>
<script type="module">
import { JwtVerifier, verifyIdToken } from '/bundle.js';
const config = ${JSON.stringify(config)};
const verifier = new JwtVerifier({ issuer: config.issuer, audience: config.clientId });
const outcome = (promise) => promise.then((r) => r.payload.sub, (e) => e.code ?? e.name + ': ' + e.message);
const result = {};
for (const [name, [idToken, options]] of Object.entries(config.cases)) {
  result[name] = await outcome(verifyIdToken(verifier, idToken, options));
}
result.subtle = typeof crypto.subtle.digest;
document.getElementById('result').textContent = JSON.stringify(result);
</script></body></html>`;
}

beforeAll(async () => {
  if (!existsSync(`${root}dist/index.js`)) {
    throw new Error('dist/index.js is missing: run `npm run build` before this test (CI does)');
  }
  const bundled = await build({
    entryPoints: ['dist/index.js'],
    absWorkingDir: root,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  const bundle = bundled.outputFiles[0]!.contents;
  expect(bundled.outputFiles[0]!.text).not.toMatch(/node:crypto|createPublicKey/);

  issuer = await createTestIssuer({ listen: true, algorithms: ['ES256'] });
  const accessToken = 'an-opaque-access-token';
  const good = await issuer.sign({
    sub: 'alice',
    aud: CLIENT_ID,
    nonce: 'nonce-1',
    at_hash: await idTokenHash('ES256', accessToken),
  });
  const [h, p, s] = good.split('.') as [string, string, string];
  const tampered = `${h}.${p}.${s.startsWith('A') ? `B${s.slice(1)}` : `A${s.slice(1)}`}`;
  const html = page({
    issuer: issuer.issuer,
    clientId: CLIENT_ID,
    cases: {
      valid: [good, { nonce: 'nonce-1', accessToken }],
      wrongNonce: [good, { nonce: 'nonce-2', accessToken }],
      wrongAccessToken: [good, { nonce: 'nonce-1', accessToken: 'another-access-token' }],
      tampered: [tampered, { nonce: 'nonce-1' }],
      otherClient: [
        await issuer.sign({ sub: 'bob', aud: 'other-app', nonce: 'nonce-1' }),
        { nonce: 'nonce-1' },
      ],
    },
  });
  app = createServer((req, res) => {
    if (req.url === '/bundle.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else res.writeHead(404).end();
  });
  appOrigin = `http://127.0.0.1:${await listen(app)}`;
}, 60_000);

afterAll(async () => {
  if (app) await close(app);
  await issuer?.close();
});

const tab = useChromium();

describe('verifyIdToken in Chromium (the main entry built for the browser)', () => {
  it('verifies an ID token and refuses a wrong nonce, access token, signature or client', async () => {
    await tab.page.goto(`${appOrigin}/`);
    const result = await readResult(tab.page);
    expect(tab.pageErrors).toEqual([]);
    expect(result).toEqual({
      valid: 'alice',
      wrongNonce: 'ERR_CLAIM_INVALID',
      wrongAccessToken: 'ERR_CLAIM_INVALID',
      tampered: 'ERR_SIGNATURE_INVALID',
      otherClient: 'ERR_AUDIENCE_MISMATCH',
      subtle: 'function',
    });
    // The page fetched the metadata and the JWKS itself, once.
    expect(issuer.requests).toMatchObject({ metadata: 1, jwks: 1 });
  });
});

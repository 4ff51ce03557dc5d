// One job of the per-runtime bench in a browser page (Chromium through playwright,
// bench/chromium.mjs). Bundled by esbuild with the browser conditions, so `oauth-jwt-verify`
// is the bench's copy of the package on its Web Crypto path (signature-web.js). The job,
// tokens included, comes from /job.json; the result goes to #result as JSON.
import { JwtVerifier } from 'oauth-jwt-verify';
import { compareContenders, createAll, heapGrowth } from './measure.mjs';
import { WEB_CONTENDERS } from './web-contenders.mjs';

/** What a browser can run: ours and the Web API contenders (no node:crypto). */
const BROWSER_CONTENDERS = {
  ours: {
    async create({ issuer, audience }, options = {}) {
      const verifier = new JwtVerifier({ issuer, audience, ...options });
      return (token) => verifier.verify(token);
    },
  },
  'ours-cached': {
    create: (context) => BROWSER_CONTENDERS.ours.create(context, { cache: { verifiedTokens: 10_000 } }),
  },
  ...WEB_CONTENDERS,
};

const runtime = `chromium ${navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? navigator.userAgent}`;
const scenarios = {
  async compare(job) {
    const names = job.contenders.filter((name) => BROWSER_CONTENDERS[name]);
    const compared = await compareContenders(BROWSER_CONTENDERS, names, job.context, {
      list: job.tokens,
      inFlight: job.inFlight,
      rounds: job.rounds,
      sliceMs: job.sliceMs,
    });
    return { signaturePath: 'signature-web.js', ...compared };
  },

  async memory(job) {
    const { verifiers, missing } = await createAll(BROWSER_CONTENDERS, [job.contender], job.context);
    const verify = verifiers[job.contender];
    if (!verify) return { unsupported: missing[job.contender] };
    return heapGrowth(verify, job.tokens);
  },
};

let result;
try {
  const job = await (await fetch('/job.json')).json();
  result = { ok: true, runtime, ...(await scenarios[job.scenario](job)) };
} catch (error) {
  result = { ok: false, runtime, error: String(error?.stack ?? error) };
}
document.getElementById('result').textContent = JSON.stringify(result);

// The HTML pages of the login and logout endpoints: escaping, one stylesheet, and the headers
// that keep them inert (a strict Content-Security-Policy, no framing, no caching, no referrer).
import { randomToken } from '../random.js';

const ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Text made safe for HTML text and for a double-quoted attribute value. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (character) => ENTITIES[character]!);
}

/** A URI scheme as a CSP scheme-source accepts it (RFC 3986 §3.1). */
const SCHEME = /^[a-z][a-z\d+.-]*:$/i;

/**
 * The CSP source a browser must be allowed to be sent to after the form's POST: CSP's
 * `form-action` also governs the redirects that follow a submission, so the client's redirect
 * URI is allowed besides `'self'` (its origin for http(s), its scheme for an app's custom one).
 */
export function formTargetSource(uri: string): string | undefined {
  const url = new URL(uri);
  if (url.protocol === 'http:' || url.protocol === 'https:') return url.origin;
  // The authorization request's checks refused the schemes that run code (javascript:, data:, …).
  return SCHEME.test(url.protocol) ? url.protocol : undefined;
}

const STYLE = `
:root { color-scheme: light; font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2430; background: #eef1f5; }
body { margin: 0; padding: 2rem 1rem; }
main { max-width: 34rem; margin: 0 auto; background: #fff; border-radius: 12px; box-shadow: 0 1px 3px #0002, 0 8px 24px #0001; padding: 1.75rem 2rem; }
h1 { font-size: 1.4rem; margin: 0 0 .25rem; }
h2 { font-size: 1rem; margin: 1.5rem 0 .5rem; }
p { margin: .5rem 0; }
.dev { display: inline-block; font-size: .75rem; font-weight: 600; letter-spacing: .04em; text-transform: uppercase; color: #8a4b00; background: #fff1dc; border-radius: 4px; padding: .1rem .45rem; }
.request { color: #4a5568; }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: #f1f3f7; border-radius: 4px; padding: .05rem .3rem; overflow-wrap: anywhere; }
ul.scopes { display: flex; flex-wrap: wrap; gap: .35rem; list-style: none; padding: 0; margin: .35rem 0 0; }
.error { color: #8b1a1a; background: #fdecec; border-left: 4px solid #c53030; padding: .5rem .75rem; border-radius: 4px; }
.users { display: grid; gap: .5rem; }
.user { text-align: left; width: 100%; }
.user small { display: block; color: #4a5568; font-weight: 400; }
label { display: block; font-weight: 600; margin: .75rem 0 .25rem; }
label small { font-weight: 400; color: #4a5568; }
input[type=text], textarea { box-sizing: border-box; width: 100%; font: inherit; padding: .45rem .6rem; border: 1px solid #b8c0cc; border-radius: 6px; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; min-height: 5.5rem; }
button { font: inherit; font-weight: 600; padding: .55rem 1rem; border-radius: 6px; border: 1px solid #b8c0cc; background: #f7f8fa; color: #1d2430; cursor: pointer; }
button:hover, button:focus-visible { border-color: #2b59c3; }
button.primary { background: #2b59c3; border-color: #2b59c3; color: #fff; }
.actions { display: flex; gap: .5rem; margin-top: 1rem; }
`;

/** An HTML page with its headers. `formTargets` are the CSP sources its forms may lead to. */
export function safePage(
  status: number,
  page: { title: string; body: string; formTargets?: readonly string[] },
  headers: Record<string, string> = {},
): Response {
  const nonce = randomToken(16);
  const formAction = page.formTargets ? ["'self'", ...page.formTargets].join(' ') : "'none'";
  const html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)}</title>
<style nonce="${nonce}">${STYLE}</style>
</head><body><main>
${page.body}
</main></body></html>
`;
  return new Response(html, {
    status,
    headers: {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': `default-src 'none'; style-src 'nonce-${nonce}'; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      'referrer-policy': 'no-referrer',
      ...headers,
    },
  });
}

/** A page that only says something (a refused request, a finished logout). */
export function messagePage(
  status: number,
  title: string,
  message: string,
  headers?: Record<string, string>,
) {
  return safePage(
    status,
    {
      title,
      body: `<span class="dev">Development identity provider</span>\n<h1>${escapeHtml(title)}</h1>\n<p${status >= 400 ? ' class="error" role="alert"' : ''}>${escapeHtml(message)}</p>`,
    },
    headers,
  );
}

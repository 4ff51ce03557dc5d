// The login page of the interactive /authorize: pick a configured user, or type a subject,
// claims (JSON) and an acr; Cancel. Plain HTML forms, no script, every echoed value escaped.
import type { TestUser } from '../types.js';
import { escapeHtml } from './html.js';

/** The names of the page's own fields; a request's parameters of the same names are not carried. */
export const FORM_FIELDS: readonly string[] = ['user', 'sub', 'claims', 'acr', 'action', 'csrf'];

/** What the page shows and carries. */
export interface LoginPageModel {
  /** Where the forms are sent: the authorization endpoint's path. */
  action: string;
  clientId: string;
  redirectUri: string;
  scope: string;
  users: readonly TestUser[];
  /** The authorization request's parameters, sent back as hidden inputs. */
  request: URLSearchParams;
  /** The anti-CSRF token bound to this browser and request. */
  csrf: string;
  /** What was typed before (shown again after an error); `acr` starts as the first `acr_values`. */
  typed: { sub: string; claims: string; acr: string };
  /** Why the last submission was refused. */
  error?: string;
}

/** A short description of a configured user for its button: name and email when configured. */
function describeUser(user: TestUser): string {
  const claims = user.claims ?? {};
  const parts = [claims.name, claims.email, user.acr && `acr ${user.acr}`];
  return parts.filter((part): part is string => typeof part === 'string' && part !== '').join(' · ');
}

function hiddenInputs(model: LoginPageModel): string {
  const fields = [...model.request]
    .filter(([name]) => !FORM_FIELDS.includes(name))
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`);
  fields.push(`<input type="hidden" name="csrf" value="${escapeHtml(model.csrf)}">`);
  return fields.join('\n');
}

function usersForm(model: LoginPageModel, hidden: string): string {
  if (model.users.length === 0) return '';
  const buttons = model.users.map((user) => {
    const about = describeUser(user);
    return `<button class="user" type="submit" name="user" value="${escapeHtml(user.sub)}">${escapeHtml(user.sub)}${
      about ? `<small>${escapeHtml(about)}</small>` : ''
    }</button>`;
  });
  return `<h2>Pick a user</h2>
<form method="post" action="${escapeHtml(model.action)}" class="users">
${hidden}
${buttons.join('\n')}
</form>`;
}

/** The page's body (the page's frame, styles and headers are {@link safePage}'s). */
export function loginPageBody(model: LoginPageModel): string {
  const hidden = hiddenInputs(model);
  const scopes = model.scope.split(' ').filter(Boolean);
  const scopeList = scopes.length
    ? `<ul class="scopes">${scopes.map((scope) => `<li><code>${escapeHtml(scope)}</code></li>`).join('\n')}</ul>`
    : '<em>(none)</em>';
  const error = model.error ? `<p class="error" role="alert">${escapeHtml(model.error)}</p>` : '';
  return `<span class="dev">Development identity provider</span>
<h1>Log in</h1>
<div class="request"><code>${escapeHtml(model.clientId)}</code> asks for the scopes
${scopeList}</div>
<p class="request">and will get the answer at <code>${escapeHtml(model.redirectUri)}</code>.</p>
${error}
${usersForm(model, hidden)}
<h2>${model.users.length ? 'Or log in as anyone' : 'Log in as anyone'}</h2>
<form method="post" action="${escapeHtml(model.action)}">
${hidden}
<label for="sub">Subject <small>(sub)</small></label>
<input type="text" id="sub" name="sub" value="${escapeHtml(model.typed.sub)}" autocomplete="off" spellcheck="false">
<label for="claims">Claims <small>(a JSON object, optional: added to the ID and access tokens)</small></label>
<textarea id="claims" name="claims" spellcheck="false" placeholder="{&quot;name&quot;: &quot;Alice&quot;, &quot;roles&quot;: [&quot;admin&quot;]}">${escapeHtml(model.typed.claims)}</textarea>
<label for="acr">Authentication context <small>(acr, optional)</small></label>
<input type="text" id="acr" name="acr" value="${escapeHtml(model.typed.acr)}" autocomplete="off" spellcheck="false">
<div class="actions">
<button class="primary" type="submit" name="action" value="login">Log in</button>
<button type="submit" name="action" value="cancel">Cancel</button>
</div>
</form>`;
}

// The interactive /authorize: a session answers at once, prompt=none never shows a page,
// prompt=login and max_age ask again, a login_hint logs in without the page, else the page;
// its form comes back as a POST that is checked again from the start.
import type { AuthorizationRequest } from '../authorization-request.js';
import type { IssuerContext } from '../context.js';
import { messagePage, safePage, formTargetSource } from './html.js';
import { FORM_FIELDS, loginPageBody } from './page.js';
import { type LoginSession, cookieValues } from './sessions.js';
import { type Login, loginAs, typedLogin } from './users.js';

const PROMPTS = ['none', 'login', 'consent', 'select_account'];

/** The request without the page's own fields: what the form's token is bound to. */
function requestParams(params: URLSearchParams): URLSearchParams {
  return new URLSearchParams([...params].filter(([name]) => !FORM_FIELDS.includes(name)));
}

/** `prompt` and `max_age` (OpenID Connect Core §3.1.2.1), or what is wrong with them. */
function readPrompt(params: URLSearchParams): { prompt: Set<string>; maxAge?: number } | string {
  const prompt = new Set((params.get('prompt') ?? '').split(' ').filter(Boolean));
  const unknown = [...prompt].filter((value) => !PROMPTS.includes(value));
  if (unknown.length) return `prompt ${unknown.join(' ')} is not supported`;
  if (prompt.has('none') && prompt.size > 1) return 'prompt=none cannot be combined with other values';
  const maxAge = params.get('max_age');
  if (maxAge === null) return { prompt };
  if (!/^\d{1,10}$/.test(maxAge)) return 'max_age must be a number of seconds';
  return { prompt, maxAge: Number(maxAge) };
}

/** Whether `session` may answer without asking the user again. */
function stillValid(
  session: LoginSession | undefined,
  { prompt, maxAge }: { prompt: Set<string>; maxAge?: number },
  hint: string | null,
  nowSeconds: number,
): session is LoginSession {
  if (!session || prompt.has('login') || prompt.has('select_account')) return false;
  if (hint && hint !== session.sub) return false;
  // max_age=0 is prompt=login (OpenID Connect Core §3.1.2.1).
  return maxAge === undefined || (maxAge > 0 && nowSeconds - session.authTime <= maxAge);
}

/** Logs `login` in now: a new session (a new cookie) and a code. */
function logIn(ctx: IssuerContext, auth: AuthorizationRequest, login: Login): Response {
  const authTime = Math.floor(ctx.now() / 1000);
  const cookie = ctx.sessions.start(login, authTime);
  return auth.issueCode(login, authTime, { 'set-cookie': cookie });
}

/** The login page for `auth`, bound to this browser (a browser without a cookie gets one). */
async function showPage(
  ctx: IssuerContext,
  request: Request,
  auth: AuthorizationRequest,
  status = 200,
  error?: string,
): Promise<Response> {
  const params = auth.params;
  const existing = cookieValues(request)[0];
  const browser = existing === undefined ? ctx.sessions.newBrowser() : { id: existing, cookie: undefined };
  const bound = requestParams(params);
  const typed =
    request.method === 'POST' && params.has('action')
      ? { sub: params.get('sub') ?? '', claims: params.get('claims') ?? '', acr: params.get('acr') ?? '' }
      : { sub: '', claims: '', acr: (params.get('acr_values') ?? '').split(' ').find(Boolean) ?? '' };
  const target = formTargetSource(auth.redirectUri);
  return safePage(
    status,
    {
      title: 'Log in · development identity provider',
      body: loginPageBody({
        action: new URL(request.url).pathname,
        clientId: auth.clientId,
        redirectUri: auth.redirectUri,
        scope: params.get('scope') ?? '',
        users: ctx.users,
        request: bound,
        csrf: await ctx.sessions.formToken(browser.id, bound),
        typed,
        ...(error ? { error } : {}),
      }),
      formTargets: target ? [target] : [],
    },
    browser.cookie ? { 'set-cookie': browser.cookie } : {},
  );
}

/** The page's form, sent back: checked (token, then choice) before anyone logs in. */
async function submitted(
  ctx: IssuerContext,
  request: Request,
  auth: AuthorizationRequest,
): Promise<Response> {
  const form = auth.params;
  const genuine = await ctx.sessions.checkFormToken(
    form.get('csrf'),
    cookieValues(request)[0],
    requestParams(form),
  );
  if (!genuine) {
    return messagePage(
      403,
      'Login form refused',
      'This login form has expired or was not sent from the login page in this browser. Start the login again from the application.',
    );
  }
  const user = form.get('user');
  if (user !== null) {
    if (!ctx.users.some((candidate) => candidate.sub === user)) {
      return showPage(ctx, request, auth, 400, 'There is no such user: pick one of the list.');
    }
    return logIn(ctx, auth, loginAs(ctx.users, user, auth.params));
  }
  switch (form.get('action')) {
    case 'cancel':
      return auth.refuse('access_denied', 'the user cancelled the login');
    case 'login': {
      const login = typedLogin({ sub: form.get('sub'), claims: form.get('claims'), acr: form.get('acr') });
      if ('problem' in login) return showPage(ctx, request, auth, 400, login.problem);
      return logIn(ctx, auth, login);
    }
    default:
      return showPage(ctx, request, auth, 400, 'Pick a user, log in or cancel.');
  }
}

/**
 * The interactive authorization endpoint, after the request's checks: the page's form when it
 * is one, else a session, `prompt`, `max_age` and `login_hint` decide between answering at
 * once and showing the login page.
 */
export async function interactiveAuthorize(
  ctx: IssuerContext,
  request: Request,
  auth: AuthorizationRequest,
): Promise<Response> {
  const params = auth.params;
  if (request.method === 'POST' && (params.has('action') || params.has('user'))) {
    return submitted(ctx, request, auth);
  }
  const prompt = readPrompt(params);
  if (typeof prompt === 'string') return auth.refuse('invalid_request', prompt);
  const session = ctx.sessions.current(request);
  const hint = params.get('login_hint') || null;
  if (stillValid(session, prompt, hint, Math.floor(ctx.now() / 1000))) {
    return auth.issueCode(session, session.authTime);
  }
  if (prompt.prompt.has('none')) {
    return auth.refuse('login_required', 'prompt=none, and no login session that answers the request');
  }
  if (hint) return logIn(ctx, auth, loginAs(ctx.users, hint, auth.params));
  return showPage(ctx, request, auth);
}

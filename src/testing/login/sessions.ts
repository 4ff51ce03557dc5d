// The login page's sessions: who logged in and when, found by a random browser cookie (never
// a token), bounded and expiring; and the anti-CSRF tokens of the page's forms.
import { encodeBase64Url } from '../../token/base64url.js';
import { randomToken } from '../random.js';
import type { Login } from './users.js';

/** A login remembered for a browser. */
export interface LoginSession extends Login {
  /** When the user logged in (NumericDate): the ID token's `auth_time`. */
  readonly authTime: number;
}

interface Entry {
  session: LoginSession;
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** The cookie's name; its path keeps each issuer's cookie to that issuer. */
export const SESSION_COOKIE = 'ojv_login';
/** A working day: long enough for development, short enough not to surprise. */
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
/** Sessions kept at most; the oldest goes first. */
export const MAX_SESSIONS = 1000;
/** How long a login page's form can be sent back. */
export const FORM_TTL_SECONDS = 30 * 60;

/** The values of every `ojv_login` cookie the request carries (one per matching path). */
export function cookieValues(request: Request): string[] {
  const header = request.headers.get('cookie') ?? '';
  return header
    .split(';')
    .map((pair) => pair.trim())
    .filter((pair) => pair.startsWith(`${SESSION_COOKIE}=`))
    .map((pair) => pair.slice(SESSION_COOKIE.length + 1))
    .filter((value) => /^[A-Za-z0-9_-]{1,64}$/.test(value));
}

/**
 * The sessions of one issuer's login page, in memory. A browser is known by a random id in
 * an `HttpOnly; SameSite=Lax` cookie limited to the issuer's path (`Secure` on https); the id
 * changes at each login, so an id planted before the login is worth nothing after it.
 */
export class LoginSessions {
  readonly #sessions = new Map<string, Entry>();
  readonly #cookiePath: string;
  readonly #secure: boolean;
  readonly #now: () => number;
  #formKey: Promise<CryptoKey> | undefined;

  constructor(issuer: string, now: () => number) {
    const url = new URL(issuer);
    // A `;` or `,` in the path would end the attribute: percent-encode them.
    this.#cookiePath = (url.pathname.replace(/\/+$/, '') || '/').replace(/[;,]/g, encodeURIComponent);
    this.#secure = url.protocol === 'https:';
    this.#now = now;
  }

  /** The live session of the request's browser, if any. */
  current(request: Request): LoginSession | undefined {
    const now = this.#now();
    for (const id of cookieValues(request)) {
      const entry = this.#sessions.get(id);
      if (entry && entry.expiresAt > now) return entry.session;
      if (entry) this.#sessions.delete(id);
    }
    return undefined;
  }

  /** Remembers a login under a new id; returns the `Set-Cookie` value that hands it to the browser. */
  start(login: Login, authTime: number): string {
    const id = randomToken();
    this.#sessions.set(id, {
      session: { ...login, authTime },
      expiresAt: this.#now() + SESSION_TTL_SECONDS * 1000,
    });
    for (const oldest of this.#sessions.keys()) {
      if (this.#sessions.size <= MAX_SESSIONS) break;
      this.#sessions.delete(oldest);
    }
    return this.cookie(id, SESSION_TTL_SECONDS);
  }

  /**
   * Ends the request's session and every session of `sub` (a logout sent by a cross-site
   * POST carries no `SameSite=Lax` cookie; its `id_token_hint` names the user). Returns the
   * `Set-Cookie` value that clears the cookie.
   */
  end(request: Request, sub?: string): string {
    for (const id of cookieValues(request)) this.#sessions.delete(id);
    if (sub !== undefined) {
      for (const [id, entry] of this.#sessions) if (entry.session.sub === sub) this.#sessions.delete(id);
    }
    return this.cookie('', 0);
  }

  /** A new browser id and its cookie, for a browser that has none yet (the form binds to it). */
  newBrowser(): { id: string; cookie: string } {
    const id = randomToken();
    return { id, cookie: this.cookie(id, SESSION_TTL_SECONDS) };
  }

  /**
   * The form's anti-CSRF token: when it was made and an HMAC of that, the browser's id and
   * the authorization request, so it is good only for this browser, this request and a while.
   */
  async formToken(browserId: string, request: URLSearchParams): Promise<string> {
    const issuedAt = Math.floor(this.#now() / 1000);
    return `${issuedAt}.${await this.#mac(issuedAt, browserId, request)}`;
  }

  /** Whether `token` is {@link formToken}'s for this browser and request, and recent. */
  async checkFormToken(token: string | null, browserId: string | undefined, request: URLSearchParams) {
    const match = /^(\d{1,12})\.([A-Za-z0-9_-]{43})$/.exec(token ?? '');
    if (!match || browserId === undefined) return false;
    const issuedAt = Number(match[1]);
    const age = this.#now() / 1000 - issuedAt;
    if (age < -60 || age > FORM_TTL_SECONDS) return false;
    return timingSafeEqual(match[2]!, await this.#mac(issuedAt, browserId, request));
  }

  async #mac(issuedAt: number, browserId: string, request: URLSearchParams): Promise<string> {
    this.#formKey ??= crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
    // Sorted, so the order in which a browser sends the hidden inputs back does not matter.
    const canonical = new URLSearchParams([...request].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    const data = new TextEncoder().encode(`${issuedAt}\n${browserId}\n${canonical}`);
    return encodeBase64Url(new Uint8Array(await crypto.subtle.sign('HMAC', await this.#formKey, data)));
  }

  cookie(value: string, maxAgeSeconds: number): string {
    const secure = this.#secure ? '; Secure' : '';
    return `${SESSION_COOKIE}=${value}; Path=${this.#cookiePath}; Max-Age=${maxAgeSeconds}; HttpOnly; SameSite=Lax${secure}`;
  }
}

function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return difference === 0;
}

// What the login page echoes stays inert: hostile client_id, redirect_uri, scope, state and
// typed claims come back as the same text, never as markup. Parsed as a browser parses.
import { describe, expect, it } from 'vitest';
import { createTestIssuer } from '../../src/testing/index.js';
import { HOSTILE, activeContent, fieldValue, parsePage } from '../support/login-page.js';
import { loginBrowser, press, visit } from './login-flow.js';

const issuer = await createTestIssuer({ interactiveLogin: true, users: [{ sub: '"><b>user</b>' }] });

describe('the login page with hostile parameters', () => {
  it.each(HOSTILE)('echoes %s as text in every place it appears', async (hostile) => {
    const browser = loginBrowser(issuer.fetch);
    const redirectUri = `http://127.0.0.1:5173/cb?next=${encodeURIComponent(hostile)}`;
    const { response, page } = await visit(issuer, browser, {
      client_id: hostile,
      redirect_uri: redirectUri,
      scope: `openid ${hostile}`,
      state: hostile,
      nonce: hostile,
      login_hint: '',
    });
    expect(response.status).toBe(200);
    expect(activeContent(page)).toEqual([]);
    // The same strings come back, unchanged, where the page shows or carries them.
    expect(fieldValue(page, 'client_id')).toBe(hostile);
    expect(fieldValue(page, 'redirect_uri')).toBe(redirectUri);
    expect(fieldValue(page, 'state')).toBe(hostile);
    expect(fieldValue(page, 'scope')).toBe(`openid ${hostile}`);
    expect(page.text).toContain(`${hostile} asks for the scopes`);
    const codes = page.elements.filter((element) => element.tagName === 'code');
    expect(codes.length).toBeGreaterThanOrEqual(3);
    // A configured user's sub is escaped too.
    expect(page.forms[0]!.buttons[0]!.value).toBe('"><b>user</b>');
    expect(page.elements.some((element) => element.tagName === 'b')).toBe(false);

    // Typed back in the claims box, with bad JSON: the page shows it again, still text.
    const visited = await visit(issuer, browser, { state: hostile });
    const shown = await press(visited, browser, 'action', 'login', {
      sub: hostile,
      claims: hostile,
      acr: hostile,
    });
    expect(shown.status).toBe(400);
    const reshown = parsePage(await shown.text());
    expect(activeContent(reshown)).toEqual([]);
    expect(fieldValue(reshown, 'claims')).toBe(hostile);
    expect(fieldValue(reshown, 'sub')).toBe(hostile);
    expect(fieldValue(reshown, 'acr')).toBe(hostile);
    expect(fieldValue(reshown, 'state')).toBe(hostile);
  });

  it('puts no hostile origin in the CSP: form-action names only the parsed origin of the redirect URI', async () => {
    const { response } = await visit(issuer, loginBrowser(issuer.fetch), {
      redirect_uri: "http://127.0.0.1:5173/cb?x='; script-src *",
    });
    expect(response.headers.get('content-security-policy')).toContain(
      "form-action 'self' http://127.0.0.1:5173; frame-ancestors",
    );
  });

  it.each([
    'javascript:alert(1)',
    ' JavaScript:alert(1)//',
    'data:text/html,<script>alert(1)</script>',
    'vbscript:x',
  ])('refuses the redirect URI %s before any page (400 JSON, no redirect)', async (redirectUri) => {
    const { response } = await visit(issuer, loginBrowser(issuer.fetch), { redirect_uri: redirectUri });
    expect(response.status).toBe(400);
    expect(response.headers.get('location')).toBeNull();
    expect(response.headers.get('content-type')).toBe('application/json');
    expect((await response.json()).error).toBe('invalid_request');
  });
});

// The stub issuer's login page as a browser without JavaScript sees it: parsed with parse5
// (the HTML standard's parser), its forms read and submitted by a client that keeps the
// session cookie, and the checks that what it echoes stays inert.
import { type DefaultTreeAdapterTypes, parse } from 'parse5';

type Element = DefaultTreeAdapterTypes.Element;
type Node = DefaultTreeAdapterTypes.Node;

/** Values that break out of text, attributes, textareas and URLs when not escaped. */
export const HOSTILE: readonly string[] = [
  '"><script>alert(1)</script>',
  "'><img src=x onerror=alert(1)>",
  '</textarea><script>alert(2)</script>',
  '<svg onload=alert(3)>',
  'javascript:alert(4)',
  '" onmouseover="alert(5)" x="',
  '&lt;script&gt;alert(6)&lt;/script&gt;',
  '</style><script>alert(7)</script>',
];

type FetchFn = (input: string | URL | Request, init?: RequestInit) => Promise<Response>;

/** A submit button of a form. */
export interface PageButton {
  name: string;
  value: string;
  text: string;
}

/** A form of the page: where it goes and what it sends (buttons apart). */
export interface PageForm {
  action: string;
  method: string;
  fields: [string, string][];
  buttons: PageButton[];
}

/** The parsed page. */
export interface ParsedPage {
  forms: PageForm[];
  /** Every element, in document order. */
  elements: Element[];
  /** The text of the body, whitespace collapsed. */
  text: string;
}

const attr = (element: Element, name: string) => element.attrs.find((a) => a.name === name)?.value;

function walk(node: Node, visit: (element: Element) => void): void {
  if ('tagName' in node) visit(node);
  const children = 'content' in node && node.nodeName === 'template' ? node.content.childNodes : [];
  for (const child of [...('childNodes' in node ? node.childNodes : []), ...children]) walk(child, visit);
}

function textOf(node: Node): string {
  if (node.nodeName === '#text') return (node as DefaultTreeAdapterTypes.TextNode).value;
  return 'childNodes' in node ? node.childNodes.map(textOf).join('') : '';
}

/** Parses a page as a browser would and reads its forms. */
export function parsePage(html: string): ParsedPage {
  const elements: Element[] = [];
  walk(parse(html), (element) => elements.push(element));
  const forms = elements
    .filter((element) => element.tagName === 'form')
    .map((form) => {
      const inside: Element[] = [];
      walk(form, (element) => inside.push(element));
      const fields: [string, string][] = [];
      const buttons: PageButton[] = [];
      for (const control of inside) {
        const name = attr(control, 'name');
        if (name === undefined) continue;
        if (control.tagName === 'button') {
          buttons.push({ name, value: attr(control, 'value') ?? '', text: textOf(control).trim() });
        } else if (control.tagName === 'input') {
          fields.push([name, attr(control, 'value') ?? '']);
        } else if (control.tagName === 'textarea') {
          fields.push([name, textOf(control)]);
        }
      }
      return { action: attr(form, 'action') ?? '', method: attr(form, 'method') ?? 'get', fields, buttons };
    });
  const body = elements.find((element) => element.tagName === 'body');
  return { forms, elements, text: (body ? textOf(body) : '').replace(/\s+/g, ' ').trim() };
}

/** The value of the first field `name` among the page's forms. */
export function fieldValue(page: ParsedPage, name: string): string | undefined {
  return page.forms.flatMap((form) => form.fields).find(([field]) => field === name)?.[1];
}

/**
 * What in the page could run or send the user elsewhere: script elements, event-handler
 * attributes, `javascript:` URLs, and elements that load or frame something. Empty when inert.
 */
export function activeContent(page: ParsedPage): string[] {
  const found: string[] = [];
  const loaders = [
    'script',
    'iframe',
    'frame',
    'object',
    'embed',
    'img',
    'link',
    'base',
    'svg',
    'math',
    'meta',
  ];
  for (const element of page.elements) {
    if (loaders.includes(element.tagName) && !(element.tagName === 'meta' && !attr(element, 'http-equiv'))) {
      found.push(`<${element.tagName}>`);
    }
    for (const { name, value } of element.attrs) {
      if (/^on/i.test(name)) found.push(`${element.tagName}[${name}]`);
      if (
        /^\s*(javascript|data|vbscript):/i.test(value) &&
        ['href', 'src', 'action', 'formaction'].includes(name)
      ) {
        found.push(`${element.tagName}[${name}=${value}]`);
      }
    }
  }
  return found;
}

/** The visible controls without a `<label for>` (buttons are labelled by their text). */
export function unlabelledControls(page: ParsedPage): string[] {
  const labelled = new Set(
    page.elements.filter((element) => element.tagName === 'label').map((label) => attr(label, 'for')),
  );
  return page.elements
    .filter((element) => ['input', 'textarea', 'select'].includes(element.tagName))
    .filter((element) => attr(element, 'type') !== 'hidden')
    .filter((element) => !labelled.has(attr(element, 'id')))
    .map((element) => attr(element, 'name') ?? element.tagName);
}

/** A browser without JavaScript: it keeps the issuer's cookies and follows no redirect by itself. */
export interface LoginBrowser {
  /** The `Cookie` header it sends (`''` when it has none). */
  readonly cookie: string;
  /** The `Set-Cookie` headers of its last response. */
  readonly lastSetCookie: string | null;
  get(url: string | URL): Promise<Response>;
  /** Submits `form` of a page at `pageUrl`, with `button` pressed and `edits` typed in (or added). */
  submit(
    pageUrl: string | URL,
    form: PageForm,
    button?: PageButton,
    edits?: Record<string, string>,
  ): Promise<Response>;
  /** Forgets its cookies (a new browser). */
  clear(): void;
}

/** A {@link LoginBrowser} over `fetchFn` (the issuer's own `fetch`, or the global one). */
export function loginBrowser(fetchFn: FetchFn = fetch): LoginBrowser {
  const jar = new Map<string, string>();
  let lastSetCookie: string | null = null;
  const send = async (url: string | URL, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    if (jar.size) headers.set('cookie', [...jar].map(([name, value]) => `${name}=${value}`).join('; '));
    const response = await fetchFn(url, { ...init, headers, redirect: 'manual' });
    lastSetCookie = response.headers.get('set-cookie');
    for (const cookie of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = cookie.split(';');
      const [name = '', value = ''] = pair.trim().split('=');
      if (attributes.some((a) => /^\s*max-age=0$/i.test(a))) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  };
  return {
    get cookie() {
      return [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    },
    get lastSetCookie() {
      return lastSetCookie;
    },
    get: (url) => send(url),
    submit(pageUrl, form, button, edits = {}) {
      const body = new URLSearchParams();
      for (const [name, value] of form.fields)
        body.append(name, Object.hasOwn(edits, name) ? edits[name]! : value);
      for (const [name, value] of Object.entries(edits)) if (!body.has(name)) body.append(name, value);
      if (button) body.append(button.name, button.value);
      return send(new URL(form.action, pageUrl), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body,
      });
    },
    clear: () => jar.clear(),
  };
}

/** The button of `page` whose name and value are these. */
export function button(
  page: ParsedPage,
  name: string,
  value: string,
): { form: PageForm; button: PageButton } {
  for (const form of page.forms) {
    const found = form.buttons.find((candidate) => candidate.name === name && candidate.value === value);
    if (found) return { form, button: found };
  }
  throw new Error(`no button ${name}=${value} on the page`);
}

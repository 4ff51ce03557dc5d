// A strict reader of WWW-Authenticate values: RFC 9110 §11.6.1's grammar (a list of
// challenges, each an auth-scheme, then a token68 or auth-params as token=token or
// token=quoted-string), narrowed as RFC 6750 §3 narrows the quoted values (no `"` or `\` inside,
// so no quoted-pair), printable ASCII only, no empty list elements, no parameter twice in one
// challenge. Anything else throws, saying where.

/** One challenge: its scheme as written, its parameters by lower-case name, or its token68. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
  token68?: string;
}

const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*/;

/** Every challenge of a `WWW-Authenticate` value; throws for anything outside the grammar. */
export function parseChallenges(header: string): Challenge[] {
  if (typeof header !== 'string' || header === '') throw new Error('no WWW-Authenticate value');
  if (!/^[\x20-\x7e]*$/.test(header)) throw new Error(`not printable ASCII: ${JSON.stringify(header)}`);
  const n = header.length;
  let i = 0;
  const fail = (what: string): never => {
    throw new Error(`${what} at ${i} of ${JSON.stringify(header)}`);
  };
  const tokenEnd = (at: number) => {
    let j = at;
    while (j < n && TCHAR.test(header[j]!)) j++;
    return j;
  };
  const skipSpaces = (at: number) => {
    let j = at;
    while (j < n && header[j] === ' ') j++;
    return j;
  };
  /** An auth-param at `i` (token BWS "=" BWS value): its name, value and end, or undefined. */
  const readParam = (): { name: string; value: string; end: number } | undefined => {
    const nameEnd = tokenEnd(i);
    if (nameEnd === i) return undefined;
    let at = skipSpaces(nameEnd);
    if (header[at] !== '=') return undefined;
    at = skipSpaces(at + 1);
    if (header[at] === '"') {
      const close = header.indexOf('"', at + 1);
      if (close === -1) return fail('an unterminated quoted-string');
      const value = header.slice(at + 1, close);
      if (value.includes('\\')) return fail('a backslash inside a quoted-string');
      return { name: header.slice(i, nameEnd).toLowerCase(), value, end: close + 1 };
    }
    const valueEnd = tokenEnd(at);
    if (valueEnd === at) return undefined;
    return { name: header.slice(i, nameEnd).toLowerCase(), value: header.slice(at, valueEnd), end: valueEnd };
  };
  /** After a list separator: does an auth-param (not a new challenge) start at `i`? */
  const paramFollows = () => header[skipSpaces(tokenEnd(i))] === '=' && tokenEnd(i) > i;

  const challenges: Challenge[] = [];
  for (;;) {
    const schemeEnd = tokenEnd(i);
    if (schemeEnd === i) fail('expected an auth-scheme');
    const challenge: Challenge = { scheme: header.slice(i, schemeEnd), params: {} };
    challenges.push(challenge);
    i = schemeEnd;
    if (i === n) return challenges;
    if (header[i] === ' ') {
      i = skipSpaces(i);
      if (i === n) fail('trailing spaces after the scheme');
      if (header[i] !== ',') {
        const param = readParam();
        if (param === undefined) {
          const token68 = TOKEN68.exec(header.slice(i))?.[0];
          if (!token68) fail('expected a token68 or an auth-param');
          challenge.token68 = token68;
          i = skipSpaces(i + token68!.length);
          if (i === n) return challenges;
          if (header[i] !== ',') fail('expected "," after the token68');
          i = skipSpaces(i + 1);
          if (i === n) fail('an empty list element');
          continue;
        }
        for (let next: typeof param = param; ;) {
          if (Object.hasOwn(challenge.params, next.name)) fail(`the parameter ${next.name} twice`);
          challenge.params[next.name] = next.value;
          i = skipSpaces(next.end);
          if (i === n) return challenges;
          if (header[i] !== ',') fail('expected "," between auth-params');
          i = skipSpaces(i + 1);
          if (i === n || header[i] === ',') fail('an empty list element');
          if (!paramFollows()) break;
          next = readParam() ?? fail('expected an auth-param');
        }
        continue;
      }
    }
    i = skipSpaces(i);
    if (header[i] !== ',') fail('expected "," after the scheme');
    i = skipSpaces(i + 1);
    if (i === n || header[i] === ',') fail('an empty list element');
  }
}

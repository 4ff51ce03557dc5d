/** Duplicate JSON member names (RFC 7515 §5.2, RFC 7519 §4): the one reading every party agrees on. */
// Character codes the duplicate-member scan looks for.
const QUOTE = 0x22; // "
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/**
 * Whether an object text JSON.parse accepted, which gave `names` own properties, has each
 * member name once. It has at least `names` members and at most one more than it has commas,
 * so a text with `names - 1` commas in all (a flat payload) has no duplicate: a few
 * `indexOf` calls settle it. Otherwise the top-level members are counted.
 */
export function hasDistinctMembers(text: string, names: number): boolean {
  let commas = 0;
  for (let at = text.indexOf(','); at !== -1 && commas < names; at = text.indexOf(',', at + 1)) commas++;
  return commas + 1 === names || topLevelMemberCount(text) === names;
}

/**
 * How many members the top level of a JSON object text has (text JSON.parse accepted).
 * JSON.parse makes one own property per distinct member name (`__proto__` included), so as
 * many members as own keys means no name occurred twice, escaped or not: a count of the
 * commas between members is all the common case needs, without collecting the names.
 */
function topLevelMemberCount(text: string): number {
  if (text.includes('\\')) return -1; // an escaped quote would end a string early: let the full scan decide
  let depth = 0;
  let commas = 0;
  let empty = true;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      empty = false;
      i = text.indexOf('"', i + 1);
      if (i === -1) return -1;
    } else if (char === COMMA) {
      if (depth === 1) commas++;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth++;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    }
  }
  return empty ? 0 : commas + 1;
}

/**
 * The first top-level member name of a JSON object text that occurs twice, after escapes
 * are decoded (`"\u0061lg"` is `"alg"`). RFC 7515 §5.2 and RFC 7519 §4 let a JWT parser
 * refuse duplicates; JSON.parse keeps the last one, and another parser may keep the first,
 * so refusing is the only reading every party agrees on. Expects text JSON.parse accepted.
 */
export function duplicateMemberName(text: string): string | undefined {
  const seen = new Set<string>();
  let depth = 0;
  let expectName = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (char === QUOTE) {
      let end = i + 1;
      while (text.charCodeAt(end) !== QUOTE) end += text.charCodeAt(end) === BACKSLASH ? 2 : 1;
      if (depth === 1 && expectName) {
        const raw = text.slice(i + 1, end);
        const name = raw.includes('\\') ? (JSON.parse(text.slice(i, end + 1)) as string) : raw;
        if (seen.has(name)) return name;
        seen.add(name);
        expectName = false;
      }
      i = end;
    } else if (char === OPEN_BRACE || char === OPEN_BRACKET) {
      depth++;
      expectName = depth === 1;
    } else if (char === CLOSE_BRACE || char === CLOSE_BRACKET) {
      depth--;
    } else if (char === COMMA && depth === 1) {
      expectName = true;
    }
  }
  return undefined;
}

/**
 * Runtime helpers of the scalar functions: called from generated code with non-NULL arguments.
 * Strings count characters as Unicode code points (as Flink does: an emoji is one character); the
 * common case without surrogate pairs takes the plain UTF-16 path.
 */
import { createHash, randomUUID } from 'node:crypto';

export const SURROGATE = /[\uD800-\uDFFF]/;

export function hasSurrogates(s: string): boolean {
  return SURROGATE.test(s);
}

/** Number of code points. */
export function charLength(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/** Flink's SUBSTRING(s FROM pos [FOR len]): 1-based; pos 0 is 1; negative pos counts from the end; len < 0 is NULL. */
export function substring(s: string, pos: number, len?: number): string | null {
  const length = len === undefined ? 2147483647 : len;
  if (length < 0) return null;
  if (s.length === 0) return '';
  if (!SURROGATE.test(s)) return substringUnits(s, s.length, pos, length, null);
  const cps = Array.from(s);
  return substringUnits(s, cps.length, pos, length, cps);
}

function substringUnits(s: string, n: number, pos: number, length: number, cps: string[] | null): string {
  let start: number;
  if (pos > 0) {
    start = pos - 1;
    if (start >= n) return '';
  } else if (pos < 0) {
    start = n + pos;
    if (start < 0) return '';
  } else {
    start = 0;
  }
  const end = n - start < length ? n : start + length;
  return cps ? cps.slice(start, end).join('') : s.substring(start, end);
}

/** LEFT(s, n) / RIGHT(s, n) in code points; n <= 0 gives ''. */
export function left(s: string, n: number): string {
  if (n <= 0) return '';
  if (!SURROGATE.test(s)) return s.substring(0, n);
  return Array.from(s).slice(0, n).join('');
}

export function right(s: string, n: number): string {
  if (n <= 0) return '';
  if (!SURROGATE.test(s)) return n >= s.length ? s : s.substring(s.length - n);
  const cps = Array.from(s);
  return n >= cps.length ? s : cps.slice(cps.length - n).join('');
}

/** 1-based code-point position of `needle` in `hay` from code point `from` (1-based), 0 when absent. */
export function position(needle: string, hay: string, from = 1): number {
  if (from < 1) return 0;
  if (!SURROGATE.test(hay)) {
    if (from - 1 > hay.length) return 0;
    return hay.indexOf(needle, from - 1) + 1;
  }
  // map code-point offset to UTF-16 offset
  let unit = 0;
  for (let cp = 1; cp < from && unit < hay.length; cp++) unit += isHigh(hay.charCodeAt(unit)) ? 2 : 1;
  const at = hay.indexOf(needle, unit);
  if (at < 0) return 0;
  return charLength(hay.substring(0, at)) + 1;
}

function isHigh(c: number): boolean {
  return c >= 0xd800 && c <= 0xdbff;
}

/** TRIM/LTRIM/RTRIM: removes spaces (U+0020) as Flink does, or any of the characters in `chars`. */
export function trimBoth(s: string, chars?: string): string {
  let a = 0;
  let b = s.length;
  if (chars === undefined) {
    while (a < b && s.charCodeAt(a) === 32) a++;
    while (b > a && s.charCodeAt(b - 1) === 32) b--;
  } else {
    while (a < b && chars.includes(s[a]!)) a++;
    while (b > a && chars.includes(s[b - 1]!)) b--;
  }
  return a === 0 && b === s.length ? s : s.substring(a, b);
}

export function trimLeft(s: string, chars?: string): string {
  let a = 0;
  if (chars === undefined) while (a < s.length && s.charCodeAt(a) === 32) a++;
  else while (a < s.length && chars.includes(s[a]!)) a++;
  return a === 0 ? s : s.substring(a);
}

export function trimRight(s: string, chars?: string): string {
  let b = s.length;
  if (chars === undefined) while (b > 0 && s.charCodeAt(b - 1) === 32) b--;
  else while (b > 0 && chars.includes(s[b - 1]!)) b--;
  return b === s.length ? s : s.substring(0, b);
}

/** REPLACE(s, search, replacement): every occurrence, literally. */
export function replaceAll(s: string, search: string, rep: string): string {
  return s.replaceAll(search, rep.includes('$') ? rep.replace(/\$/g, '$$$$') : rep);
}

/** SPLIT_INDEX(s, sep, idx): the idx-th (0-based) field of s split by sep, NULL when out of range. */
export function splitIndex(s: string, sep: string, idx: number): string | null {
  if (idx < 0 || s.length === 0) return null;
  if (sep.length === 0) {
    const parts = s.split(/\s+/).filter((p) => p.length > 0);
    return parts[idx] ?? null;
  }
  let start = 0;
  for (let i = 0; i < idx; i++) {
    const p = s.indexOf(sep, start);
    if (p < 0) return null;
    start = p + sep.length;
  }
  const e = s.indexOf(sep, start);
  return e < 0 ? s.substring(start) : s.substring(start, e);
}

export function lpad(s: string, len: number, pad: string): string | null {
  if (len < 0 || pad.length === 0) return null;
  if (len === 0) return '';
  if (s.length >= len) return s.substring(0, len);
  const need = len - s.length;
  return pad.repeat(Math.ceil(need / pad.length)).substring(0, need) + s;
}

export function rpad(s: string, len: number, pad: string): string | null {
  if (len < 0 || pad.length === 0) return null;
  if (len === 0) return '';
  if (s.length >= len) return s.substring(0, len);
  const need = len - s.length;
  return s + pad.repeat(Math.ceil(need / pad.length)).substring(0, need);
}

export function repeat(s: string, n: number): string {
  return n <= 0 ? '' : s.repeat(n);
}

export function reverse(s: string): string {
  return SURROGATE.test(s) ? Array.from(s).reverse().join('') : s.split('').reverse().join('');
}

const WORD_START = /(^|[^\p{L}\p{N}])([\p{L}\p{N}])/gu;

export function initcap(s: string): string {
  return s.toLowerCase().replace(WORD_START, (_m, a: string, b: string) => a + b.toUpperCase());
}

export function ascii(s: string): number {
  return s.length === 0 ? 0 : s.charCodeAt(0) & 0xff;
}

export function chr(n: number): string {
  return String.fromCharCode(((n % 256) + 256) % 256);
}

export function toBase64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

export function fromBase64(s: string): string {
  return Buffer.from(s, 'base64').toString('utf8');
}

export function hash(algorithm: string): (s: string) => string {
  return (s: string) => createHash(algorithm).update(s, 'utf8').digest('hex');
}

export function uuid(): string {
  return randomUUID();
}

// ---------------------------------------------------------------------------------------------
// LIKE

export type LikePlan =
  | { readonly kind: 'eq' | 'prefix' | 'suffix' | 'contains'; readonly text: string }
  | { readonly kind: 'all' }
  | { readonly kind: 'regex'; readonly re: RegExp };

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/**
 * Plans a LIKE pattern: '%' any sequence, '_' one character; `escape` (one character) makes the next
 * '%', '_' or escape character literal. Throws Error on an invalid escape sequence.
 */
export function planLike(pattern: string, escape?: string | null): LikePlan {
  if (escape !== undefined && escape !== null && Array.from(escape).length !== 1) throw new Error(`Invalid escape character '${escape}'; it must be one character`);
  const parts: string[] = [];
  const kinds: number[] = []; // 0 literal, 1 %, 2 _
  let lit = '';
  const chars = Array.from(pattern);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (escape && ch === escape) {
      const next = chars[i + 1];
      if (next === '%' || next === '_' || next === escape) {
        lit += next;
        i++;
        continue;
      }
      throw new Error(`Invalid escape sequence in LIKE pattern '${pattern}'`);
    }
    if (ch === '%' || ch === '_') {
      if (lit) {
        parts.push(lit);
        kinds.push(0);
        lit = '';
      }
      if (ch === '%' && kinds[kinds.length - 1] === 1) continue;
      parts.push(ch);
      kinds.push(ch === '%' ? 1 : 2);
      continue;
    }
    lit += ch;
  }
  if (lit) {
    parts.push(lit);
    kinds.push(0);
  }
  if (!kinds.includes(2)) {
    const pct = kinds.filter((k) => k === 1).length;
    const lits = parts.filter((_, i) => kinds[i] === 0);
    if (pct === 0) return { kind: 'eq', text: lits[0] ?? '' };
    if (lits.length === 0) return { kind: 'all' };
    if (lits.length === 1) {
      if (pct === 1 && kinds[0] === 0) return { kind: 'prefix', text: lits[0]! };
      if (pct === 1 && kinds[0] === 1) return { kind: 'suffix', text: lits[0]! };
      if (pct === 2 && kinds[0] === 1 && kinds[2] === 1) return { kind: 'contains', text: lits[0]! };
    }
  }
  const src = parts.map((p, i) => (kinds[i] === 1 ? '[\\s\\S]*' : kinds[i] === 2 ? '[\\s\\S]' : escapeRegex(p))).join('');
  return { kind: 'regex', re: new RegExp('^' + src + '$', 'u') };
}

export function runLike(plan: LikePlan, s: string): boolean {
  switch (plan.kind) {
    case 'eq':
      return s === plan.text;
    case 'prefix':
      return s.startsWith(plan.text);
    case 'suffix':
      return s.endsWith(plan.text);
    case 'contains':
      return s.includes(plan.text);
    case 'all':
      return true;
    case 'regex':
      return plan.re.test(s);
    default:
      return false;
  }
}

/** LIKE with a pattern known only at run time: plans cached per call site. NULL for an invalid pattern. */
export function dynamicLike(): (s: string, pattern: string, escape?: string) => boolean | null {
  const cache = new Map<string, LikePlan | null>();
  return (s, pattern, escape) => {
    const key = escape === undefined ? pattern : escape + '\u0000' + pattern;
    let plan = cache.get(key);
    if (plan === undefined) {
      try {
        plan = planLike(pattern, escape);
      } catch {
        plan = null;
      }
      if (cache.size > 256) cache.clear();
      cache.set(key, plan);
    }
    return plan === null ? null : runLike(plan, s);
  };
}

// ---------------------------------------------------------------------------------------------
// Regular expressions (Java syntax, as Flink takes them, translated to JS)

const BINARY_PROPS = new Set([
  'Alphabetic', 'Alpha', 'Letter', 'L', 'Lu', 'Ll', 'Lt', 'Lm', 'Lo', 'Digit', 'Nd', 'N', 'Uppercase', 'Lowercase',
  'White_Space', 'WhiteSpace', 'Punctuation', 'P', 'Ideographic', 'Emoji', 'Control', 'Cc', 'S', 'Sm', 'Sc', 'Z', 'Zs',
]);

/** Rewrites Java-only regex syntax: \A \Z \z, \p{IsHan}, possessive quantifiers, atomic groups, inline flags. */
function translateJava(src: string): { body: string; flags: string } {
  let flags = '';
  let body = src;
  const inline = /^\(\?([imsUux]+)\)/.exec(body);
  if (inline) {
    for (const ch of inline[1]!) {
      if (ch === 'i' || ch === 'm' || ch === 's') flags += ch;
      else if (ch === 'x') throw new Error('the (?x) flag is not supported');
    }
    body = body.slice(inline[0].length);
  }
  let out = '';
  let inClass = false;
  let afterQuantifier = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    const wasQuantifier = afterQuantifier;
    afterQuantifier = false;
    if (ch === '\\') {
      const next = body[i + 1];
      if (next === undefined) {
        out += ch;
        continue;
      }
      if (!inClass && next === 'A') {
        out += '^';
        i++;
        continue;
      }
      if (!inClass && (next === 'Z' || next === 'z')) {
        out += '$';
        i++;
        continue;
      }
      if ((next === 'p' || next === 'P') && body[i + 2] === '{') {
        const close = body.indexOf('}', i + 3);
        if (close > 0) {
          let name = body.slice(i + 3, close);
          if (name.startsWith('Is')) name = name.slice(2);
          if (name.startsWith('In')) throw new Error(`Unicode block \\p{${name}} is not supported; use \\p{Is<Script>}`);
          const prop = BINARY_PROPS.has(name) || name.includes('=') ? name : `Script=${name}`;
          out += `\\${next}{${prop}}`;
          i = close;
          continue;
        }
      }
      out += ch + next;
      i++;
      continue;
    }
    if (inClass) {
      if (ch === ']') inClass = false;
      out += ch;
      continue;
    }
    if (ch === '[') {
      inClass = true;
      out += ch;
      if (body[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (body[i + 1] === ']') {
        out += '\\]';
        i++;
      }
      continue;
    }
    if (ch === '(' && body[i + 1] === '?' && body[i + 2] === '>') {
      out += '(?:';
      i += 2;
      continue;
    }
    if (ch === '*' || ch === '+' || ch === '?') {
      if (ch === '+' && wasQuantifier) continue; // possessive quantifier: treated as greedy
      if (ch === '?' && wasQuantifier) {
        out += ch; // lazy quantifier
        continue;
      }
      out += ch;
      afterQuantifier = true;
      continue;
    }
    if (ch === '{') {
      const m = /^\{\d+(?:,\d*)?\}/.exec(body.slice(i));
      if (m) {
        out += m[0];
        i += m[0].length - 1;
        afterQuantifier = true;
        continue;
      }
    }
    out += ch;
  }
  return { body: out, flags };
}

/**
 * Compiles a Java regular expression to a JS RegExp (Unicode mode when the pattern allows it).
 * Throws an Error with a readable message when the pattern is invalid.
 */
export function compileRegex(src: string, global = false): RegExp {
  const { body, flags } = translateJava(src);
  const f = flags + (global ? 'g' : '');
  try {
    return new RegExp(body, f + 'u');
  } catch {
    try {
      return new RegExp(body, f);
    } catch (e) {
      throw new Error(`Invalid regular expression '${src}': ${(e as Error).message.replace(/^Invalid regular expression: /, '')}`);
    }
  }
}

/** Number of capturing groups of a compiled regex. */
export function groupCount(re: RegExp): number {
  return new RegExp(re.source + '|', re.flags.replace('g', '')).exec('')!.length - 1;
}

/** A per-call-site cache of compiled regexes for patterns known only at run time (null when invalid). */
export function regexCache(global: boolean): (src: string) => RegExp | null {
  const cache = new Map<string, RegExp | null>();
  return (src) => {
    let re = cache.get(src);
    if (re === undefined) {
      try {
        re = compileRegex(src, global);
      } catch {
        re = null;
      }
      if (cache.size > 256) cache.clear();
      cache.set(src, re);
    }
    return re;
  };
}

/** REGEXP_EXTRACT: group `idx` of the first match; NULL when there is no match or no such group. */
export function regexpExtract(s: string, re: RegExp, idx: number): string | null {
  if (idx < 0) return null;
  const m = re.exec(s);
  if (m === null || idx >= m.length) return null;
  return m[idx] ?? null;
}

/** REGEXP_EXTRACT_ALL: group `idx` of every match (re must be global). NULL when there is no such group. */
export function regexpExtractAll(s: string, re: RegExp, idx: number): (string | null)[] | null {
  if (idx < 0) return null;
  re.lastIndex = 0;
  const out: (string | null)[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(s)) !== null) {
    if (idx >= m.length) {
      re.lastIndex = 0;
      return null;
    }
    out.push(m[idx] ?? null);
    if (m[0].length === 0) re.lastIndex = advance(s, re.lastIndex, re.unicode);
  }
  return out;
}

function advance(s: string, i: number, unicode: boolean): number {
  if (unicode && i < s.length && isHigh(s.charCodeAt(i))) return i + 2;
  return i + 1;
}

/** REGEXP_REPLACE: every match replaced by `rep` taken literally (Flink quotes the replacement). */
export function regexpReplace(s: string, re: RegExp, rep: string): string {
  re.lastIndex = 0;
  return s.replace(re, rep.includes('$') ? rep.replace(/\$/g, '$$$$') : rep);
}

export function regexpTest(s: string, re: RegExp): boolean {
  return re.test(s);
}

// ---------------------------------------------------------------------------------------------
// JSON paths (lax mode: a missing member or invalid JSON is NULL)

export type JsonPath = readonly (string | number)[];

/** Compiles '$', '$.a.b', '$.a[0]', "$['a b']" into steps; throws Error when unsupported. */
export function compileJsonPath(path: string): JsonPath {
  let p = path.trim();
  if (p.startsWith('lax ')) p = p.slice(4).trim();
  if (p.startsWith('strict ')) p = p.slice(7).trim();
  if (!p.startsWith('$')) throw new Error(`JSON path '${path}' must start with '$'`);
  const steps: (string | number)[] = [];
  let i = 1;
  while (i < p.length) {
    const ch = p[i];
    if (ch === '.') {
      const m = /^[A-Za-z_$\u0080-\uffff][\w$\u0080-\uffff-]*/.exec(p.slice(i + 1));
      if (!m) throw new Error(`Unsupported JSON path '${path}'`);
      steps.push(m[0]);
      i += 1 + m[0].length;
    } else if (ch === '[') {
      const close = p.indexOf(']', i);
      if (close < 0) throw new Error(`Unsupported JSON path '${path}'`);
      const inner = p.slice(i + 1, close).trim();
      if (/^\d+$/.test(inner)) steps.push(Number(inner));
      else if (/^'.*'$|^".*"$/.test(inner)) steps.push(inner.slice(1, -1));
      else throw new Error(`Unsupported JSON path '${path}'`);
      i = close + 1;
    } else {
      throw new Error(`Unsupported JSON path '${path}'`);
    }
  }
  return steps;
}

/** The value at `path` in JSON text `json`; undefined when absent or the text is not JSON. */
export function jsonGet(json: string, path: JsonPath): unknown {
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    return undefined;
  }
  for (const step of path) {
    if (v === null || typeof v !== 'object') return undefined;
    if (typeof step === 'number') {
      if (!Array.isArray(v)) return undefined;
      v = v[step];
    } else {
      if (Array.isArray(v)) return undefined;
      v = (v as Record<string, unknown>)[step];
    }
    if (v === undefined) return undefined;
  }
  return v;
}

export function jsonValue(json: string, path: JsonPath): string | null {
  const v = jsonGet(json, path);
  if (v === undefined || v === null || typeof v === 'object') return null;
  return String(v);
}

export function jsonQuery(json: string, path: JsonPath): string | null {
  const v = jsonGet(json, path);
  if (v === undefined || v === null || typeof v !== 'object') return null;
  return JSON.stringify(v);
}

export function jsonExists(json: string, path: JsonPath): boolean {
  return jsonGet(json, path) !== undefined;
}

// ---------------------------------------------------------------------------------------------
// Arrays and equality

/** Deep equality of ARRAY/ROW values (NULL elements equal each other here, as in Flink's array equality). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i] ?? null, b[i] ?? null)) return false;
    return true;
  }
  if (typeof a === 'object' && typeof b === 'object') {
    const ka = Object.keys(a as object);
    const kb = Object.keys(b as object);
    if (ka.length !== kb.length) return false;
    for (const key of ka) if (!deepEqual((a as Record<string, unknown>)[key] ?? null, (b as Record<string, unknown>)[key] ?? null)) return false;
    return true;
  }
  return false;
}

/** arr[i], 1-based; NULL when out of range. */
export function item(arr: readonly unknown[], i: number): unknown {
  return i >= 1 && i <= arr.length ? (arr[i - 1] ?? null) : null;
}

export function arrayContains(arr: readonly unknown[], v: unknown): boolean | null {
  let sawNull = false;
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (x === null || x === undefined) sawNull = true;
    else if (x === v || (typeof x === 'object' && deepEqual(x, v))) return true;
  }
  return sawNull ? null : false;
}

export function arrayJoin(arr: readonly unknown[], sep: string, nullRep?: string): string {
  let out = '';
  let first = true;
  for (let i = 0; i < arr.length; i++) {
    let x = arr[i];
    if (x === null || x === undefined) {
      if (nullRep === undefined) continue;
      x = nullRep;
    }
    out += first ? String(x) : sep + String(x);
    first = false;
  }
  return out;
}

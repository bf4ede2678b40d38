import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';

/**
 * Where in `sql` the SQLite error `message` points, as an offset into `sql`, when that can be told.
 *
 * better-sqlite3 does not expose sqlite3_error_offset(), so a syntax error is located by preparing
 * prefixes of the text: SQLite's parser reports the first token it cannot take, so the shortest prefix
 * that fails with the very same message ends with that token (shorter ones are "incomplete input", or cut
 * the token and name another). Preparing only compiles, never runs, and a syntax error does not depend on
 * the schema, so this runs on a private in-memory database, a few dozen prepares on this error path only.
 * A missing table, column or function is found as the first word of that name outside quotes.
 */
export function sqliteErrorOffset(sql: string, message: string): number | undefined {
  if (/^incomplete input$/i.test(message)) return endOfText(sql);
  const near = /^(?:near "([\s\S]*)": syntax error|unrecognized token: "([\s\S]*)")$/.exec(message);
  if (near) {
    const token = near[1] ?? near[2] ?? '';
    const end = shortestFailingPrefix(sql, message);
    return end === undefined ? undefined : Math.max(0, end - token.length);
  }
  const named = /^(?:no such (?:column|table|function)|ambiguous column name|misuse of aggregate(?: function)?):? ?([\w.$]+)/i.exec(message);
  if (named) return wordOffset(sql, named[1]!);
  return undefined;
}

let scratch: Db | undefined;

function prepareError(text: string): string | undefined {
  scratch ??= new Database(':memory:');
  try {
    scratch.prepare(text);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

/** The smallest length L such that sql.slice(0, L) fails with `message`; undefined if the whole text does not. */
function shortestFailingPrefix(sql: string, message: string): number | undefined {
  if (prepareError(sql) !== message) return undefined;
  let lo = 0;
  let hi = sql.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (prepareError(sql.slice(0, mid)) === message) hi = mid;
    else lo = mid + 1;
  }
  return hi;
}

/** The end of the statement's text, before trailing blanks, comments and a semicolon. */
function endOfText(sql: string): number {
  return sql.replace(/(\s|;|--[^\n]*$)+$/, '').length;
}

/**
 * The first place where `name` (or, for a qualified `t.c`, its last part) stands as a whole word outside
 * string literals, compared without case as SQLite does for identifiers.
 */
function wordOffset(sql: string, name: string): number | undefined {
  const masked = sql.replace(/'(?:[^']|'')*'/g, (s) => ' '.repeat(s.length));
  for (const candidate of name.includes('.') ? [name, name.slice(name.lastIndexOf('.') + 1)] : [name]) {
    const escaped = candidate.replace(/[.$]/g, (c) => `\\${c}`);
    const m = new RegExp(`(?<![\\w$])["\`[]?${escaped}["\`\\]]?(?![\\w$])`, 'i').exec(masked);
    if (m) return m.index;
  }
  return undefined;
}

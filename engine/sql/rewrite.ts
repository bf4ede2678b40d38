import type { SqlType } from '../plan/types.ts';
import { Cursor } from './cursor.ts';
import { SqlError, posAt } from './errors.ts';
import { parseType } from './types-parser.ts';
import { isPunct, isWord } from './tokens.ts';
import type { Token } from './tokens.ts';
import type { TimeUnit } from './ast.ts';

/**
 * Brings Flink's syntax within reach of node-sql-parser's trino grammar by editing tokens in place:
 * every edit keeps the length of the text it replaces, so the parser's line/column/offset still
 * point into the text the user wrote. Returns the edited text and the side tables the converter
 * needs (CAST target types, FLOOR/CEIL units).
 */
export interface Rewritten {
  readonly text: string;
  readonly castTypes: readonly SqlType[];
  readonly units: readonly TimeUnit[];
  /** Column names of each `UNNEST(...) AS t(col)`, by the index encoded in its function name (UNNEST_FN). */
  readonly unnests: readonly UnnestSide[];
}

export interface UnnestSide {
  readonly alias?: string;
  readonly columns: readonly string[];
}

export const CAST_FN = 'CST_';
export const TRY_CAST_FN = 'TRY_CST_';
export const FLOOR_FN = 'FLR__';
export const CEIL_FN = 'CL__';
/** `UNNEST` becomes `UNN_k` (same length, k < 100): k indexes Rewritten.unnests. */
export const UNNEST_FN = 'UNN_';
const WINDOW_FUNCS = ['TUMBLE', 'HOP', 'SESSION', 'CUMULATE'];
export const UNITS: readonly TimeUnit[] = ['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR'];

export function rewriteForParser(text: string, tokens: readonly Token[], start: number, end: number): Rewritten {
  const buf = text.split('');
  // Blank everything outside the statement but keep newlines, so positions stay those of the script.
  for (let i = 0; i < buf.length; i++) if ((i < start || i >= end) && buf[i] !== '\n') buf[i] = ' ';
  const put = (t: Token | { start: number; end: number }, replacement: string) => {
    const len = t.end - t.start;
    if (replacement.length > len) throw new Error(`rewrite: '${replacement}' longer than the token it replaces`);
    const padded = replacement.padEnd(len, ' ');
    for (let k = 0; k < len; k++) buf[t.start + k] = padded[k]!;
  };
  const castTypes: SqlType[] = [];
  const units: TimeUnit[] = [];
  const unnests: UnnestSide[] = [];
  const c = new Cursor(text, tokens, end);

  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    const next = tokens[i + 1];
    // TABLE(TUMBLE(TABLE t, DESCRIPTOR(ts), ...)) -> TUMBLE(t, ts, ...)
    if (isWord(t, 'TABLE') && isPunct(next, '(') && isWord(tokens[i + 2], ...WINDOW_FUNCS)) {
      const close = c.matching(i + 1);
      put(t, '');
      put(next!, '');
      put(tokens[close]!, '');
      continue;
    }
    if (isWord(t, 'TABLE') && next && (next.type === 'word' || next.type === 'quoted') && i > 0 && (isPunct(tokens[i - 1], '(') || isPunct(tokens[i - 1], ','))) {
      put(t, '');
      continue;
    }
    if (isWord(t, 'DESCRIPTOR') && isPunct(next, '(')) {
      const close = c.matching(i + 1);
      put(t, '');
      put(next!, '');
      put(tokens[close]!, '');
      continue;
    }
    if (isWord(t, 'CAST', 'TRY_CAST') && isPunct(next, '(')) {
      const close = c.matching(i + 1);
      const as = topLevel(tokens, i + 2, close, (x) => isWord(x, 'AS'));
      if (as < 0) continue;
      const tc = new Cursor(text, tokens.slice(as + 1, close), tokens[close]!.start);
      const type = parseType(tc);
      tc.expectEnd();
      const k = castTypes.push(type) - 1;
      put(t, isWord(t, 'CAST') ? CAST_FN : TRY_CAST_FN);
      put(tokens[as]!, ',');
      put({ start: tokens[as + 1]!.start, end: tokens[close - 1]!.end }, String(k));
      continue;
    }
    if (isWord(t, 'FLOOR', 'CEIL') && isPunct(next, '(')) {
      const close = c.matching(i + 1);
      const to = topLevel(tokens, i + 2, close, (x) => isWord(x, 'TO'));
      if (to < 0) continue;
      const unitTok = tokens[to + 1];
      const unit = unitTok ? (unitTok.value.toUpperCase() as TimeUnit) : undefined;
      if (!unit || !UNITS.includes(unit) || to + 2 !== close) throw c.error('Expected a time unit (SECOND, MINUTE, HOUR, DAY, ...) after TO', unitTok);
      const k = units.push(unit) - 1;
      put(t, isWord(t, 'FLOOR') ? FLOOR_FN : CEIL_FN);
      put(tokens[to]!, ',');
      put(unitTok!, String(k));
      continue;
    }
    // CROSS JOIN UNNEST(e) [AS] t(col) -> , UNN_k(e) AS t: the trino grammar reads `CROSS` as an alias
    // and `t(col)` as one string, so the comma form it parses cleanly and the column list goes to a side table.
    if (isWord(t, 'UNNEST') && isPunct(next, '(')) {
      if (unnests.length >= 100) throw c.error('Too many UNNEST in one query', t);
      if (isWord(tokens[i - 1], 'JOIN') && isWord(tokens[i - 2], 'CROSS')) {
        put(tokens[i - 2]!, ',');
        put(tokens[i - 1]!, '');
      }
      const close = c.matching(i + 1);
      let j = close + 1;
      if (isWord(tokens[j], 'WITH') && isWord(tokens[j + 1], 'ORDINALITY')) throw new SqlError('unsupported', 'UNNEST ... WITH ORDINALITY is not supported', posAt(text, tokens[j]!.start));
      if (isWord(tokens[j], 'AS')) j++;
      const aliasTok = tokens[j];
      let alias: string | undefined;
      const columns: string[] = [];
      if (aliasTok && (aliasTok.type === 'word' || aliasTok.type === 'quoted') && !isWord(aliasTok, 'WHERE', 'GROUP', 'CROSS', 'JOIN', 'LEFT', 'INNER', 'ON', 'HAVING', 'ORDER', 'LIMIT', 'UNION')) {
        alias = aliasTok.value;
        if (isPunct(tokens[j + 1], '(')) {
          const end2 = c.matching(j + 1);
          for (let k = j + 2; k < end2; k++) {
            const ct = tokens[k]!;
            if (isPunct(ct, ',')) continue;
            if (ct.type !== 'word' && ct.type !== 'quoted') throw c.error('Expected a column name in the UNNEST alias', ct);
            columns.push(ct.value);
          }
          put({ start: tokens[j + 1]!.start, end: tokens[end2]!.end }, '');
        }
      }
      const k = unnests.push({ alias, columns }) - 1;
      put(t, `${UNNEST_FN}${k}`);
      continue;
    }
    if (isWord(t, 'SUBSTRING', 'SUBSTR') && isPunct(next, '(')) {
      const close = c.matching(i + 1);
      const from = topLevel(tokens, i + 2, close, (x) => isWord(x, 'FROM'));
      if (from < 0) continue;
      put(tokens[from]!, ',');
      const forTok = topLevel(tokens, from + 1, close, (x) => isWord(x, 'FOR'));
      if (forTok >= 0) put(tokens[forTok]!, ',');
    }
  }
  return { text: buf.join(''), castTypes, units, unnests };
}

function topLevel(tokens: readonly Token[], from: number, to: number, pred: (t: Token) => boolean): number {
  let depth = 0;
  for (let j = from; j < to; j++) {
    const t = tokens[j]!;
    if (isPunct(t, '(')) depth++;
    else if (isPunct(t, ')')) depth--;
    else if (depth === 0 && pred(t)) return j;
  }
  return -1;
}

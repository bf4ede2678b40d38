import { SqlError, posAt } from './errors.ts';

export type TokenType = 'word' | 'quoted' | 'string' | 'number' | 'op' | 'punct';

/**
 * A token of SQL text. `start`/`end` are offsets into the whole text the user sent, so every later
 * error can point at line and column. Comments and whitespace are not tokens.
 */
export interface Token {
  readonly type: TokenType;
  /** For `word`: as written; for `quoted` and `string`: the unquoted, unescaped value. */
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

const OPS = ['<>', '<=', '>=', '!=', '||', '::', '->', '=', '<', '>', '+', '-', '*', '/', '%', '.', '[', ']', '?'];

export function tokenize(text: string, from = 0, to = text.length): Token[] {
  const out: Token[] = [];
  let i = from;
  while (i < to) {
    const c = text[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '-' && text[i + 1] === '-') {
      while (i < to && text[i] !== '\n') i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      if (close < 0 || close + 2 > to) throw new SqlError('syntax', 'Unterminated comment', posAt(text, i));
      i = close + 2;
      continue;
    }
    const start = i;
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= to) throw new SqlError('syntax', 'Unterminated string literal', posAt(text, start));
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            v += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i];
        i++;
      }
      out.push({ type: 'string', value: v, start, end: i });
      continue;
    }
    if (c === '`' || c === '"') {
      let v = '';
      i++;
      for (;;) {
        if (i >= to) throw new SqlError('syntax', `Unterminated quoted identifier`, posAt(text, start));
        if (text[i] === c) {
          if (text[i + 1] === c) {
            v += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        v += text[i];
        i++;
      }
      out.push({ type: 'quoted', value: v, start, end: i });
      continue;
    }
    if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) {
      while (i < to && (isDigit(text[i]!) || text[i] === '.')) i++;
      if (i < to && (text[i] === 'e' || text[i] === 'E') && /[-+0-9]/.test(text[i + 1] ?? '')) {
        i += 2;
        while (i < to && isDigit(text[i]!)) i++;
      }
      out.push({ type: 'number', value: text.slice(start, i), start, end: i });
      continue;
    }
    if (isWordStart(c)) {
      while (i < to && isWordPart(text[i]!)) i++;
      out.push({ type: 'word', value: text.slice(start, i), start, end: i });
      continue;
    }
    if (c === '(' || c === ')' || c === ',' || c === ';') {
      out.push({ type: 'punct', value: c, start, end: i + 1 });
      i++;
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op) {
      out.push({ type: 'op', value: op, start, end: i + op.length });
      i += op.length;
      continue;
    }
    throw new SqlError('syntax', `Unexpected character '${c}'`, posAt(text, i));
  }
  return out;
}

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

function isWordStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c === '$' || c.charCodeAt(0) > 127;
}

function isWordPart(c: string): boolean {
  return isWordStart(c) || isDigit(c);
}

/** Case-insensitive keyword test on a token. */
export function isWord(t: Token | undefined, ...words: string[]): boolean {
  if (!t || t.type !== 'word') return false;
  const u = t.value.toUpperCase();
  return words.includes(u);
}

export function isPunct(t: Token | undefined, p: string): boolean {
  return !!t && (t.type === 'punct' || t.type === 'op') && t.value === p;
}

/** An identifier: a bare word or a quoted name. */
export function identOf(t: Token | undefined): string | undefined {
  if (!t) return undefined;
  if (t.type === 'word' || t.type === 'quoted') return t.value;
  return undefined;
}

export interface StatementText {
  /** 1-based position in the script. */
  readonly index: number;
  readonly start: number;
  readonly end: number;
  readonly tokens: readonly Token[];
}

/** Splits a script into statements at top-level semicolons (semicolons in strings and comments don't count). */
export function splitStatements(text: string): StatementText[] {
  const { statements, error } = splitScript(text);
  if (error) throw error;
  return statements;
}

/**
 * Like splitStatements, but a text that cannot be tokenized (an unterminated string, say) still yields
 * the complete statements before the error, and the error carries the number of the statement it is in.
 */
export function splitScript(text: string): { statements: StatementText[]; error?: SqlError } {
  let tokens: Token[];
  let error: SqlError | undefined;
  try {
    tokens = tokenize(text);
  } catch (e) {
    if (!(e instanceof SqlError) || !e.pos) throw e;
    error = e;
    tokens = tokenize(text, 0, e.pos.offset);
  }
  const all = splitTokens(tokens);
  if (!error) return { statements: all };
  // The statement the error is in is the one after the last complete (`;`-terminated) statement.
  const lastSemi = [...tokens].reverse().find((t) => t.type === 'punct' && t.value === ';');
  const complete = all.filter((st) => lastSemi !== undefined && st.end <= lastSemi.start);
  error.statement = complete.length + 1;
  return { statements: complete, error };
}

function splitTokens(tokens: readonly Token[]): StatementText[] {
  const out: StatementText[] = [];
  let cur: Token[] = [];
  const flush = () => {
    if (cur.length > 0) out.push({ index: out.length + 1, start: cur[0]!.start, end: cur[cur.length - 1]!.end, tokens: cur });
    cur = [];
  };
  for (const t of tokens) {
    if (t.type === 'punct' && t.value === ';') flush();
    else cur.push(t);
  }
  flush();
  return out;
}

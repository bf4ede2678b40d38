import { Cursor, describe } from './cursor.ts';
import { SqlError, posAt } from './errors.ts';
import type { Pos } from './errors.ts';
import { parseExpression, parseSelect } from './query.ts';
import type { ColumnDef, Statement, WatermarkDef } from './statement.ts';
import { isPunct, isWord, splitStatements } from './tokens.ts';
import type { StatementText } from './tokens.ts';
import { parseType } from './types-parser.ts';

export interface ParsedStatement {
  readonly index: number;
  readonly statement: Statement;
}

/**
 * Parses a script of `;`-separated statements. A statement that fails to parse raises a SqlError
 * with `statement` set; the statements before it are returned through `onParsed` first so callers
 * can run them in order (DESIGN §7: statements before the failing one stay applied).
 */
export function parseScript(text: string): ParsedStatement[] {
  return splitStatements(text).map((st) => ({ index: st.index, statement: parseOne(text, st) }));
}

export function parseOne(text: string, st: StatementText): Statement {
  try {
    return parseStatement(text, st);
  } catch (e) {
    if (e instanceof SqlError) {
      e.statement = st.index;
      throw e;
    }
    if (e instanceof RangeError) {
      // A recursive descent over an absurdly deep expression: the user's input, not our bug.
      const err = new SqlError('unsupported', 'The statement is nested too deeply (an expression with thousands of operators?)', posAt(text, st.start));
      err.statement = st.index;
      throw err;
    }
    throw e;
  }
}

function parseStatement(text: string, st: StatementText): Statement {
  const c = new Cursor(text, st.tokens, st.end);
  const pos = c.pos();
  const src = text.slice(st.start, st.end);
  const first = c.peek();
  if (isWord(first, 'SELECT') || isPunct(first, '(')) return { kind: 'query', query: parseSelect(text, st.tokens, 0), text: src, pos };
  if (c.acceptWord('CREATE')) return parseCreate(c, text, st, src, pos);
  if (c.acceptWord('DROP')) {
    let what: 'TABLE' | 'VIEW' | 'MATERIALIZED VIEW';
    if (c.acceptWord('TABLE')) what = 'TABLE';
    else if (c.acceptWord('VIEW')) what = 'VIEW';
    else if (c.acceptWord('MATERIALIZED')) {
      c.expectWord('VIEW');
      what = 'MATERIALIZED VIEW';
    } else throw c.error(`Expected TABLE, VIEW or MATERIALIZED VIEW after DROP but found ${describe(c.peek())}`);
    const ifExists = acceptSeq(c, 'IF', 'EXISTS');
    const name = qualifiedName(c);
    c.expectEnd();
    return { kind: 'drop', what, name, ifExists, text: src, pos };
  }
  if (c.acceptWord('SHOW')) {
    const t = c.peek();
    if (!c.acceptWord('TABLES', 'VIEWS', 'JOBS')) throw c.error(`Expected TABLES, VIEWS or JOBS after SHOW but found ${describe(t)}`);
    c.expectEnd();
    return { kind: 'show', what: t!.value.toUpperCase() as 'TABLES' | 'VIEWS' | 'JOBS', text: src, pos };
  }
  if (c.acceptWord('DESCRIBE', 'DESC')) {
    const name = qualifiedName(c);
    c.expectEnd();
    return { kind: 'describe', name, text: src, pos };
  }
  if (c.acceptWord('EXPLAIN')) {
    let format: 'TEXT' | 'JSON' = 'TEXT';
    if (c.isWord('JSON', 'TEXT') && !c.isWord('SELECT')) {
      format = c.next().value.toUpperCase() as 'TEXT' | 'JSON';
    } else if (c.acceptWord('PLAN')) {
      c.acceptWord('FOR');
    }
    if (c.isWord('AS') && isWord(c.peek(1), 'JSON')) {
      c.i += 2;
      format = 'JSON';
    }
    const rest: StatementText = { index: st.index, start: c.peek()?.start ?? st.end, end: st.end, tokens: st.tokens.slice(c.i) };
    if (rest.tokens.length === 0) throw c.error('Expected a query or INSERT after EXPLAIN');
    const target = parseStatement(text, rest);
    if (target.kind !== 'query' && target.kind !== 'insert' && target.kind !== 'createMaterializedView') {
      throw new SqlError('unsupported', 'EXPLAIN works on a query, an INSERT INTO or a CREATE MATERIALIZED VIEW', target.pos);
    }
    return { kind: 'explain', format, target, text: src, pos };
  }
  if (c.acceptWord('SET')) {
    if (c.done()) return { kind: 'set', text: src, pos };
    const key = optionString(c, 'a quoted key');
    if (!c.acceptPunct('=')) throw c.error(`Expected '=' after the key`);
    const value = optionString(c, 'a quoted value');
    c.expectEnd();
    return { kind: 'set', key, value, text: src, pos };
  }
  if (c.acceptWord('RESET')) {
    const key = c.done() ? undefined : optionString(c, 'a quoted key');
    c.expectEnd();
    return { kind: 'reset', key, text: src, pos };
  }
  if (c.acceptWord('INSERT')) {
    if (!c.acceptWord('INTO')) {
      if (c.isWord('OVERWRITE')) throw new SqlError('unsupported', 'INSERT OVERWRITE is not supported in streaming jobs', c.pos());
      c.expectWord('INTO');
    }
    const sinkTok = c.peek();
    const sink = qualifiedName(c);
    let columns: string[] | undefined;
    if (c.acceptPunct('(')) {
      columns = [];
      do columns.push(c.ident('a column name'));
      while (c.acceptPunct(','));
      c.expectPunct(')');
    }
    if (!c.isWord('SELECT') && !isPunct(c.peek(), '(')) {
      if (c.isWord('VALUES')) throw new SqlError('unsupported', 'INSERT ... VALUES is not supported; produce records to the source topic instead', c.pos());
      throw c.error(`Expected SELECT after INSERT INTO ${sink} but found ${describe(c.peek())}`);
    }
    const queryText = text.slice(c.peek()!.start, st.end);
    return { kind: 'insert', sink, sinkPos: c.pos(sinkTok), columns, query: parseSelect(text, st.tokens, c.i), queryText, text: src, pos };
  }
  if (c.isWord('ALTER', 'UPDATE', 'DELETE', 'MERGE', 'TRUNCATE', 'GRANT', 'USE', 'WITH')) {
    const w = c.peek()!.value.toUpperCase();
    throw new SqlError('unsupported', `${w} statements are not supported`, pos);
  }
  throw c.error(`Unknown statement starting with ${describe(first)}`);
}

function parseCreate(c: Cursor, text: string, st: StatementText, src: string, pos: Pos): Statement {
  const orReplace = acceptSeq(c, 'OR', 'REPLACE');
  c.acceptWord('TEMPORARY');
  if (c.acceptWord('TABLE')) {
    if (orReplace) throw new SqlError('unsupported', 'CREATE OR REPLACE TABLE is not supported; DROP the table first', pos);
    return parseCreateTable(c, text, src, pos);
  }
  const materialized = c.acceptWord('MATERIALIZED');
  if (c.acceptWord('VIEW')) {
    const ifNotExists = acceptSeq(c, 'IF', 'NOT', 'EXISTS');
    const name = qualifiedName(c);
    c.expectWord('AS');
    if (c.done()) throw c.error('Expected a query after AS');
    const queryText = text.slice(c.peek()!.start, st.end);
    const query = parseSelect(text, st.tokens, c.i);
    if (materialized) {
      if (orReplace) throw new SqlError('unsupported', 'CREATE OR REPLACE MATERIALIZED VIEW is not supported; DROP it first', pos);
      return { kind: 'createMaterializedView', name, ifNotExists, query, queryText, text: src, pos };
    }
    return { kind: 'createView', name, orReplace, ifNotExists, query, queryText, text: src, pos };
  }
  throw c.error(`Expected TABLE, VIEW or MATERIALIZED VIEW after CREATE but found ${describe(c.peek())}`);
}

function parseCreateTable(c: Cursor, text: string, src: string, pos: Pos): Statement {
  const ifNotExists = acceptSeq(c, 'IF', 'NOT', 'EXISTS');
  const name = qualifiedName(c);
  const columns: ColumnDef[] = [];
  let watermark: WatermarkDef | undefined;
  let primaryKey: string[] | undefined;
  const openIdx = c.i;
  c.expectPunct('(');
  const close = c.matching(openIdx);
  const seen = new Set<string>();
  while (c.i < close) {
    const elemPos = c.pos();
    if (c.acceptWord('WATERMARK')) {
      c.expectWord('FOR');
      const column = c.ident('the event-time column');
      c.expectWord('AS');
      const end = elementEnd(c, close);
      const expr = parseExpression(text, c.tokens, c.i, end);
      watermark = { column, expr, exprText: text.slice(c.tokens[c.i]!.start, c.tokens[end - 1]!.end), pos: elemPos };
      c.i = end;
    } else if (c.isWord('PRIMARY') || (c.isWord('CONSTRAINT') && !isPunct(c.peek(1), ','))) {
      if (c.acceptWord('CONSTRAINT')) c.ident('a constraint name');
      c.expectWord('PRIMARY');
      c.expectWord('KEY');
      c.expectPunct('(');
      primaryKey = [];
      do primaryKey.push(c.ident('a column name'));
      while (c.acceptPunct(','));
      c.expectPunct(')');
      acceptSeq(c, 'NOT', 'ENFORCED');
    } else {
      const colName = c.ident('a column name');
      if (seen.has(colName.toLowerCase())) throw new SqlError('binding', `Duplicate column '${colName}'`, elemPos);
      seen.add(colName.toLowerCase());
      if (c.acceptWord('AS')) {
        const end = elementEnd(c, close);
        const expr = parseExpression(text, c.tokens, c.i, end);
        columns.push({ kind: 'computed', name: colName, expr, exprText: text.slice(c.tokens[c.i]!.start, c.tokens[end - 1]!.end), pos: elemPos });
        c.i = end;
      } else {
        const type = parseType(c);
        if (c.acceptWord('METADATA')) {
          let key = colName;
          if (c.acceptWord('FROM')) key = c.string('a metadata key');
          c.acceptWord('VIRTUAL');
          columns.push({ kind: 'metadata', name: colName, type, key, pos: elemPos });
        } else {
          if (acceptSeq(c, 'PRIMARY', 'KEY')) {
            primaryKey = [colName];
            acceptSeq(c, 'NOT', 'ENFORCED');
          }
          if (c.acceptWord('COMMENT')) c.string();
          columns.push({ kind: 'physical', name: colName, type, pos: elemPos });
        }
      }
    }
    if (c.i < close) c.expectPunct(',');
  }
  c.i = close + 1;
  if (c.acceptWord('COMMENT')) c.string();
  let partitionedBy: string[] = [];
  if (c.acceptWord('PARTITIONED')) {
    c.expectWord('BY');
    c.expectPunct('(');
    do partitionedBy.push(c.ident('a column name'));
    while (c.acceptPunct(','));
    c.expectPunct(')');
  }
  const options: Record<string, string> = {};
  const optionPos: Record<string, Pos> = {};
  if (c.acceptWord('WITH')) {
    c.expectPunct('(');
    if (!c.acceptPunct(')')) {
      do {
        const kpos = c.pos();
        const key = optionString(c, 'an option name in quotes');
        c.expectPunct('=');
        const value = optionString(c, 'an option value in quotes');
        if (key in options) throw new SqlError('option', `Option '${key}' is given twice`, kpos);
        options[key] = value;
        optionPos[key] = kpos;
      } while (c.acceptPunct(','));
      c.expectPunct(')');
    }
  }
  c.expectEnd();
  if (columns.length === 0) throw new SqlError('binding', `Table '${name}' needs at least one column`, pos);
  if (watermark && !columns.some((col) => col.name.toLowerCase() === watermark!.column.toLowerCase())) {
    throw new SqlError('binding', `WATERMARK FOR '${watermark.column}': no such column in table '${name}'`, watermark.pos);
  }
  return { kind: 'createTable', name, ifNotExists, columns, watermark, primaryKey, partitionedBy, options, optionPos, text: src, pos };
}

/** Index of the `,` or `)` ending a column element (depth-aware). */
function elementEnd(c: Cursor, close: number): number {
  let depth = 0;
  for (let j = c.i; j < close; j++) {
    const t = c.tokens[j]!;
    if (isPunct(t, '(')) depth++;
    else if (isPunct(t, ')')) depth--;
    else if (depth === 0 && isPunct(t, ',')) return j;
  }
  return close;
}

function optionString(c: Cursor, what: string): string {
  const t = c.peek();
  if (t && (t.type === 'string' || t.type === 'quoted')) {
    c.i++;
    return t.value;
  }
  throw c.error(`Expected ${what} but found ${describe(t)}`);
}

function qualifiedName(c: Cursor): string {
  let name = c.ident('a name');
  // catalog.database.table: Weir has one namespace; keep the last part.
  while (isPunct(c.peek(), '.')) {
    c.i++;
    name = c.ident('a name');
  }
  return name;
}

function acceptSeq(c: Cursor, ...words: string[]): boolean {
  for (let k = 0; k < words.length; k++) if (!isWord(c.peek(k), words[k]!)) return false;
  c.i += words.length;
  return true;
}

export { posAt };

import nodeSqlParser from 'node-sql-parser';
import type { Expr, Select } from './ast.ts';
import { SqlError, posAt } from './errors.ts';
import { rewriteForParser } from './rewrite.ts';
import type { Token } from './tokens.ts';
import { Converter } from './convert.ts';
import { describe } from './cursor.ts';

const parser = new nodeSqlParser.Parser();
const OPTIONS = { database: 'trino', parseOptions: { includeLocations: true } } as const;

/** Parses the SELECT spanning tokens[from..] (to the end of `tokens`) of `text`. */
export function parseSelect(text: string, tokens: readonly Token[], from: number): Select {
  const span = tokens.slice(from);
  if (span.length === 0) throw new SqlError('syntax', 'Expected a query', posAt(text, text.length));
  const start = span[0]!.start;
  const end = span[span.length - 1]!.end;
  const side = rewriteForParser(text, span, start, end);
  const ast = astify(text, side.text, span);
  const node = Array.isArray(ast) ? ast[0] : ast;
  if (Array.isArray(ast) && ast.length > 1) throw new SqlError('syntax', 'Expected one query', posAt(text, start));
  return new Converter(text, side, leading(side.text)).select(node, posAt(text, start));
}

/** Parses one scalar expression spanning tokens[from..to) of `text` (computed columns, watermarks). */
export function parseExpression(text: string, tokens: readonly Token[], from: number, to: number): Expr {
  const span = tokens.slice(from, to);
  if (span.length === 0) throw new SqlError('syntax', 'Expected an expression', posAt(text, tokens[from - 1]?.end ?? 0));
  const start = span[0]!.start;
  const end = span[span.length - 1]!.end;
  if (start < 7) throw new SqlError('syntax', 'Expected a statement', posAt(text, start));
  const side = rewriteForParser(text, span, start, end);
  // Put SELECT in the blanked text before the expression; positions are unchanged.
  const lineStart = side.text.lastIndexOf('\n', start - 1) + 1;
  const at = start - lineStart >= 7 ? start - 7 : Math.max(0, lineStart - 8);
  const sql = side.text.slice(0, at) + 'SELECT ' + side.text.slice(at + 7);
  const ast = astify(text, sql, span);
  const node = Array.isArray(ast) ? ast[0] : ast;
  const cols = node?.columns;
  if (!cols || cols.length !== 1) throw new SqlError('syntax', 'Expected one expression', posAt(text, start));
  return new Converter(text, side, leading(sql)).expr(cols[0].expr, posAt(text, start));
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function astify(original: string, sql: string, span: readonly Token[]): any {
  try {
    return parser.astify(sql, OPTIONS as never);
  } catch (e) {
    const loc = (e as { location?: { start?: { offset?: number } } }).location;
    const off = typeof loc?.start?.offset === 'number' ? loc.start.offset + leading(sql) : undefined;
    if (typeof off !== 'number') throw new SqlError('syntax', 'Syntax error in query', posAt(original, span[0]!.start));
    // node-sql-parser lists its whole grammar; name the token instead.
    const tok = span.find((t) => t.start <= off && off < t.end) ?? span.find((t) => t.start >= off);
    const msg = tok ? `Syntax error at or near ${describe(tok)}` : 'Syntax error: unexpected end of query';
    return throwAt(original, msg, tok ? tok.start : off);
  }
}

function throwAt(text: string, message: string, offset: number): never {
  throw new SqlError('syntax', message, posAt(text, offset));
}

function leading(sql: string): number {
  return sql.length - sql.trimStart().length;
}

import type { JobInfo, ResultColumn, StatementResult } from '../jobs/api.ts';

/** Text output of `weir`: aligned tables, statement results, SQL errors with a caret. Pure functions. */

/**
 * Columns a string takes in a terminal: CJK and emoji count 2 (Weibo text is mostly Chinese), combining
 * marks and zero-width characters 0, everything else 1.
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const ch of text) width += charWidth(ch.codePointAt(0) as number);
  return width;
}

function charWidth(cp: number): number {
  if (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0xfe00 && cp <= 0xfe0f)
  ) {
    return 0;
  }
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2;
  }
  return 1;
}

/** One value as a table cell: NULL for null, JSON for objects, control characters escaped. */
export function formatCell(value: unknown): string {
  let text: string;
  if (value === null || value === undefined) text = 'NULL';
  else if (typeof value === 'string') text = value;
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value);
  else text = JSON.stringify(value) ?? String(value);
  return text.replace(/[\n\r\t]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t'));
}

export type Align = 'left' | 'right';

/**
 * An aligned text table, psql style: header, separator, rows; columns separated by ` | `. Lines carry no
 * trailing spaces.
 */
export function formatTable(headers: readonly string[], rows: readonly (readonly string[])[], align: readonly Align[] = []): string[] {
  const widths = headers.map((h, i) => Math.max(displayWidth(h), ...rows.map((r) => displayWidth(r[i] ?? ''))));
  const pad = (text: string, i: number): string => {
    const fill = ' '.repeat((widths[i] as number) - displayWidth(text));
    return align[i] === 'right' ? fill + text : text + fill;
  };
  const line = (cells: readonly string[]): string => headers.map((_, i) => pad(cells[i] ?? '', i)).join(' | ').trimEnd();
  return [
    line(headers),
    widths.map((w) => '-'.repeat(w)).join('-+-'),
    ...rows.map(line),
  ];
}

export function rowCount(n: number): string {
  return `(${n} ${n === 1 ? 'row' : 'rows'})`;
}

/** A `rows` result: the table, then "(N rows)". Numeric columns are right-aligned. */
export function formatRows(columns: readonly ResultColumn[], rows: readonly (readonly unknown[])[]): string {
  const align: Align[] = columns.map((c, i) =>
    isNumericType(c.type) || (rows.length > 0 && rows.every((r) => r[i] === null || typeof r[i] === 'number' || typeof r[i] === 'bigint'))
      ? 'right'
      : 'left',
  );
  const cells = rows.map((r) => columns.map((_, i) => formatCell(r[i])));
  return [...formatTable(columns.map((c) => c.name), cells, align), rowCount(rows.length)].join('\n');
}

function isNumericType(type: string): boolean {
  return /^(TINYINT|SMALLINT|INT|INTEGER|BIGINT|FLOAT|REAL|DOUBLE|DECIMAL|NUMERIC)\b/i.test(type.trim());
}

/** One statement's result as the CLI prints it. */
export function formatResult(result: StatementResult): string {
  switch (result.kind) {
    case 'ok':
      return result.message ?? 'OK';
    case 'job':
      return `Job ${result.jobId ?? '?'} submitted`;
    case 'rows':
      return formatRows(result.columns ?? [], result.rows ?? []);
    default: {
      const never: never = result.kind;
      return `unknown result kind ${String(never)}`;
    }
  }
}

/** `weir jobs`: one line per job, then the errors of failed jobs. */
export function formatJobs(jobs: readonly JobInfo[]): string {
  if (jobs.length === 0) return 'No jobs.';
  const headers = ['id', 'name', 'state', 'records in', 'records out', 'rec/s in', 'late', 'bad', 'watermark'];
  const align: Align[] = ['left', 'left', 'left', 'right', 'right', 'right', 'right', 'right', 'left'];
  const rows = jobs.map((j) => [
    j.id,
    j.name,
    j.state,
    String(j.metrics.recordsIn),
    String(j.metrics.recordsOut),
    j.metrics.recordsInPerSecond.toFixed(1),
    String(j.metrics.recordsLate),
    String(j.metrics.recordsBad),
    j.metrics.watermark ?? '-',
  ]).map((r) => r.map(formatCell));
  const lines = formatTable(headers, rows, align);
  lines.push(`(${jobs.length} ${jobs.length === 1 ? 'job' : 'jobs'})`);
  for (const j of jobs) if (j.error) lines.push(`${j.id} ${j.state}: ${j.error}`);
  return lines.join('\n');
}

/** The error body of a failed `POST /v1/statements` (DESIGN.md §7). */
export interface StatementErrorInfo {
  readonly message: string;
  readonly statement?: number | null;
  readonly line?: number | null;
  readonly column?: number | null;
}

export interface RenderErrorOptions {
  /** Shown as `--> file:line:column` under the header. */
  readonly file?: string;
  /** Longest source line shown; longer lines are cut around the column. */
  readonly maxLineWidth?: number;
}

/**
 * `ERROR in statement N at line L, column C: message`, then the offending line of the SQL with a `^` under
 * the column (tabs and wide characters kept aligned). Parts that are unknown are left out.
 */
export function renderSqlError(sql: string, err: StatementErrorInfo, opts: RenderErrorOptions = {}): string {
  const { statement, line, column } = err;
  const where: string[] = [];
  if (isPositive(statement)) where.push(`in statement ${statement}`);
  if (isPositive(line)) where.push(isPositive(column) ? `at line ${line}, column ${column}` : `at line ${line}`);
  const out = [`ERROR${where.length > 0 ? ' ' + where.join(' ') : ''}: ${err.message}`];
  if (!isPositive(line)) return out.join('\n');

  const sourceLine = sql.split('\n')[line - 1];
  if (opts.file !== undefined) out.push(`  --> ${opts.file}:${line}${isPositive(column) ? `:${column}` : ''}`);
  if (sourceLine === undefined) return out.join('\n');

  const text = sourceLine.replace(/\r$/, '');
  const col = isPositive(column) ? Math.min(column, text.length + 1) : undefined;
  const { shown, caretIndex } = cutAround(text, col, opts.maxLineWidth ?? 120);
  const gutter = String(line);
  out.push(`${gutter} | ${shown}`);
  if (caretIndex !== undefined) {
    const lead = [...shown.slice(0, caretIndex)].map((ch) => (ch === '\t' ? '\t' : ' '.repeat(charWidth(ch.codePointAt(0) as number)))).join('');
    out.push(`${' '.repeat(gutter.length)} | ${lead}^`);
  }
  return out.join('\n');
}

function isPositive(n: number | null | undefined): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1;
}

/** Cuts a long line to about `max` characters around the 1-based column, marking cuts with `…`. */
function cutAround(text: string, column: number | undefined, max: number): { shown: string; caretIndex: number | undefined } {
  const index = column === undefined ? undefined : column - 1;
  if (text.length <= max) return { shown: text, caretIndex: index };
  let start = Math.max(0, Math.min((index ?? 0) - Math.floor(max / 2), text.length - max));
  if (isLowSurrogate(text.charCodeAt(start))) start++;
  let end = Math.min(text.length, start + max);
  if (isLowSurrogate(text.charCodeAt(end))) end++;
  const head = start > 0 ? '…' : '';
  const tail = end < text.length ? '…' : '';
  return {
    shown: head + text.slice(start, end) + tail,
    caretIndex: index === undefined ? undefined : index - start + head.length,
  };
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

import { h } from './dom.ts';
import type { Child } from './dom.ts';
import { cellText, isNumeric } from './format.ts';
import type { ResultColumn, Row } from './api.ts';

/** Weir's and SQLite's numeric type names: their headers align right, over the numbers. */
export const NUMERIC = /^(TINYINT|SMALLINT|INT|INTEGER|BIGINT|FLOAT|DOUBLE|REAL|DECIMAL|NUMERIC)\b/i;

/** A result table in a horizontally scrolling box (phones), with NULLs and numbers styled. */
export function resultTable(columns: readonly ResultColumn[], rows: readonly Row[], opts: { header?: (c: ResultColumn, i: number) => Child; caption?: string } = {}): HTMLElement {
  return h(
    'div',
    { class: 'table-scroll' },
    h(
      'table',
      { class: 'grid' },
      opts.caption ? h('caption', {}, opts.caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c, i) => h('th', { title: c.type, class: NUMERIC.test(c.type) ? 'num' : null }, opts.header ? opts.header(c, i) : c.name)))),
      h('tbody', {}, rows.map((r) => rowElement(r))),
    ),
  );
}

export function rowElement(r: Row, attrs: Record<string, string> = {}): HTMLTableRowElement {
  return h('tr', attrs, r.map((v) => cell(v)));
}

export function cell(v: unknown): HTMLTableCellElement {
  return h('td', { class: v === null || v === undefined ? 'null' : isNumeric(v) ? 'num' : null }, cellText(v));
}

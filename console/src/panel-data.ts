// What a dashboard panel shows, read from its view: bars and tables take the top rows by the measure
// (within the newest window when the panel names a time column), time series group rows by time and series.
import { api } from './api.ts';
import type { Panel, QueryResult, ResultColumn, Row } from './api.ts';
import { cellText, parseTs } from './format.ts';

export const DEFAULT_LIMIT = 10;
/** Rows read for a time series (newest first). */
const SERIES_ROWS = 5000;
const MAX_SERIES = 10;

export type PanelData =
  | { readonly chart: 'bar'; readonly window: string | null; readonly bars: readonly { label: unknown; value: number }[] }
  | { readonly chart: 'table'; readonly window: string | null; readonly columns: readonly ResultColumn[]; readonly rows: readonly Row[] }
  | { readonly chart: 'timeseries'; readonly xs: readonly number[]; readonly series: readonly { label: string; values: readonly (number | null)[] }[] };

const q = (n: string): string => `"${n.replace(/"/g, '""')}"`;

function index(columns: readonly ResultColumn[], name: string | undefined, what: string, panel: Panel): number {
  const i = name === undefined ? -1 : columns.findIndex((c) => c.name === name);
  if (i < 0) throw new Error(`panel "${panel.title}": view ${panel.view} has no ${what} column ${name === undefined ? '(none chosen)' : `'${name}'`}`);
  return i;
}

/** Top rows by the measure: those matching the panel's condition, else with a time column those of the newest time value (the latest window). */
async function topRows(p: Panel): Promise<{ result: QueryResult; window: string | null }> {
  const limit = p.limit ?? DEFAULT_LIMIT;
  if (p.where) {
    const result = await api.query(`SELECT * FROM ${q(p.view)} WHERE (${p.where})${p.measure ? ` ORDER BY ${q(p.measure)} DESC` : ''} LIMIT ${limit}`);
    const ti = result.columns.findIndex((c) => c.name === (p.time ?? 'window_start'));
    return { result, window: result.rows[0] && ti >= 0 ? cellText(result.rows[0][ti]) : null };
  }
  if (p.time) {
    const sql = `SELECT * FROM ${q(p.view)} WHERE ${q(p.time)} = (SELECT MAX(${q(p.time)}) FROM ${q(p.view)})${p.measure ? ` ORDER BY ${q(p.measure)} DESC` : ''} LIMIT ${limit}`;
    const result = await api.query(sql);
    const ti = result.columns.findIndex((c) => c.name === p.time);
    return { result, window: result.rows[0] && ti >= 0 ? cellText(result.rows[0][ti]) : null };
  }
  const result = await api.viewRows(p.view, { limit, offset: 0, ...(p.measure ? { order: `${p.measure}:desc` } : {}) });
  return { result, window: null };
}

export async function loadPanel(p: Panel): Promise<PanelData> {
  switch (p.chart) {
    case 'bar': {
      const { result, window } = await topRows(p);
      const ci = index(result.columns, p.category, 'category', p);
      const mi = index(result.columns, p.measure, 'measure', p);
      return { chart: 'bar', window, bars: result.rows.map((r) => ({ label: r[ci], value: Number(r[mi]) })) };
    }
    case 'table': {
      const { result, window } = await topRows(p);
      return { chart: 'table', window, columns: result.columns, rows: result.rows };
    }
    case 'timeseries': {
      if (!p.time) throw new Error(`panel "${p.title}": a time series needs a time column`);
      const r = p.where
        ? await api.query(`SELECT * FROM ${q(p.view)} WHERE (${p.where}) ORDER BY ${q(p.time)} DESC LIMIT ${SERIES_ROWS}`)
        : await api.viewRows(p.view, { limit: SERIES_ROWS, offset: 0, order: `${p.time}:desc` });
      const ti = index(r.columns, p.time, 'time', p);
      const mi = index(r.columns, p.measure, 'measure', p);
      const si = p.series ? index(r.columns, p.series, 'series', p) : -1;
      return { chart: 'timeseries', ...toSeries(r.rows, ti, mi, si) };
    }
    default: {
      const never: never = p.chart;
      throw new Error(`unknown chart ${String(never)}`);
    }
  }
}

/** Rows → one aligned line per series value (the biggest MAX_SERIES by total); a missing point is null. */
export function toSeries(rows: readonly Row[], ti: number, mi: number, si: number): { xs: number[]; series: { label: string; values: (number | null)[] }[] } {
  const byTime = new Map<number, Map<string, number>>();
  const totals = new Map<string, number>();
  for (const r of rows) {
    const t = parseTs(String(r[ti])) / 1000;
    if (!Number.isFinite(t)) continue;
    const label = si >= 0 ? cellText(r[si]) : 'value';
    const v = Number(r[mi]);
    const at = byTime.get(t) ?? new Map<string, number>();
    at.set(label, (at.get(label) ?? 0) + v);
    byTime.set(t, at);
    totals.set(label, (totals.get(label) ?? 0) + v);
  }
  const xs = [...byTime.keys()].sort((a, b) => a - b);
  const labels = [...totals.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, MAX_SERIES).map(([l]) => l).sort();
  return { xs, series: labels.map((label) => ({ label, values: xs.map((x) => byTime.get(x)?.get(label) ?? null) })) };
}

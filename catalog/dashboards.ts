/**
 * Dashboards: named sets of chart panels over materialized views, saved in the catalog for the web
 * console. A dashboard is plain data checked once here (field by field, the message naming the field);
 * whether its views exist is checked each time it is read, since views can be dropped after it was saved.
 */
import type { DashboardStore } from './dashboard-store.ts';

export type ChartKind = 'bar' | 'table' | 'timeseries';

export interface Panel {
  readonly title: string;
  /** A materialized view. */
  readonly view: string;
  readonly chart: ChartKind;
  /** bar: the column naming each bar. */
  readonly category?: string;
  /** bar: the bar's length; table: the order (descending); timeseries: the line's value. */
  readonly measure?: string;
  /** timeseries: the x axis (e.g. window_start). */
  readonly time?: string;
  /** timeseries: one line per distinct value of this column. */
  readonly series?: string;
  /** bar and table: how many rows (top N). */
  readonly limit?: number;
  /** A SQL condition (SQLite's dialect, over the view) the console adds to its query. */
  readonly where?: string;
}

export interface Dashboard {
  readonly name: string;
  readonly title: string;
  /** The dashboard the console opens on; at most one has it. */
  readonly default: boolean;
  readonly panels: readonly Panel[];
}

/** A dashboard as read back: a panel whose view (or a column of it) is missing carries `error`. */
export interface ResolvedDashboard extends Dashboard {
  readonly panels: readonly (Panel & { readonly error?: string })[];
}

/** What a panel's view looks like now: its kind and column names; undefined when no such name exists. */
export type ViewLookup = (name: string) => { readonly kind: 'table' | 'view' | 'materializedView'; readonly columns: readonly string[] } | undefined;

export interface DashboardService {
  list(): ResolvedDashboard[];
  get(name: string): ResolvedDashboard | undefined;
  /** Creates or replaces; a DashboardError (400) for an invalid body. */
  put(name: string, body: unknown): { readonly dashboard: ResolvedDashboard; readonly created: boolean };
  /** False for an unknown name. */
  delete(name: string): boolean;
}

/** An invalid dashboard: the user's mistake (400), naming the field. */
export class DashboardError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'DashboardError';
  }
}

export const CHART_KINDS: readonly ChartKind[] = ['bar', 'table', 'timeseries'];
const MAX_PANELS = 50;
const MAX_LIMIT = 10_000;
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const DASHBOARD_FIELDS = new Set(['name', 'title', 'default', 'panels']);
const PANEL_FIELDS = new Set(['title', 'view', 'chart', 'category', 'measure', 'time', 'series', 'limit', 'where']);
const COLUMN_FIELDS = ['category', 'measure', 'time', 'series'] as const;

/** The columns each chart cannot do without. */
export function requiredFields(chart: ChartKind): readonly (typeof COLUMN_FIELDS)[number][] {
  switch (chart) {
    case 'bar':
      return ['category', 'measure'];
    case 'table':
      return ['measure'];
    case 'timeseries':
      return ['time', 'measure'];
    default: {
      const never: never = chart;
      return never;
    }
  }
}

export function checkDashboardName(name: string): void {
  if (!NAME.test(name)) throw new DashboardError('name', `'${name}' is not a valid dashboard name (letters, digits, _ . -; at most 64; not starting with . or -)`);
}

/** Checks a PUT body and returns the dashboard it describes (titles default to the names). */
export function parseDashboard(name: string, body: unknown): Dashboard {
  checkDashboardName(name);
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new DashboardError('body', 'expected a JSON object {"title", "panels": [...]}');
  const o = body as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!DASHBOARD_FIELDS.has(k)) throw new DashboardError(k, `unknown field (known: ${[...DASHBOARD_FIELDS].join(', ')})`);
  if (o['name'] !== undefined && o['name'] !== name) throw new DashboardError('name', `'${String(o['name'])}' differs from the name in the URL ('${name}')`);
  const title = optionalText(o['title'], 'title', 200) ?? name;
  if (o['default'] !== undefined && typeof o['default'] !== 'boolean') throw new DashboardError('default', 'must be true or false');
  if (!Array.isArray(o['panels'])) throw new DashboardError('panels', 'required: an array of panels');
  if (o['panels'].length > MAX_PANELS) throw new DashboardError('panels', `at most ${MAX_PANELS} panels`);
  const panels = o['panels'].map((p, i) => parsePanel(p, `panels[${i}]`));
  return { name, title, default: o['default'] === true, panels };
}

function parsePanel(v: unknown, at: string): Panel {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DashboardError(at, 'expected an object {"title", "view", "chart", ...}');
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) if (!PANEL_FIELDS.has(k)) throw new DashboardError(`${at}.${k}`, `unknown field (known: ${[...PANEL_FIELDS].join(', ')})`);
  const view = optionalText(o['view'], `${at}.view`, 128);
  if (view === undefined) throw new DashboardError(`${at}.view`, 'required: the materialized view to chart');
  const chart = o['chart'];
  if (chart === undefined) throw new DashboardError(`${at}.chart`, `required: one of ${CHART_KINDS.join(', ')}`);
  if (typeof chart !== 'string' || !(CHART_KINDS as readonly string[]).includes(chart)) {
    throw new DashboardError(`${at}.chart`, `unknown chart '${String(chart)}' (known: ${CHART_KINDS.join(', ')})`);
  }
  const kind = chart as ChartKind;
  const columns: Partial<Record<(typeof COLUMN_FIELDS)[number], string>> = {};
  for (const f of COLUMN_FIELDS) {
    const c = optionalText(o[f], `${at}.${f}`, 128);
    if (c !== undefined) columns[f] = c;
  }
  for (const f of requiredFields(kind)) {
    if (columns[f] === undefined) throw new DashboardError(`${at}.${f}`, `required for a ${kind} chart (${requiredFields(kind).join(' and ')})`);
  }
  const limit = o['limit'];
  if (limit !== undefined && (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT)) {
    throw new DashboardError(`${at}.limit`, `must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const where = optionalText(o['where'], `${at}.where`, 2000);
  // One condition, not a way to append statements: the query endpoint refuses stacked statements anyway.
  if (where !== undefined && where.includes(';')) throw new DashboardError(`${at}.where`, 'must be one condition, without ;');
  return {
    title: optionalText(o['title'], `${at}.title`, 200) ?? view,
    view,
    chart: kind,
    ...columns,
    ...(limit !== undefined ? { limit: limit as number } : kind === 'bar' || kind === 'table' ? { limit: 10 } : {}),
    ...(where !== undefined ? { where } : {}),
  };
}

function optionalText(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new DashboardError(field, `must be a string, not ${v === null ? 'null' : typeof v}`);
  const s = v.trim();
  if (s === '') throw new DashboardError(field, 'must not be empty');
  if (s.length > max) throw new DashboardError(field, `at most ${max} characters`);
  return s;
}

/** Marks the panels whose view is gone, is not a materialized view, or lacks a column the panel names. */
export function resolveDashboard(d: Dashboard, lookup: ViewLookup): ResolvedDashboard {
  return {
    ...d,
    panels: d.panels.map((p) => {
      const error = panelError(p, lookup);
      return error ? { ...p, error } : p;
    }),
  };
}

function panelError(p: Panel, lookup: ViewLookup): string | undefined {
  const v = lookup(p.view);
  if (!v) return `unknown view '${p.view}'`;
  if (v.kind !== 'materializedView') return `'${p.view}' is a ${v.kind === 'table' ? 'table' : 'view'}, not a materialized view: only materialized views can be charted`;
  const have = new Set(v.columns.map((c) => c.toLowerCase()));
  // A view whose columns are unknown (its job's table not yet created) is not reported as broken.
  if (have.size === 0) return undefined;
  for (const f of COLUMN_FIELDS) {
    const c = p[f];
    if (c !== undefined && !have.has(c.toLowerCase())) return `view '${p.view}' has no column '${c}' (${f}); it has ${v.columns.join(', ')}`;
  }
  return undefined;
}

/** The dashboards of a catalog: checked on the way in, resolved against the views on the way out. */
export class Dashboards implements DashboardService {
  constructor(
    private readonly store: DashboardStore,
    private readonly lookup: ViewLookup,
  ) {}

  list(): ResolvedDashboard[] {
    return this.store.list().map((d) => resolveDashboard(d, this.lookup));
  }

  get(name: string): ResolvedDashboard | undefined {
    const d = this.store.get(name);
    return d ? resolveDashboard(d, this.lookup) : undefined;
  }

  put(name: string, body: unknown): { readonly dashboard: ResolvedDashboard; readonly created: boolean } {
    const d = parseDashboard(name, body);
    const created = this.store.put(d);
    return { dashboard: resolveDashboard(d, this.lookup), created };
  }

  delete(name: string): boolean {
    return this.store.delete(name);
  }
}

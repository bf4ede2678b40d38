import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../catalog/catalog.ts';
import { DashboardError, Dashboards, parseDashboard, resolveDashboard } from '../../catalog/dashboards.ts';
import type { ViewLookup } from '../../catalog/dashboards.ts';
import { CatalogStore } from '../../catalog/store.ts';
import { Planner, buildTable } from '../../engine/plan/planner.ts';
import { parseScript } from '../../engine/sql/parse.ts';

const weibo = join(import.meta.dirname, '..', '..', 'examples', 'weibo');

const bar = { title: 'Hot topics', view: 'hot_topics', chart: 'bar', category: 'topic', measure: 'cnt', limit: 5 };

/** The field named by the 400 a body gets. */
function fieldOf(body: unknown, name = 'd'): string {
  try {
    parseDashboard(name, body);
  } catch (e) {
    if (e instanceof DashboardError) return e.field;
    throw e;
  }
  throw new Error('accepted');
}

describe('parseDashboard', () => {
  it('accepts the three charts, defaulting titles to names and limits to 10', () => {
    const d = parseDashboard('weibo', {
      panels: [
        { view: 'hot_topics', chart: 'bar', category: 'topic', measure: 'cnt' },
        { title: 'Bloggers', view: 'bloggers', chart: 'table', measure: 'engagement', where: "loc = 'Beijing'" },
        { title: 'Per minute', view: 'ppm', chart: 'timeseries', time: 'window_start', measure: 'posts', series: 'type' },
      ],
    });
    expect(d).toEqual({
      name: 'weibo',
      title: 'weibo',
      default: false,
      panels: [
        { title: 'hot_topics', view: 'hot_topics', chart: 'bar', category: 'topic', measure: 'cnt', limit: 10 },
        { title: 'Bloggers', view: 'bloggers', chart: 'table', measure: 'engagement', limit: 10, where: "loc = 'Beijing'" },
        { title: 'Per minute', view: 'ppm', chart: 'timeseries', time: 'window_start', measure: 'posts', series: 'type' },
      ],
    });
  });

  it('names the field of each mistake', () => {
    expect(fieldOf('x')).toBe('body');
    expect(fieldOf({ title: 'x' })).toBe('panels');
    expect(fieldOf({ panels: {} })).toBe('panels');
    expect(fieldOf({ panels: [], colour: 'red' })).toBe('colour');
    expect(fieldOf({ panels: [], default: 'yes' })).toBe('default');
    expect(fieldOf({ panels: [], title: 3 })).toBe('title');
    expect(fieldOf({ name: 'other', panels: [] })).toBe('name');
    expect(fieldOf({ panels: [] }, 'bad/name')).toBe('name');
    expect(fieldOf({ panels: [bar, { ...bar, chart: 'pie' }] })).toBe('panels[1].chart');
    expect(fieldOf({ panels: [{ ...bar, chart: undefined }] })).toBe('panels[0].chart');
    expect(fieldOf({ panels: [{ ...bar, view: undefined }] })).toBe('panels[0].view');
    expect(fieldOf({ panels: [{ ...bar, view: '  ' }] })).toBe('panels[0].view');
    expect(fieldOf({ panels: [{ ...bar, category: undefined }] })).toBe('panels[0].category');
    expect(fieldOf({ panels: [{ ...bar, measure: 7 }] })).toBe('panels[0].measure');
    expect(fieldOf({ panels: [{ view: 'v', chart: 'table' }] })).toBe('panels[0].measure');
    expect(fieldOf({ panels: [{ view: 'v', chart: 'timeseries', measure: 'm' }] })).toBe('panels[0].time');
    expect(fieldOf({ panels: [{ ...bar, limit: 0 }] })).toBe('panels[0].limit');
    expect(fieldOf({ panels: [{ ...bar, limit: 2.5 }] })).toBe('panels[0].limit');
    expect(fieldOf({ panels: [{ ...bar, mesure: 'x' }] })).toBe('panels[0].mesure');
    expect(fieldOf({ panels: [{ ...bar, where: '1=1; DELETE FROM x' }] })).toBe('panels[0].where');
    expect(fieldOf({ panels: [null] })).toBe('panels[0]');
  });

  it('says which charts exist and which fields a chart needs', () => {
    expect(() => parseDashboard('d', { panels: [{ ...bar, chart: 'pie' }] })).toThrow("panels[0].chart: unknown chart 'pie' (known: bar, table, timeseries)");
    expect(() => parseDashboard('d', { panels: [{ view: 'v', chart: 'timeseries', measure: 'm' }] })).toThrow('panels[0].time: required for a timeseries chart (time and measure)');
  });
});

describe('resolveDashboard', () => {
  const lookup: ViewLookup = (n) =>
    n === 'hot_topics'
      ? { kind: 'materializedView', columns: ['window_start', 'topic', 'cnt'] }
      : n === 'plain'
        ? { kind: 'view', columns: ['topic', 'cnt'] }
        : undefined;

  it('reports a missing view, a view that is not materialized and a missing column, and keeps the panel', () => {
    const d = parseDashboard('d', {
      panels: [bar, { ...bar, view: 'gone' }, { ...bar, view: 'plain' }, { ...bar, measure: 'posts' }],
    });
    const r = resolveDashboard(d, lookup);
    expect(r.panels.map((p) => p.error)).toEqual([
      undefined,
      "unknown view 'gone'",
      "'plain' is a view, not a materialized view: only materialized views can be charted",
      "view 'hot_topics' has no column 'posts' (measure); it has window_start, topic, cnt",
    ]);
    expect(r.panels[1]).toMatchObject({ view: 'gone', chart: 'bar', category: 'topic' });
  });
});

describe('the dashboard store', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('creates, replaces, lists and deletes; one default at most; survives reopening', () => {
    dir = mkdtempSync(join(tmpdir(), 'weir-dash-'));
    let store = new CatalogStore(dir);
    const lookup: ViewLookup = () => ({ kind: 'materializedView', columns: [] });
    let ds = new Dashboards(store.dashboards, lookup);
    expect(ds.put('a', { title: 'A', default: true, panels: [bar] }).created).toBe(true);
    expect(ds.put('b', { panels: [] }).created).toBe(true);
    expect(ds.put('a', { title: 'A2', default: true, panels: [bar, bar] }).created).toBe(false);
    expect(ds.get('A')?.title).toBe('A2');
    ds.put('b', { default: true, panels: [] });
    expect(ds.list().map((d) => [d.name, d.default])).toEqual([
      ['a', false],
      ['b', true],
    ]);
    store.close();

    store = new CatalogStore(dir);
    ds = new Dashboards(store.dashboards, lookup);
    expect(ds.get('a')).toEqual({ name: 'a', title: 'A2', default: false, panels: [{ ...bar, limit: 5 }, { ...bar, limit: 5 }] });
    expect(ds.get('b')?.default).toBe(true);
    expect(ds.delete('a')).toBe(true);
    expect(ds.delete('a')).toBe(false);
    expect(ds.list().map((d) => d.name)).toEqual(['b']);
    store.close();
  });
});

describe('examples/weibo/dashboard.json', () => {
  it('is valid and charts columns that the Weibo views have', () => {
    // The views of views.sql, planned over tables.sql, as the demo creates them.
    const catalog = new Catalog();
    const lookup = new Map<string, string[]>();
    for (const file of ['tables.sql', 'views.sql']) {
      for (const { statement } of parseScript(readFileSync(join(weibo, file), 'utf8'))) {
        if (statement.kind === 'createTable') {
          catalog.add({ kind: 'table', name: statement.name, stmt: statement, table: buildTable(statement, { timeZone: 'UTC' }), sql: statement.text, createdAt: '' });
        } else if (statement.kind === 'createMaterializedView') {
          const root = new Planner(catalog, { timeZone: 'UTC' }).planQuery(statement.query);
          lookup.set(statement.name, root.schema.map((c) => c.name));
        }
      }
    }
    const d = parseDashboard('weibo', JSON.parse(readFileSync(join(weibo, 'dashboard.json'), 'utf8')));
    expect(d.panels.map((p) => p.chart)).toEqual(['bar', 'table', 'timeseries']);
    const resolved = resolveDashboard(d, (n) => (lookup.has(n) ? { kind: 'materializedView', columns: lookup.get(n)! } : undefined));
    expect(resolved.panels.map((p) => p.error ?? 'ok')).toEqual(['ok', 'ok', 'ok']);
    expect(resolved.panels[2]).toMatchObject({ view: 'posts_per_minute', time: 'window_start', series: 'type' });
  });
});

import { api, ApiError } from '../api.ts';
import type { ChartKind, Dashboard, Panel, ResultColumn, Row, ViewInfo } from '../api.ts';
import { barChart } from '../charts/bar.ts';
import { timeChart } from '../charts/timeseries.ts';
import { fill, h } from '../dom.ts';
import { DEFAULT_LIMIT, loadPanel } from '../panel-data.ts';
import { paths } from '../router.ts';
import type { PageContext } from '../router.ts';
import { Scope } from '../scope.ts';
import { resultTable } from '../table.ts';
import { errorBlock, mountSql } from './sql.ts';

/** Panels re-read their view this often: cheap queries over SQLite, and windows close once a minute or so. */
const REFRESH_MS = 3000;
const CHARTS: readonly ChartKind[] = ['bar', 'table', 'timeseries'];

/** `/`: the default dashboard when there is one, else the SQL editor. */
export function mountHome(root: HTMLElement, ctx: PageContext): void {
  api
    .dashboards()
    .then(({ dashboards }) => {
      if (!ctx.scope.alive) return;
      const d = dashboards.find((x) => x.default);
      if (d) showDashboard(root, ctx, d);
      else mountSql(root, ctx);
    })
    .catch(() => ctx.scope.alive && mountSql(root, ctx));
}

export function mountDashboards(root: HTMLElement, ctx: PageContext): void {
  ctx.title('Dashboards');
  const list = h('div', { class: 'dashboard-list' });
  const name = h('input', { type: 'text', placeholder: 'name (letters, digits, - and _)', pattern: '[A-Za-z0-9_-]+', required: true, 'aria-label': 'Dashboard name' });
  const title = h('input', { type: 'text', placeholder: 'title', 'aria-label': 'Dashboard title' });
  const note = h('div');
  const create = h(
    'form',
    {
      class: 'inline-form card',
      onsubmit: async (ev: Event) => {
        ev.preventDefault();
        try {
          const d = await api.saveDashboard({ name: name.value.trim(), title: title.value.trim() || name.value.trim(), panels: [] });
          ctx.navigate(`${paths.dashboard(d.name ?? name.value.trim())}?edit=1`);
        } catch (e) {
          fill(note, errorBlock(e));
        }
      },
    },
    h('h2', {}, 'New dashboard'),
    name,
    title,
    h('button', { type: 'submit', class: 'primary' }, 'Create'),
  );
  fill(root, list, create, note);
  api
    .dashboards()
    .then(({ dashboards }) => {
      if (!ctx.scope.alive) return;
      fill(
        list,
        dashboards.length === 0
          ? h('p', { class: 'muted' }, 'No dashboards yet.')
          : h(
              'ul',
              { class: 'cards' },
              dashboards.map((d) =>
                h(
                  'li',
                  { class: 'card' },
                  h('a', { href: paths.dashboard(d.name) }, h('strong', {}, d.title || d.name)),
                  d.default ? h('span', { class: 'badge' }, 'start page') : null,
                  h('div', { class: 'muted small' }, `${d.panels.length} panel${d.panels.length === 1 ? '' : 's'}: ${d.panels.map((p) => p.title).join(', ')}`),
                ),
              ),
            ),
      );
    })
    .catch((e) => ctx.scope.alive && fill(list, errorBlock(e)));
}

export function mountDashboard(root: HTMLElement, ctx: PageContext, name: string): void {
  ctx.title(name);
  fill(root, h('p', { class: 'muted' }, 'Loading…'));
  api
    .dashboard(name)
    .then((d) => ctx.scope.alive && showDashboard(root, ctx, d, new URLSearchParams(location.search).has('edit')))
    .catch((e) => ctx.scope.alive && fill(root, errorBlock(e)));
}

function showDashboard(root: HTMLElement, ctx: PageContext, saved: Dashboard, editing = false): void {
  let draft: Dashboard = saved;
  let panelScope: Scope | undefined;
  const grid = h('div', { class: 'panels' });
  const editor = h('div', { class: 'dashboard-editor' });
  const note = h('div');
  const editButton = h('button', { type: 'button' }, 'Edit');
  const toolbar = h('div', { class: 'toolbar' }, h('a', { href: '/dashboards', class: 'small' }, 'All dashboards'), editButton);

  const renderPanels = (): void => {
    panelScope?.dispose();
    const scope = new Scope();
    panelScope = scope;
    ctx.scope.onDispose(() => scope.dispose());
    fill(
      grid,
      draft.panels.length === 0 ? h('p', { class: 'muted' }, 'No panels yet. Edit to add one.') : null,
      draft.panels.map((p, i) => panelCard(p, scope, editing ? () => removePanel(i) : undefined)),
    );
  };
  const removePanel = (i: number): void => {
    draft = { ...draft, panels: draft.panels.filter((_, k) => k !== i) };
    renderPanels();
  };
  const renderEditor = (): void => {
    editButton.textContent = editing ? 'Done' : 'Edit';
    if (!editing) {
      fill(editor);
      return;
    }
    fill(
      editor,
      panelForm((p) => {
        draft = { ...draft, panels: [...draft.panels, p] };
        renderPanels();
      }),
      dashboardForm(draft, async () => {
        if (!confirm(`Delete the dashboard '${saved.name}'?`)) return;
        try {
          await api.deleteDashboard(saved.name);
          ctx.navigate('/dashboards');
        } catch (e) {
          fill(note, errorBlock(e));
        }
      }, async (title, isDefault) => {
        draft = { ...draft, title, default: isDefault };
        try {
          saved = await api.saveDashboard(draft);
          draft = saved;
          ctx.title(saved.title || saved.name);
          fill(note, h('p', { class: 'saved muted small' }, `Saved ${new Date().toLocaleTimeString()}.`));
        } catch (e) {
          fill(note, errorBlock(e));
        }
      }),
    );
  };
  editButton.addEventListener('click', () => {
    editing = !editing;
    renderEditor();
    renderPanels();
  });

  ctx.title(saved.title || saved.name);
  fill(root, toolbar, editor, note, grid);
  renderEditor();
  renderPanels();
}

function panelCard(p: Panel, scope: Scope, remove?: () => void): HTMLElement {
  const status = h('span', { class: 'muted small panel-status' });
  const content = h('div', { class: 'panel-content' });
  const card = h(
    'section',
    { class: `card panel panel-${p.chart}`, 'data-panel': p.title, 'data-chart': p.chart },
    h('header', { class: 'panel-head' }, h('h2', {}, p.title), status, remove ? h('button', { type: 'button', class: 'small', onclick: remove }, 'Remove') : null),
    content,
  );
  const bars = p.chart === 'bar' ? barChart() : undefined;
  const series = p.chart === 'timeseries' ? timeChart({ height: 220 }) : undefined;
  if (series) scope.onDispose(() => series.destroy());
  fill(content, bars?.element ?? series?.element ?? null);
  let updates = 0;
  if (p.error) {
    // The server already knows the panel cannot be drawn (its view or a column is gone).
    fill(content, h('div', { class: 'error-box' }, p.error));
    return card;
  }

  scope.every(
    REFRESH_MS,
    async () => {
      const d = await loadPanel(p);
      if (!scope.alive) return;
      card.dataset['updates'] = String(++updates);
      switch (d.chart) {
        case 'bar':
          bars!.setData(d.bars);
          card.dataset['window'] = d.window ?? '';
          status.textContent = d.window ? `window ${d.window}` : `top ${p.limit ?? DEFAULT_LIMIT}`;
          break;
        case 'table':
          fill(content, d.rows.length ? windowless(d.columns, d.rows, d.window) : h('p', { class: 'muted' }, 'No rows yet.'));
          card.dataset['window'] = d.window ?? '';
          card.dataset['rows'] = String(d.rows.length);
          status.textContent = d.window ? `window ${d.window}` : `top ${p.limit ?? DEFAULT_LIMIT}`;
          break;
        case 'timeseries':
          series!.setData(
            d.xs,
            d.series.map((s) => s.values),
            d.series.map((s) => s.label),
          );
          status.textContent = d.xs.length === 0 ? 'no rows yet' : `${d.xs.length} point${d.xs.length === 1 ? '' : 's'}`;
          break;
        default: {
          const never: never = d;
          throw new Error(`unknown panel data ${JSON.stringify(never)}`);
        }
      }
    },
    (e) => {
      status.textContent = '';
      fill(content, errorBlock(e instanceof ApiError || e instanceof Error ? e : new Error(String(e))));
    },
  );
  return card;
}

/** A table of one window's rows: the window bounds are in the panel's heading, so their columns are left out. */
function windowless(columns: readonly ResultColumn[], rows: readonly Row[], window: string | null): HTMLElement {
  if (!window) return resultTable(columns, rows);
  const keep = columns.map((c, i) => (c.name === 'window_start' || c.name === 'window_end' ? -1 : i)).filter((i) => i >= 0);
  return resultTable(
    keep.map((i) => columns[i]!),
    rows.map((r) => keep.map((i) => r[i])),
  );
}

function select(label: string, options: readonly string[], value = '', allowNone = false): HTMLSelectElement {
  const el = h('select', { 'aria-label': label, name: label }, allowNone ? h('option', { value: '' }, '(none)') : null, options.map((o) => h('option', { value: o }, o)));
  el.value = value || (allowNone ? '' : (options[0] ?? ''));
  return el;
}

function panelForm(add: (p: Panel) => void): HTMLElement {
  const form = h('form', { class: 'card panel-form' }, h('h2', {}, 'Add a panel'), h('p', { class: 'muted' }, 'Loading views…'));
  api
    .views()
    .then(({ views }) => {
      const title = h('input', { type: 'text', name: 'title', placeholder: 'Panel title', required: true, 'aria-label': 'Panel title' });
      const view = select('view', views.map((v) => v.name));
      const chart = select('chart', CHARTS);
      const limit = h('input', { type: 'number', name: 'limit', min: 1, max: 100, value: DEFAULT_LIMIT, 'aria-label': 'limit' });
      const where = h('input', { type: 'text', name: 'where', placeholder: "e.g. type = 'original'", 'aria-label': 'where' });
      const fields = h('div', { class: 'column-fields' });
      let cols: { category: HTMLSelectElement; measure: HTMLSelectElement; time: HTMLSelectElement; series: HTMLSelectElement } | undefined;
      const columnsOf = (v: ViewInfo | undefined): string[] => v?.columns.map((c) => c.name) ?? [];
      const refresh = (): void => {
        const names = columnsOf(views.find((v) => v.name === view.value));
        const guess = (re: RegExp): string => names.find((n) => re.test(n)) ?? '';
        cols = {
          category: select('category', names, guess(/^(?!window_)/), true),
          measure: select('measure', names, guess(/posts|count|total|sum|engagement|^n$/i), true),
          time: select('time', names, guess(/^window_start$/), true),
          series: select('series', names, '', true),
        };
        fill(fields, Object.entries(cols).map(([k, el]) => h('label', {}, k, el)));
      };
      view.addEventListener('change', refresh);
      refresh();
      fill(
        form,
        h('h2', {}, 'Add a panel'),
        views.length === 0 ? h('p', { class: 'muted' }, 'No materialized views to chart yet.') : null,
        h('div', { class: 'form-row' }, h('label', {}, 'title', title), h('label', {}, 'view', view), h('label', {}, 'chart', chart), h('label', {}, 'limit', limit)),
        fields,
        h('div', { class: 'form-row' }, h('label', { class: 'wide' }, 'where (optional SQL condition)', where)),
        h('button', { type: 'submit', class: 'primary' }, 'Add panel'),
      );
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        if (!cols || !view.value) return;
        const opt = (el: HTMLSelectElement): string | undefined => el.value || undefined;
        const p: Panel = {
          title: title.value.trim() || view.value,
          view: view.value,
          chart: chart.value as ChartKind,
          ...(opt(cols.category) ? { category: opt(cols.category) } : {}),
          ...(opt(cols.measure) ? { measure: opt(cols.measure) } : {}),
          ...(opt(cols.time) ? { time: opt(cols.time) } : {}),
          ...(opt(cols.series) ? { series: opt(cols.series) } : {}),
          limit: Number(limit.value) || DEFAULT_LIMIT,
          ...(where.value.trim() ? { where: where.value.trim() } : {}),
        };
        add(p);
        title.value = '';
      });
    })
    .catch((e) => fill(form, errorBlock(e)));
  return form;
}

function dashboardForm(d: Dashboard, remove: () => Promise<void>, save: (title: string, isDefault: boolean) => Promise<void>): HTMLElement {
  const title = h('input', { type: 'text', value: d.title, 'aria-label': 'Dashboard title' });
  const isDefault = h('input', { type: 'checkbox', 'aria-label': 'Start page' });
  isDefault.checked = !!d.default;
  return h(
    'form',
    {
      class: 'card inline-form',
      onsubmit: (ev: Event) => {
        ev.preventDefault();
        void save(title.value.trim() || d.name, isDefault.checked);
      },
    },
    h('label', {}, 'Title ', title),
    h('label', { class: 'check' }, isDefault, ' Open on the start page'),
    h('button', { type: 'submit', class: 'primary' }, 'Save dashboard'),
    h('button', { type: 'button', class: 'danger', onclick: () => void remove() }, 'Delete dashboard'),
  );
}

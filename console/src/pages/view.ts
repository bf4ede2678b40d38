import { api, ApiError } from '../api.ts';
import type { ResultColumn, ViewInfo } from '../api.ts';
import { fill, h } from '../dom.ts';
import { sqlEditor } from '../editor.ts';
import { fmtAgo, fmtInt } from '../format.ts';
import { stateBadge } from '../jobs-model.ts';
import { paths } from '../router.ts';
import type { PageContext } from '../router.ts';
import { NUMERIC, cell, resultTable } from '../table.ts';
import { errorBlock } from './sql.ts';

const PAGE = 50;
/** Live mode shows at most this many rows (the stream keeps flowing; the rest is a query away). */
const LIVE_MAX = 2000;

type Mode = 'browse' | 'live';

export function mountView(root: HTMLElement, ctx: PageContext, name: string): void {
  ctx.title(name);
  fill(root, h('p', { class: 'muted' }, 'Loading…'));
  api
    .view(name)
    .then((v) => ctx.scope.alive && show(v))
    .catch((e) => ctx.scope.alive && fill(root, errorBlock(e)));

  function show(v: ViewInfo): void {
    const columns: ResultColumn[] = v.columns.map((c) => ({ name: c.name, type: c.type }));
    const info = h('div', { class: 'view-info' });
    const renderInfo = (vi: ViewInfo): void =>
      fill(
        info,
        h('span', {}, h('strong', { class: 'row-count' }, fmtInt(vi.rowCount)), ' rows'),
        h('span', { class: 'muted' }, vi.key ? `key ${vi.key.join(', ')}` : 'append-only'),
        h('span', {}, 'job ', h('a', { href: paths.job(vi.jobId), class: 'mono' }, vi.jobId), ' ', vi.jobState ? h('span', { class: stateBadge(vi.jobState) }, vi.jobState) : null),
        h('span', { class: 'muted' }, `last commit ${fmtAgo(vi.freshness.committedAt)}`),
        vi.freshness.watermark ? h('span', { class: 'muted' }, `watermark ${vi.freshness.watermark}`) : null,
      );
    renderInfo(v);
    ctx.scope.every(
      5000,
      async () => {
        const vi = await api.view(name);
        if (ctx.scope.alive) renderInfo(vi);
      },
      () => undefined,
    );

    const browseButton = h('button', { type: 'button', class: 'tab', 'aria-pressed': 'true' }, 'Browse');
    const liveButton = h('button', { type: 'button', class: 'tab live-toggle', 'aria-pressed': 'false' }, 'Live');
    const panel = h('div', { class: 'view-panel' });
    let stopMode: (() => void) | undefined;
    const setMode = (m: Mode): void => {
      stopMode?.();
      browseButton.setAttribute('aria-pressed', String(m === 'browse'));
      liveButton.setAttribute('aria-pressed', String(m === 'live'));
      stopMode = m === 'browse' ? browse(panel, v, columns) : live(panel, v, columns);
    };
    ctx.scope.onDispose(() => stopMode?.());
    browseButton.addEventListener('click', () => setMode('browse'));
    liveButton.addEventListener('click', () => setMode('live'));

    const qResult = h('div', { class: 'query-result' });
    const qEditor = sqlEditor({ value: `SELECT * FROM ${quoteIdent(name)} LIMIT 20`, rows: 4, onRun: () => void runQuery(), label: 'Ad-hoc query' });
    const runQuery = async (): Promise<void> => {
      qEditor.markError(undefined);
      try {
        const r = await api.query(qEditor.value());
        if (ctx.scope.alive) fill(qResult, h('p', { class: 'muted small' }, `${r.rows.length} row${r.rows.length === 1 ? '' : 's'}`), resultTable(r.columns, r.rows));
      } catch (e) {
        if (!ctx.scope.alive) return;
        fill(qResult, errorBlock(e));
        if (e instanceof ApiError && e.line !== undefined) qEditor.markError({ line: e.line, column: e.column ?? 1 });
      }
    };

    fill(
      root,
      info,
      h('div', { class: 'tabs', role: 'group', 'aria-label': 'Mode' }, browseButton, liveButton),
      panel,
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Ad-hoc query'),
        h('p', { class: 'muted small' }, 'Read-only SELECT over the materialized views, in SQLite’s dialect.'),
        qEditor.element,
        h('div', { class: 'toolbar' }, h('button', { type: 'button', class: 'primary', onclick: () => void runQuery() }, 'Run query')),
        qResult,
      ),
      h('details', { class: 'card' }, h('summary', {}, 'Definition'), h('pre', { class: 'sql-text' }, v.sql)),
    );
    setMode('browse');
  }
}

function quoteIdent(n: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(n) ? n : `"${n.replace(/"/g, '""')}"`;
}

/** Pages of rows, sorted by a clicked column; refreshed every few seconds. */
function browse(panel: HTMLElement, v: ViewInfo, columns: readonly ResultColumn[]): () => void {
  let offset = 0;
  let order: { col: string; dir: 'asc' | 'desc' } | undefined;
  let alive = true;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tableBox = h('div');
  const pageInfo = h('span', { class: 'muted small page-info' });
  const prev = h('button', { type: 'button' }, '← Previous');
  const next = h('button', { type: 'button' }, 'Next →');
  fill(panel, tableBox, h('div', { class: 'toolbar pager' }, prev, next, pageInfo));

  const load = async (): Promise<void> => {
    clearTimeout(timer);
    try {
      const r = await api.viewRows(v.name, { limit: PAGE, offset, ...(order ? { order: `${order.col}:${order.dir}` } : {}) });
      if (!alive) return;
      fill(
        tableBox,
        resultTable(columns, r.rows, {
          header: (c) =>
            h(
              'button',
              {
                type: 'button',
                class: 'sort',
                'data-col': c.name,
                'aria-sort': order?.col === c.name ? (order.dir === 'asc' ? 'ascending' : 'descending') : 'none',
                onclick: () => {
                  order = order?.col === c.name && order.dir === 'desc' ? { col: c.name, dir: 'asc' } : { col: c.name, dir: 'desc' };
                  offset = 0;
                  void load();
                },
              },
              c.name,
              order?.col === c.name ? (order.dir === 'asc' ? ' ▲' : ' ▼') : '',
            ),
        }),
      );
      pageInfo.textContent = r.total === 0 ? 'No rows yet.' : `Rows ${fmtInt(offset + 1)}–${fmtInt(offset + r.rows.length)} of ${fmtInt(r.total)}`;
      prev.disabled = offset === 0;
      next.disabled = offset + PAGE >= r.total;
    } catch (e) {
      if (alive) fill(tableBox, errorBlock(e));
    }
    if (alive) timer = setTimeout(load, 5000);
  };
  prev.addEventListener('click', () => {
    offset = Math.max(0, offset - PAGE);
    void load();
  });
  next.addEventListener('click', () => {
    offset += PAGE;
    void load();
  });
  void load();
  return () => {
    alive = false;
    clearTimeout(timer);
  };
}

/** The view's change stream (SSE): rows appear, update in place and vanish as the job commits. */
function live(panel: HTMLElement, v: ViewInfo, columns: readonly ResultColumn[]): () => void {
  const body = h('tbody');
  const status = h('span', { class: 'live-status muted small' }, 'Connecting…');
  const counter = h('span', { class: 'small live-count' });
  fill(
    panel,
    h('div', { class: 'toolbar' }, h('span', { class: 'live-dot' }), status, counter),
    h('div', { class: 'table-scroll' }, h('table', { class: 'grid live' }, h('thead', {}, h('tr', {}, columns.map((c) => h('th', { title: c.type, class: NUMERIC.test(c.type) ? 'num' : null }, c.name)))), body)),
  );
  const rows = new Map<string, HTMLTableRowElement>();
  let seq = 0;
  let snapshotDone = false;
  const keyOf = (row: Record<string, unknown>): string => (v.key ? JSON.stringify(v.key.map((k) => row[k])) : JSON.stringify(columns.map((c) => row[c.name])));
  const render = (row: Record<string, unknown>, tr: HTMLTableRowElement): void => {
    tr.replaceChildren(...columns.map((c) => cell(row[c.name])));
    if (snapshotDone) {
      // Restart the highlight animation on every change of this row.
      tr.classList.remove('flash');
      void tr.offsetWidth;
      tr.classList.add('flash');
    }
  };
  const count = (): void => {
    counter.textContent = `${fmtInt(rows.size)} rows${rows.size >= LIVE_MAX ? ` (showing the first ${LIVE_MAX})` : ''}`;
  };

  const es = new EventSource(api.changesUrl(v.name));
  es.addEventListener('open', () => {
    status.textContent = snapshotDone ? 'Live' : 'Loading snapshot…';
  });
  es.addEventListener('error', () => {
    // EventSource reconnects by itself; a new snapshot then rebuilds the table.
    status.textContent = 'Reconnecting…';
    snapshotDone = false;
    seq = 0;
  });
  es.addEventListener('snapshot-end', () => {
    snapshotDone = true;
    status.textContent = 'Live';
    count();
  });
  es.addEventListener('change', (ev) => {
    const { op, row } = JSON.parse((ev as MessageEvent<string>).data) as { op: '+I' | '-U' | '+U' | '-D'; row: Record<string, unknown> };
    if (!snapshotDone && seq === 0 && rows.size > 0) {
      // First event after a reconnect: the snapshot replaces what was shown.
      rows.clear();
      body.replaceChildren();
    }
    const key = keyOf(row);
    switch (op) {
      case '+I':
      case '+U': {
        const existing = rows.get(key);
        if (existing) render(row, existing);
        else if (rows.size < LIVE_MAX) {
          const tr = h('tr', { 'data-key': key });
          render(row, tr);
          rows.set(key, tr);
          body.append(tr);
        }
        break;
      }
      case '-U':
        // The +U that follows updates the same row in place.
        break;
      case '-D':
        rows.get(key)?.remove();
        rows.delete(key);
        break;
      default: {
        const never: never = op;
        throw new Error(`unknown change op ${String(never)}`);
      }
    }
    seq++;
    if (snapshotDone) count();
  });
  return () => es.close();
}

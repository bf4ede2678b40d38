import { api, ApiError } from '../api.ts';
import type { StatementResult } from '../api.ts';
import { fill, h } from '../dom.ts';
import { sqlEditor } from '../editor.ts';
import { fmtAgo } from '../format.ts';
import { loadHistory, remember } from '../history.ts';
import type { HistoryEntry } from '../history.ts';
import { paths } from '../router.ts';
import type { PageContext } from '../router.ts';
import { resultTable } from '../table.ts';

const DRAFT_KEY = 'weir.sql.draft';
const EXAMPLE = `-- Statements end with ';'. Ctrl+Enter runs the script.
SHOW TABLES;`;

export function mountSql(root: HTMLElement, ctx: PageContext): void {
  ctx.title('SQL');
  const results = h('section', { class: 'results', 'aria-live': 'polite' });
  const historyList = h('ol', { class: 'history' });
  const runButton = h('button', { class: 'primary', type: 'button' }, 'Run');
  const status = h('span', { class: 'muted run-status' });
  const editor = sqlEditor({ value: localStorage.getItem(DRAFT_KEY) ?? EXAMPLE, rows: 12, onRun: () => void run(), label: 'SQL script' });
  editor.textarea.addEventListener('input', () => localStorage.setItem(DRAFT_KEY, editor.value()));

  const showHistory = (list: readonly HistoryEntry[]): void => {
    fill(
      historyList,
      list.length === 0
        ? h('li', { class: 'muted' }, 'Nothing run yet.')
        : list.map((e) =>
            h(
              'li',
              { class: e.ok ? 'ok' : 'failed' },
              h('button', { type: 'button', class: 'link', title: 'Load into the editor', onclick: () => editor.setValue(e.sql) }, e.sql.length > 160 ? `${e.sql.slice(0, 160)}…` : e.sql),
              h('span', { class: 'muted small' }, `${e.ok ? '' : 'failed · '}${fmtAgo(e.at)}`),
            ),
          ),
    );
  };

  let running = false;
  async function run(): Promise<void> {
    const sql = editor.value();
    if (running || !sql.trim()) return;
    running = true;
    runButton.disabled = true;
    status.textContent = 'Running…';
    editor.markError(undefined);
    try {
      const { results: rs } = await api.statements(sql);
      if (!ctx.scope.alive) return;
      fill(results, rs.length === 0 ? h('p', { class: 'muted' }, 'No statements.') : rs.map(resultBlock));
      status.textContent = `${rs.length} statement${rs.length === 1 ? '' : 's'} done`;
      showHistory(remember({ sql, at: new Date().toISOString(), ok: true }));
    } catch (e) {
      if (!ctx.scope.alive) return;
      status.textContent = '';
      fill(results, errorBlock(e));
      if (e instanceof ApiError && e.line !== undefined) editor.markError({ line: e.line, column: e.column ?? 1 });
      showHistory(remember({ sql, at: new Date().toISOString(), ok: false }));
    } finally {
      running = false;
      runButton.disabled = false;
    }
  }
  runButton.addEventListener('click', () => void run());

  fill(
    root,
    h(
      'div',
      { class: 'sql-layout' },
      h(
        'div',
        { class: 'sql-main' },
        editor.element,
        h('div', { class: 'toolbar' }, runButton, h('span', { class: 'muted small' }, 'Ctrl+Enter'), status),
        results,
      ),
      h('aside', { class: 'sql-history card' }, h('h2', {}, 'History'), historyList),
    ),
  );
  showHistory(loadHistory());
}

function resultBlock(r: StatementResult): HTMLElement {
  const head = h('div', { class: 'result-head' }, h('span', { class: 'badge' }, `#${r.statement}`));
  switch (r.kind) {
    case 'ok':
      return h('div', { class: 'result ok' }, head, h('span', {}, r.message ?? 'OK'));
    case 'job':
      return h(
        'div',
        { class: 'result job' },
        head,
        h('span', {}, r.message ?? 'Job submitted', ' — ', h('a', { href: paths.job(r.jobId ?? ''), class: 'job-link' }, `job ${r.jobId}`)),
      );
    case 'rows':
      return h(
        'div',
        { class: 'result rows' },
        head,
        h('span', { class: 'muted' }, `${r.rows?.length ?? 0} row${r.rows?.length === 1 ? '' : 's'}`),
        resultTable(r.columns ?? [], r.rows ?? []),
      );
    default: {
      const never: never = r.kind;
      return h('div', {}, String(never));
    }
  }
}

export function errorBlock(e: unknown): HTMLElement {
  if (e instanceof ApiError) {
    const where = [e.statement !== undefined ? `statement ${e.statement}` : '', e.line !== undefined ? `line ${e.line}, column ${e.column ?? 1}` : ''].filter(Boolean).join(', ');
    return h('div', { class: 'error-box', role: 'alert' }, h('strong', {}, where ? `Error in ${where}` : `Error (${e.status})`), h('div', { class: 'error-message' }, e.message));
  }
  return h('div', { class: 'error-box', role: 'alert' }, h('strong', {}, 'Error'), h('div', { class: 'error-message' }, e instanceof Error ? e.message : String(e)));
}

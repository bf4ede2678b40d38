import { api } from '../api.ts';
import { fill, h } from '../dom.ts';
import { fmtAgo, fmtInt } from '../format.ts';
import { stateBadge } from '../jobs-model.ts';
import { paths } from '../router.ts';
import type { PageContext } from '../router.ts';
import { errorBlock } from './sql.ts';

export function mountViews(root: HTMLElement, ctx: PageContext): void {
  ctx.title('Materialized views');
  const body = h('tbody');
  const note = h('div');
  fill(
    root,
    note,
    h(
      'div',
      { class: 'table-scroll' },
      h('table', { class: 'grid views' }, h('thead', {}, h('tr', {}, ['View', 'Rows', 'Key', 'Job', 'Last commit', 'Watermark then'].map((x) => h('th', {}, x)))), body),
    ),
  );
  ctx.scope.every(
    3000,
    async () => {
      const { views } = await api.views();
      if (!ctx.scope.alive) return;
      fill(note);
      fill(
        body,
        views.length === 0
          ? h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No materialized views yet. CREATE MATERIALIZED VIEW on the SQL page.'))
          : views.map((v) =>
              h(
                'tr',
                { 'data-view': v.name },
                h('td', {}, h('a', { href: paths.view(v.name) }, v.name)),
                h('td', { class: 'num' }, fmtInt(v.rowCount)),
                h('td', { class: 'mono small' }, v.key ? v.key.join(', ') : 'append-only'),
                h('td', {}, h('a', { href: paths.job(v.jobId), class: 'mono small' }, v.jobId), ' ', v.jobState ? h('span', { class: stateBadge(v.jobState) }, v.jobState) : null),
                h('td', { class: 'small' }, fmtAgo(v.freshness.committedAt)),
                h('td', { class: 'mono small' }, v.freshness.watermark ?? '–'),
              ),
            ),
      );
    },
    (e) => fill(note, errorBlock(e)),
  );
}

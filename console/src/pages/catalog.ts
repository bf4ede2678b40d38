import { api } from '../api.ts';
import type { Job, PlanJson, TableInfo, ViewInfo } from '../api.ts';
import { fill, h } from '../dom.ts';
import { fmtInt } from '../format.ts';
import { stateBadge } from '../jobs-model.ts';
import { paths } from '../router.ts';
import type { PageContext } from '../router.ts';
import { errorBlock } from './sql.ts';

interface SinkUse {
  readonly table: string;
  readonly connector: string;
  readonly job: Job;
}

/** Which tables jobs write to: the Sink node of each job's EXPLAIN JSON ('table=x, connector=y'). */
function sinksOf(jobs: readonly Job[]): SinkUse[] {
  const out: SinkUse[] = [];
  for (const job of jobs) {
    const plan = job.plan?.json as PlanJson | undefined;
    const sink = plan?.nodes.find((n) => n.operator === 'Sink');
    const m = sink && /table=([^,]+), connector=(.+)$/.exec(sink.detail);
    if (m) out.push({ table: m[1]!, connector: m[2]!, job });
  }
  return out;
}

export function mountCatalog(root: HTMLElement, ctx: PageContext): void {
  ctx.title('Catalog');
  fill(root, h('p', { class: 'muted' }, 'Loading…'));
  void load().catch((e) => ctx.scope.alive && fill(root, errorBlock(e)));

  async function load(): Promise<void> {
    const [{ tables }, { jobs }, views] = await Promise.all([api.tables(), api.jobs(), api.views().catch(() => ({ views: [] as ViewInfo[] }))]);
    // Details (partitions of Kafka tables) come from GET /v1/tables/:name.
    const details = await Promise.all(tables.map((t) => api.table(t.name).catch(() => t)));
    if (!ctx.scope.alive) return;
    const sinks = sinksOf(jobs);
    const plain = details.filter((t) => t.kind === 'table');
    const logical = details.filter((t) => t.kind === 'view');
    fill(
      root,
      h('section', {}, h('h2', {}, `Tables (${plain.length})`), plain.length ? plain.map((t) => tableCard(t, sinks)) : h('p', { class: 'muted' }, 'No tables. CREATE TABLE on the SQL page.')),
      h(
        'section',
        {},
        h('h2', {}, `Materialized views (${views.views.length})`),
        views.views.length
          ? h(
              'div',
              { class: 'table-scroll' },
              h(
                'table',
                { class: 'grid' },
                h('thead', {}, h('tr', {}, ['View', 'Rows', 'Key', 'Job'].map((x) => h('th', {}, x)))),
                h(
                  'tbody',
                  {},
                  views.views.map((v) =>
                    h(
                      'tr',
                      {},
                      h('td', {}, h('a', { href: paths.view(v.name) }, v.name)),
                      h('td', { class: 'num' }, fmtInt(v.rowCount)),
                      h('td', { class: 'mono small' }, v.key ? v.key.join(', ') : 'append-only'),
                      h('td', {}, h('a', { href: paths.job(v.jobId) }, v.jobId), ' ', v.jobState ? h('span', { class: stateBadge(v.jobState) }, v.jobState) : null),
                    ),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No materialized views.'),
      ),
      logical.length ? h('section', {}, h('h2', {}, `Views (${logical.length})`), logical.map((t) => tableCard(t, sinks))) : null,
      h(
        'section',
        {},
        h('h2', {}, `Sinks (${sinks.length})`),
        sinks.length
          ? h(
              'div',
              { class: 'table-scroll' },
              h(
                'table',
                { class: 'grid' },
                h('thead', {}, h('tr', {}, ['Table', 'Connector', 'Written by job', 'State'].map((x) => h('th', {}, x)))),
                h(
                  'tbody',
                  {},
                  sinks.map((s) =>
                    h(
                      'tr',
                      {},
                      h('td', { class: 'mono' }, s.table),
                      h('td', {}, s.connector),
                      h('td', {}, h('a', { href: paths.job(s.job.id) }, s.job.name)),
                      h('td', {}, h('span', { class: stateBadge(s.job.state) }, s.job.state)),
                    ),
                  ),
                ),
              ),
            )
          : h('p', { class: 'muted' }, 'No job writes to a table yet.'),
      ),
    );
  }
}

function tableCard(t: TableInfo, sinks: readonly SinkUse[]): HTMLElement {
  const writers = sinks.filter((s) => s.table === t.name);
  return h(
    'details',
    { class: 'card catalog-item', 'data-table': t.name },
    h(
      'summary',
      {},
      h('strong', { class: 'mono' }, t.name),
      ' ',
      h('span', { class: 'muted small' }, [t.options['connector'] ?? t.kind, t.options['topic'] ? `topic ${t.options['topic']}` : '', writers.length ? `sink of ${writers.length} job${writers.length > 1 ? 's' : ''}` : ''].filter(Boolean).join(' · ')),
      t.error ? h('span', { class: 'state state-failed' }, 'broken') : null,
    ),
    t.error ? h('div', { class: 'error-box' }, t.error) : null,
    h(
      'div',
      { class: 'catalog-grid' },
      h(
        'div',
        {},
        h('h3', {}, 'Schema'),
        h(
          'table',
          { class: 'grid compact' },
          h('tbody', {}, t.columns.map((c) => h('tr', {}, h('td', { class: 'mono' }, c.name), h('td', { class: 'mono muted' }, c.expr ? `AS ${c.expr}` : c.type)))),
        ),
        t.watermark ? h('p', { class: 'small' }, 'Watermark: ', h('code', {}, `${t.watermark.column} AS ${t.watermark.expr}`)) : null,
      ),
      Object.keys(t.options).length
        ? h(
            'div',
            {},
            h('h3', {}, 'Options'),
            h('table', { class: 'grid compact' }, h('tbody', {}, Object.entries(t.options).map(([k, v]) => h('tr', {}, h('td', { class: 'mono' }, k), h('td', { class: 'mono' }, v))))),
          )
        : null,
      t.partitions
        ? h(
            'div',
            {},
            h('h3', {}, `Partitions (${t.partitions.length})`),
            h(
              'table',
              { class: 'grid compact' },
              h('thead', {}, h('tr', {}, h('th', {}, 'Partition'), h('th', {}, 'End offset'))),
              h('tbody', {}, t.partitions.map((p) => h('tr', {}, h('td', { class: 'num' }, p.partition), h('td', { class: 'num' }, fmtInt(p.endOffset))))),
            ),
          )
        : null,
    ),
    t.kind === 'view' ? h('pre', { class: 'sql-text' }, t.sql) : null,
  );
}

import { api } from '../api.ts';
import type { Job } from '../api.ts';
import { fill, h } from '../dom.ts';
import { fmtAgo, fmtDuration, fmtInt, fmtRate } from '../format.ts';
import { canResume, canStop, lagOf, stateBadge, watermarkDelayOf } from '../jobs-model.ts';
import { paths } from '../router.ts';
import type { PageContext } from '../router.ts';
import { errorBlock } from './sql.ts';

const REFRESH_MS = 2000;

export function mountJobs(root: HTMLElement, ctx: PageContext): void {
  ctx.title('Jobs');
  const body = h('tbody');
  const note = h('div');
  const updated = h('span', { class: 'muted small' });
  fill(
    root,
    h('div', { class: 'toolbar' }, updated),
    note,
    h(
      'div',
      { class: 'table-scroll' },
      h(
        'table',
        { class: 'grid jobs' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ['Job', 'State', 'In /s', 'Out /s', 'Records in', 'Records out', 'Lag', 'Watermark', 'Behind', 'Late', 'Malformed', 'Last checkpoint', ''].map((t) => h('th', {}, t)),
          ),
        ),
        body,
      ),
    ),
  );

  const act = async (j: Job, what: 'stop' | 'resume'): Promise<void> => {
    try {
      await (what === 'stop' ? api.stopJob(j.id) : api.resumeJob(j.id));
      fill(note);
    } catch (e) {
      fill(note, errorBlock(e));
    }
  };

  ctx.scope.every(
    REFRESH_MS,
    async () => {
      const { jobs } = await api.jobs();
      if (!ctx.scope.alive) return;
      fill(note);
      const now = Date.now();
      fill(
        body,
        jobs.length === 0
          ? h('tr', {}, h('td', { colspan: 13, class: 'muted' }, 'No jobs yet. Submit INSERT INTO or CREATE MATERIALIZED VIEW from the SQL page.'))
          : [...jobs].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((j) => jobRow(j, now, act)),
      );
      updated.textContent = `Updated ${new Date(now).toLocaleTimeString()} · every ${REFRESH_MS / 1000} s`;
    },
    (e) => fill(note, errorBlock(e)),
  );
}

function jobRow(j: Job, now: number, act: (j: Job, what: 'stop' | 'resume') => Promise<void>): HTMLTableRowElement {
  const m = j.metrics;
  const cp = m.lastCheckpoint;
  return h(
    'tr',
    { 'data-job-id': j.id, 'data-state': j.state },
    h('td', {}, h('a', { href: paths.job(j.id) }, j.name), h('div', { class: 'muted small mono' }, j.id)),
    h('td', {}, h('span', { class: stateBadge(j.state), title: j.error ?? '' }, j.state)),
    h('td', { class: 'num' }, fmtRate(m.recordsInPerSecond)),
    h('td', { class: 'num' }, fmtRate(m.recordsOutPerSecond)),
    h('td', { class: 'num records-in' }, fmtInt(m.recordsIn)),
    h('td', { class: 'num records-out' }, fmtInt(m.recordsOut)),
    h('td', { class: 'num' }, fmtInt(lagOf(m))),
    h('td', { class: 'mono small' }, m.watermark ?? '–'),
    h('td', { class: 'num' }, fmtDuration(watermarkDelayOf(m, now))),
    h('td', { class: `num ${m.recordsLate > 0 ? 'warn' : ''}` }, fmtInt(m.recordsLate)),
    h('td', { class: `num ${m.recordsBad > 0 ? 'warn' : ''}`, title: m.lastBadRecordError ?? '' }, fmtInt(m.recordsBad)),
    h('td', { class: 'small' }, cp ? `#${cp.id} · ${fmtAgo(cp.completedAt, now)} · ${fmtDuration(cp.durationMs)}` : '–'),
    h(
      'td',
      { class: 'actions' },
      canStop(j) ? h('button', { type: 'button', onclick: () => void act(j, 'stop') }, 'Stop') : null,
      canResume(j) ? h('button', { type: 'button', onclick: () => void act(j, 'resume') }, 'Resume') : null,
    ),
  );
}

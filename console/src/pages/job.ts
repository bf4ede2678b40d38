import { api, ApiError } from '../api.ts';
import type { Job, MetricsPoint } from '../api.ts';
import { planGraph } from '../charts/plan-graph.ts';
import { timeChart } from '../charts/timeseries.ts';
import type { TimeChart } from '../charts/timeseries.ts';
import { fill, h } from '../dom.ts';
import { fmtAgo, fmtBytes, fmtDuration, fmtInt, fmtRate } from '../format.ts';
import { canResume, canStop, lagOf, stateBadge, watermarkDelayOf } from '../jobs-model.ts';
import type { PageContext } from '../router.ts';
import { errorBlock } from './sql.ts';

const WINDOW_MS = 15 * 60_000;

interface ChartSpec {
  readonly title: string;
  readonly labels: readonly string[];
  readonly pick: (p: MetricsPoint) => readonly (number | null)[];
  readonly format?: (v: number) => string;
}

const CHARTS: readonly ChartSpec[] = [
  { title: 'Records per second', labels: ['in', 'out'], pick: (p) => [p.recordsInPerSecond, p.recordsOutPerSecond] },
  { title: 'Consumer lag (records)', labels: ['lag'], pick: (p) => [p.lag] },
  { title: 'Watermark behind wall clock', labels: ['delay'], pick: (p) => [p.watermarkDelayMs === null ? null : p.watermarkDelayMs / 1000], format: (v) => (Math.abs(v) >= 120 ? `${Number((v / 60).toFixed(1))} min` : `${Number(v.toFixed(1))} s`) },
  { title: 'Batch latency p99', labels: ['p99 ms'], pick: (p) => [p.batchLatencyP99Ms], format: (v) => `${Number(v.toPrecision(3))} ms` },
  { title: 'Late and malformed records', labels: ['late', 'malformed'], pick: (p) => [p.recordsLate, p.recordsBad] },
];

/** A history point from the job's current metrics, for a server without the history endpoint. */
function sample(j: Job): MetricsPoint {
  const m = j.metrics;
  return {
    t: new Date().toISOString(),
    recordsIn: m.recordsIn,
    recordsOut: m.recordsOut,
    recordsInPerSecond: m.recordsInPerSecond,
    recordsOutPerSecond: m.recordsOutPerSecond,
    lag: lagOf(m),
    watermark: m.watermark,
    watermarkDelayMs: watermarkDelayOf(m),
    recordsLate: m.recordsLate,
    recordsBad: m.recordsBad,
    batchLatencyP99Ms: m.batchLatencyMs?.p99 ?? null,
    checkpointDurationMs: m.lastCheckpoint?.durationMs ?? null,
  };
}

export function mountJob(root: HTMLElement, ctx: PageContext, id: string): void {
  ctx.title(`Job ${id}`);
  const head = h('div', { class: 'job-head' });
  const note = h('div');
  const stats = h('div', { class: 'stats' });
  const planBox = h('div', { class: 'card' }, h('h2', {}, 'Operator plan'));
  const sqlBox = h('details', { class: 'card' }, h('summary', {}, 'SQL'));
  const historyNote = h('p', { class: 'muted small' }, 'Last 15 minutes.');
  const charts: TimeChart[] = CHARTS.map((c) => timeChart({ height: 180, yLabel: c.labels[0], ...(c.format ? { format: c.format } : {}) }));
  ctx.scope.onDispose(() => charts.forEach((c) => c.destroy()));
  fill(
    root,
    head,
    note,
    stats,
    h('div', { class: 'card' }, h('h2', {}, 'Metrics'), historyNote, h('div', { class: 'chart-grid' }, CHARTS.map((c, i) => h('figure', { class: 'chart-box' }, h('figcaption', {}, c.title), charts[i]!.element)))),
    planBox,
    sqlBox,
  );

  let drawnPlan = false;
  let local: MetricsPoint[] = [];
  let serverHistory: boolean | undefined;

  const draw = (points: readonly MetricsPoint[]): void => {
    const from = Date.now() - WINDOW_MS;
    const recent = points.filter((p) => Date.parse(p.t) >= from);
    const xs = recent.map((p) => Date.parse(p.t) / 1000);
    CHARTS.forEach((c, i) => {
      const cols = c.labels.map((_, k) => recent.map((p) => c.pick(p)[k] ?? null));
      charts[i]!.setData(xs, cols, c.labels);
    });
  };

  const act = async (what: 'stop' | 'resume'): Promise<void> => {
    try {
      render(await (what === 'stop' ? api.stopJob(id) : api.resumeJob(id)));
    } catch (e) {
      fill(note, errorBlock(e));
    }
  };

  const render = (j: Job): void => {
    ctx.title(j.name);
    const m = j.metrics;
    const cp = m.lastCheckpoint;
    fill(
      head,
      h('span', { class: stateBadge(j.state), 'data-state': j.state }, j.state),
      h('span', { class: 'muted mono' }, j.id),
      h('span', { class: 'muted' }, `created ${fmtAgo(j.createdAt)}`),
      canStop(j) ? h('button', { type: 'button', onclick: () => void act('stop') }, 'Stop') : null,
      canResume(j) ? h('button', { type: 'button', onclick: () => void act('resume') }, 'Resume') : null,
    );
    const stat = (label: string, value: string, cls = ''): HTMLElement => h('div', { class: `stat ${cls}` }, h('div', { class: 'stat-label' }, label), h('div', { class: 'stat-value' }, value));
    fill(
      stats,
      j.error ? h('div', { class: 'error-box' }, h('strong', {}, 'Job error'), h('div', { class: 'error-message' }, j.error)) : null,
      stat('Records in', fmtInt(m.recordsIn), 'records-in'),
      stat('Records out', fmtInt(m.recordsOut), 'records-out'),
      stat('In / out per s', `${fmtRate(m.recordsInPerSecond)} / ${fmtRate(m.recordsOutPerSecond)}`),
      stat('Lag', fmtInt(lagOf(m))),
      stat('Watermark', m.watermark ?? '–'),
      stat('Behind', fmtDuration(watermarkDelayOf(m))),
      stat('Late', fmtInt(m.recordsLate), m.recordsLate > 0 ? 'warn' : ''),
      stat('Malformed', fmtInt(m.recordsBad), m.recordsBad > 0 ? 'warn' : ''),
      stat('Batch latency p99', m.batchLatencyMs ? fmtDuration(m.batchLatencyMs.p99) : '–'),
      stat('Last checkpoint', cp ? `#${cp.id} ${fmtAgo(cp.completedAt)} (${fmtDuration(cp.durationMs)}, ${fmtBytes(cp.stateBytes)})` : '–'),
      stat('Parallelism', m.parallelism === undefined ? '–' : m.parallelism === 1 ? '1 (job thread)' : `${m.parallelism} worker threads`),
    );
    if (!drawnPlan) {
      drawnPlan = true;
      fill(sqlBox, h('summary', {}, 'SQL'), h('pre', { class: 'sql-text' }, j.sql));
      if (j.plan?.json) planBox.append(planGraph(j.plan.json), h('details', {}, h('summary', {}, 'EXPLAIN text'), h('pre', {}, j.plan.text)));
      else planBox.append(h('p', { class: 'muted' }, 'No plan available.'));
    }
  };

  ctx.scope.every(
    2000,
    async () => {
      const j = await api.job(id);
      if (!ctx.scope.alive) return;
      fill(note);
      render(j);
      if (serverHistory === false) {
        local = [...local.filter((p) => Date.parse(p.t) >= Date.now() - WINDOW_MS), sample(j)];
        draw(local);
      }
    },
    (e) => fill(note, errorBlock(e)),
  );
  ctx.scope.every(
    5000,
    async () => {
      if (serverHistory === false) return;
      try {
        const hist = await api.jobHistory(id);
        serverHistory = true;
        if (ctx.scope.alive) draw(hist.points);
      } catch (e) {
        // A server without the history endpoint: chart what this page sees while it is open.
        if (e instanceof ApiError && e.status === 404 && serverHistory === undefined) {
          serverHistory = false;
          historyNote.textContent = 'This server keeps no metrics history; the charts show what this page has seen since it opened.';
        } else throw e;
      }
    },
    (e) => fill(note, errorBlock(e)),
  );
}

// Derived job figures shared by the jobs list and the job page.
import type { Job, JobMetrics } from './api.ts';
import { parseTs } from './format.ts';

/** Consumer lag over all partitions: the server's figure when it gives one. */
export function lagOf(m: JobMetrics): number | null {
  if (typeof m.lag === 'number') return m.lag;
  return m.partitions.length ? m.partitions.reduce((a, p) => a + p.lag, 0) : null;
}

/** How far the watermark is behind the wall clock (ms), or null without a watermark. */
export function watermarkDelayOf(m: JobMetrics, now = Date.now()): number | null {
  if (typeof m.watermarkDelayMs === 'number') return m.watermarkDelayMs;
  if (!m.watermark) return null;
  const t = parseTs(m.watermark);
  return Number.isFinite(t) ? now - t : null;
}

export function canStop(j: Job): boolean {
  return j.state === 'RUNNING' || j.state === 'RESTARTING' || j.state === 'CREATED';
}

export function canResume(j: Job): boolean {
  return j.state === 'STOPPED';
}

export function stateBadge(state: string): string {
  return `state state-${state.toLowerCase()}`;
}

import { describe, expect, it } from 'vitest';
import type { JobInfo, JobMetrics } from '../../jobs/api.ts';
import { MetricsHistory, watermarkDelayMs } from '../../jobs/metrics-history.ts';
import type { SampledJob } from '../../jobs/metrics-history.ts';

const T0 = Date.UTC(2026, 10, 25, 10, 0, 0);

function metrics(over: Partial<JobMetrics> = {}): JobMetrics {
  return {
    recordsIn: 0,
    recordsOut: 0,
    recordsLate: 0,
    recordsBad: 0,
    recordsInPerSecond: 0,
    recordsOutPerSecond: 0,
    watermark: null,
    lastBadRecordError: null,
    partitions: [],
    batchLatencyMs: null,
    ...over,
  };
}

const part = (partition: number, offset: number, endOffset: number) => ({ topic: 't', partition, offset, endOffset, lag: endOffset - offset, watermark: null });

function job(id: string, live: boolean, m: () => JobMetrics): SampledJob {
  return { id, live, metrics: m };
}

describe('MetricsHistory', () => {
  it('keeps one point per tick, oldest first, bounded to 15 minutes of 5 s samples', () => {
    const h = new MetricsHistory();
    expect(h.intervalMs).toBe(5000);
    let n = 0;
    for (let i = 0; i < 250; i++) {
      n = i;
      h.tick([job('a', true, () => metrics({ recordsIn: n * 10 }))], T0 + i * 5000);
    }
    const { intervalMs, points } = h.history('a');
    expect(intervalMs).toBe(5000);
    expect(points).toHaveLength(180); // 15 min / 5 s
    // The newest 180 of the 250 samples, in order.
    expect(points[0]!.recordsIn).toBe(70 * 10);
    expect(points.at(-1)!.recordsIn).toBe(249 * 10);
    expect(points[0]!.t).toBe(new Date(T0 + 70 * 5000).toISOString());
    for (let i = 1; i < points.length; i++) expect(Date.parse(points[i]!.t) - Date.parse(points[i - 1]!.t)).toBe(5000);
  });

  it('samples what the charts need: sums of lag, p99 latency, checkpoint duration, late and bad counts', () => {
    const h = new MetricsHistory();
    h.describe('a', { rowtime: 'TIMESTAMP', timeZone: 'UTC' });
    const m = metrics({
      recordsIn: 1000,
      recordsOut: 40,
      recordsInPerSecond: 200,
      recordsOutPerSecond: 8,
      recordsLate: 3,
      recordsBad: 2,
      watermark: '2026-11-25 09:59:50.000',
      partitions: [part(0, 10, 25), part(1, 5, 5), part(2, 0, 7)],
      batchLatencyMs: { p50: 1, p95: 2, p99: 3.5, max: 9 },
      lastCheckpoint: { id: 4, completedAt: new Date(T0).toISOString(), durationMs: 12.5, stateBytes: 100 },
    });
    h.tick([job('a', true, () => m)], T0);
    expect(h.history('a').points).toEqual([
      {
        t: '2026-11-25T10:00:00.000Z',
        recordsIn: 1000,
        recordsOut: 40,
        recordsInPerSecond: 200,
        recordsOutPerSecond: 8,
        lag: 15 + 0 + 7,
        watermark: '2026-11-25 09:59:50.000',
        watermarkDelayMs: 10_000,
        recordsLate: 3,
        recordsBad: 2,
        batchLatencyP99Ms: 3.5,
        checkpointDurationMs: 12.5,
      },
    ]);
  });

  it('keeps the history of a job that stopped (one last sample), and forgets a job no longer listed', () => {
    const h = new MetricsHistory();
    let count = 0;
    let live = true;
    const jobs = () => [job('a', live, () => metrics({ recordsIn: ++count }))];
    h.tick(jobs(), T0);
    h.tick(jobs(), T0 + 5000);
    live = false;
    for (let i = 2; i < 10; i++) h.tick(jobs(), T0 + i * 5000);
    // Two while running, one more recording its final counts, then none.
    expect(h.history('a').points.map((p) => p.recordsIn)).toEqual([1, 2, 3]);
    // A job that never ran in this process has no history to keep.
    h.tick([...jobs(), job('b', false, () => metrics())], T0 + 60_000);
    expect(h.history('b').points).toEqual([]);
    h.tick([], T0 + 65_000);
    expect(h.history('a').points).toEqual([]);
  });

  it('adds lag and watermarkDelayMs to live job metrics', () => {
    const h = new MetricsHistory();
    h.describe('a', { rowtime: 'TIMESTAMP', timeZone: 'UTC' });
    const info: JobInfo = { id: 'a', name: 'a', sql: '', state: 'RUNNING', createdAt: '', metrics: metrics({ watermark: '2026-11-25 09:59:00.000', partitions: [part(0, 1, 4), part(1, 0, 6)] }) };
    const out = h.withLiveMetrics(info, T0);
    expect(out.metrics.lag).toBe(9);
    expect(out.metrics.watermarkDelayMs).toBe(60_000);
    expect(h.withLiveMetrics({ ...info, metrics: metrics() }, T0).metrics).toMatchObject({ lag: 0, watermarkDelayMs: null });
  });

  it("reads a TIMESTAMP watermark in the job's local time zone, a TIMESTAMP_LTZ one as an instant", () => {
    // 18:00 in Shanghai (UTC+8) is 10:00 UTC.
    expect(watermarkDelayMs('2026-11-25 18:00:00.000', T0 + 5000, { rowtime: 'TIMESTAMP', timeZone: 'Asia/Shanghai' })).toBe(5000);
    expect(watermarkDelayMs('2026-11-25 10:00:00.000', T0 + 5000, { rowtime: 'TIMESTAMP_LTZ', timeZone: 'Asia/Shanghai' })).toBe(5000);
    expect(watermarkDelayMs('2026-11-25 10:00:00.000', T0 + 5000, undefined)).toBe(5000);
    // New York in summer time (UTC-4).
    expect(watermarkDelayMs('2026-07-01 06:00:00.000', Date.UTC(2026, 6, 1, 10, 0, 1), { rowtime: 'TIMESTAMP', timeZone: 'America/New_York' })).toBe(1000);
    expect(watermarkDelayMs('END', T0, undefined)).toBeNull();
    expect(watermarkDelayMs(null, T0, undefined)).toBeNull();
  });

  it('samples on an unref-ed timer that stop() clears', () => {
    const h = new MetricsHistory({ intervalMs: 1000 });
    h.start(() => []);
    const timer = (h as unknown as { timer: NodeJS.Timeout }).timer;
    expect(timer.hasRef()).toBe(false);
    h.stop();
    expect((h as unknown as { timer: unknown }).timer).toBeUndefined();
  });
});

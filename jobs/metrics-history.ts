import { getZone } from '../engine/expr/index.ts';
import { sourceOf } from '../engine/plan/plan.ts';
import type { JobPlan } from '../engine/plan/plan.ts';
import type { JobInfo, JobMetrics } from './api.ts';

/**
 * Per-job metric history for the console's charts: one sample every `intervalMs` (5 s) for the last
 * `windowMs` (15 minutes), in a fixed ring per job, so memory is bounded by the number of jobs. Also the
 * two live metrics derived the same way for the jobs list: `lag` and `watermarkDelayMs`.
 *
 * Watermark delay: TIMESTAMP(3) has no zone, so "how far behind the wall clock" needs a reading. The
 * watermark of a TIMESTAMP(3) rowtime is read as a wall time in the job's `table.local-time-zone`
 * (default UTC, Flink's session zone: the zone a zone-less time is local to); a TIMESTAMP_LTZ rowtime
 * is an instant already and is used as is.
 */

export interface HistoryPoint {
  /** Wall time of the sample, ISO-8601. */
  readonly t: string;
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsInPerSecond: number;
  readonly recordsOutPerSecond: number;
  /** Consumer lag summed over the job's source partitions. */
  readonly lag: number;
  readonly watermark: string | null;
  readonly watermarkDelayMs: number | null;
  readonly recordsLate: number;
  readonly recordsBad: number;
  readonly batchLatencyP99Ms: number | null;
  readonly checkpointDurationMs: number | null;
}

export interface MetricsHistoryAnswer {
  readonly intervalMs: number;
  /** Oldest first. */
  readonly points: readonly HistoryPoint[];
}

/** How to read a job's watermark as an instant (see the module comment). */
export interface WatermarkReading {
  /** The rowtime column's type: a zone-less wall time or an instant. */
  readonly rowtime: 'TIMESTAMP' | 'TIMESTAMP_LTZ';
  /** The job's table.local-time-zone. */
  readonly timeZone: string;
}

export const DEFAULT_HISTORY_INTERVAL_MS = 5000;
export const DEFAULT_HISTORY_WINDOW_MS = 15 * 60_000;

/** A fixed-size ring of points, oldest overwritten first. */
class Ring {
  private readonly items: (HistoryPoint | undefined)[];
  private next = 0;
  private size = 0;

  constructor(readonly capacity: number) {
    this.items = new Array<HistoryPoint | undefined>(capacity);
  }

  push(p: HistoryPoint): void {
    this.items[this.next] = p;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  toArray(): HistoryPoint[] {
    const out: HistoryPoint[] = [];
    const start = (this.next - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) out.push(this.items[(start + i) % this.capacity]!);
    return out;
  }
}

/** What the sampler needs to know of each job, each tick. */
export interface SampledJob {
  readonly id: string;
  /** CREATED, RUNNING or RESTARTING: a job that is not live is sampled once more, then left alone. */
  readonly live: boolean;
  metrics(): JobMetrics;
}

interface Track {
  readonly ring: Ring;
  wasLive: boolean;
}

export class MetricsHistory {
  readonly intervalMs: number;
  private readonly capacity: number;
  private readonly tracks = new Map<string, Track>();
  private readonly readings = new Map<string, WatermarkReading>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(opts: { readonly intervalMs?: number; readonly windowMs?: number } = {}) {
    this.intervalMs = opts.intervalMs ?? DEFAULT_HISTORY_INTERVAL_MS;
    this.capacity = Math.max(1, Math.ceil((opts.windowMs ?? DEFAULT_HISTORY_WINDOW_MS) / this.intervalMs));
  }

  /** Tells how to read the job's watermark (its rowtime type and time zone); unknown jobs read it as UTC. */
  describe(id: string, reading: WatermarkReading): void {
    this.readings.set(id, reading);
  }

  /**
   * One sample of every listed job at wall time `now`. Jobs no longer listed are forgotten; jobs that
   * stopped or finished keep the history they have (one last sample records their final counts).
   */
  tick(jobs: Iterable<SampledJob>, now: number = Date.now()): void {
    const seen = new Set<string>();
    for (const j of jobs) {
      seen.add(j.id);
      let track = this.tracks.get(j.id);
      if (!track) {
        if (!j.live) continue;
        track = { ring: new Ring(this.capacity), wasLive: true };
        this.tracks.set(j.id, track);
      }
      if (!j.live && !track.wasLive) continue;
      track.ring.push(toPoint(j.metrics(), now, this.readings.get(j.id)));
      track.wasLive = j.live;
    }
    for (const id of this.tracks.keys()) if (!seen.has(id)) this.forget(id);
  }

  /** Samples every `intervalMs` until stop(); the timer never keeps the process alive. */
  start(jobs: () => Iterable<SampledJob>): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.tick(jobs()), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The job's points, oldest first (empty until its first sample). */
  history(id: string): MetricsHistoryAnswer {
    return { intervalMs: this.intervalMs, points: this.tracks.get(id)?.ring.toArray() ?? [] };
  }

  forget(id: string): void {
    this.tracks.delete(id);
    this.readings.delete(id);
  }

  /** The job with `lag` and `watermarkDelayMs` added to its live metrics. */
  withLiveMetrics(info: JobInfo, now: number = Date.now()): JobInfo {
    const m = info.metrics;
    return { ...info, metrics: { ...m, lag: totalLag(m), watermarkDelayMs: watermarkDelayMs(m.watermark, now, this.readings.get(info.id)) } };
  }
}

function toPoint(m: JobMetrics, now: number, reading: WatermarkReading | undefined): HistoryPoint {
  return {
    t: new Date(now).toISOString(),
    recordsIn: m.recordsIn,
    recordsOut: m.recordsOut,
    recordsInPerSecond: m.recordsInPerSecond,
    recordsOutPerSecond: m.recordsOutPerSecond,
    lag: totalLag(m),
    watermark: m.watermark,
    watermarkDelayMs: watermarkDelayMs(m.watermark, now, reading),
    recordsLate: m.recordsLate,
    recordsBad: m.recordsBad,
    batchLatencyP99Ms: m.batchLatencyMs?.p99 ?? null,
    checkpointDurationMs: m.lastCheckpoint?.durationMs ?? null,
  };
}

export function totalLag(m: Pick<JobMetrics, 'partitions'>): number {
  let sum = 0;
  for (const p of m.partitions) sum += p.lag;
  return sum;
}

/**
 * Wall clock minus the watermark, in ms; null without a watermark or after the end of a bounded
 * input ('END'). Negative when event times run ahead of the clock (a producer's clock, a zone mix-up).
 */
export function watermarkDelayMs(watermark: string | null, now: number, reading: WatermarkReading | undefined): number | null {
  if (watermark === null || watermark === 'END') return null;
  const wall = Date.parse(watermark.replace(' ', 'T') + 'Z');
  if (Number.isNaN(wall)) return null;
  const instant = reading && reading.rowtime === 'TIMESTAMP' ? zoneOf(reading.timeZone).fromWall(wall) : wall;
  return Math.round(now - instant);
}

function zoneOf(id: string): ReturnType<typeof getZone> {
  try {
    return getZone(id);
  } catch {
    // The zone was checked when the job was submitted; a zone unknown now falls back to UTC.
    return getZone('UTC');
  }
}

/** How a job's watermark reads as an instant: its source's rowtime type and the job's time zone. */
export function watermarkReading(plan: JobPlan, timeZone: string): WatermarkReading {
  const t = sourceOf(plan.root).table;
  const kind = t.watermark ? t.columns[t.watermark.index]?.type.kind : undefined;
  return { rowtime: kind === 'TIMESTAMP_LTZ' ? 'TIMESTAMP_LTZ' : 'TIMESTAMP', timeZone };
}

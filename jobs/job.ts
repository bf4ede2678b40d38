import { formatTimestamp } from '../engine/expr/index.ts';
import { buildPipeline } from '../engine/ops/build.ts';
import type { Downstream, OpCounters, Operator, Row } from '../engine/ops/operator.ts';
import { SourceStage } from '../engine/ops/source-stage.ts';
import type { JobPlan } from '../engine/plan/plan.ts';
import { getConnector } from '../connectors/registry.ts';
import type { PartitionProgress, Sink, Source } from '../connectors/types.ts';
import type { JobInfo, JobMetrics, JobState } from './api.ts';
import { LatencySamples, RateMeter } from './metrics.ts';

/** What a job saves between batches so that a restarted job resumes where it was. */
export interface JobProgress {
  readonly offsets: Record<number, number>;
  readonly endOffsets: Record<number, number> | undefined;
  readonly watermarks: Record<number, number>;
  readonly operators: unknown[];
}

export interface JobDeps {
  readonly brokers: string;
  readonly timeZone: string;
  readonly progressIntervalMs: number;
  readonly idleTimeoutMs: number;
  saveProgress(id: string, p: JobProgress): void;
  setState(id: string, state: JobState, error: string | null): void;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * One running job: a source, the operator pipeline and a sink, driven batch by batch. Between
 * batches the sink is flushed, so saved progress (offsets + operator state) never runs ahead of
 * what the sink has acknowledged: a restart replays at most the records since the last save
 * (at-least-once; exactly-once comes with checkpoints and transactional sinks).
 */
export class Job {
  state: JobState = 'CREATED';
  error: string | undefined;
  private stopping = false;
  private loop: Promise<void> | undefined;
  private source: Source | undefined;
  private sink: Sink | undefined;
  private stage: SourceStage | undefined;
  private operators: readonly Operator[] = [];
  private readonly counters: OpCounters = { late: 0, bad: 0, lastError: null };
  private recordsIn = 0;
  private recordsOut = 0;
  private readonly inRate = new RateMeter();
  private readonly outRate = new RateMeter();
  private readonly latency = new LatencySamples();
  private wake: (() => void) | undefined;
  /** Partition progress of the last source, kept for metrics after the source closed. */
  private lastProgress: PartitionProgress[] = [];
  private lastTopic = '';

  constructor(
    readonly id: string,
    readonly name: string,
    readonly sql: string,
    readonly createdAt: string,
    readonly plan: JobPlan,
    readonly explain: { text: string; json: unknown },
    private progress: JobProgress | null,
    private readonly deps: JobDeps,
  ) {}

  /** Whether the job reads or writes the table or view (for DROP checks). */
  readsOrWrites(name: string): boolean {
    const n = name.toLowerCase();
    return this.plan.sink.name.toLowerCase() === n || this.plan.uses.includes(n);
  }

  start(): void {
    this.stopping = false;
    this.loop = this.run();
  }

  /** Stops after the current batch, saving progress; resolves when the job is down. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
    if (this.state === 'RUNNING' || this.state === 'RESTARTING' || this.state === 'CREATED') this.setState('STOPPED', null);
  }

  /** Ends the loop without touching the stored state (server shutdown: the job resumes on restart). */
  async suspend(): Promise<void> {
    this.stopping = true;
    this.wake?.();
    await this.loop;
  }

  private setState(s: JobState, error: string | null): void {
    this.state = s;
    this.error = error ?? undefined;
    this.deps.setState(this.id, s, error);
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopping) {
      try {
        await this.open();
        this.setState('RUNNING', null);
        attempt = 0;
        const finished = await this.process();
        await this.close();
        if (finished) {
          this.setState('FINISHED', null);
          return;
        }
        return;
      } catch (e) {
        await this.close().catch(() => undefined);
        if (this.stopping) return;
        attempt++;
        const msg = e instanceof Error ? e.message : String(e);
        this.setState('RESTARTING', msg);
        const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(attempt, 6));
        await this.sleep(backoff);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  private async open(): Promise<void> {
    const { root, sink: sinkTable } = this.plan;
    const counters = this.counters;
    const sinkConn = getConnector(sinkTable.connector);
    if (!sinkConn?.createSink) throw new Error(`connector '${sinkTable.connector}' cannot be a sink`);
    this.sink = await sinkConn.createSink({
      table: sinkTable.name,
      options: sinkTable.options,
      columns: sinkTable.columns,
      brokers: this.deps.brokers,
      jobName: this.name,
      timeZone: this.deps.timeZone,
    });
    const sink = this.sink;
    const terminal: Downstream = {
      push: (rows: Row[]) => {
        this.recordsOut += rows.length;
        sink.write(rows);
      },
      watermark: () => undefined,
    };
    const pipeline = buildPipeline(root, terminal, counters, this.deps.timeZone);
    const table = pipeline.source.table;
    const srcConn = getConnector(table.connector);
    if (!srcConn?.createSource) throw new Error(`connector '${table.connector}' cannot be a source`);
    this.source = await srcConn.createSource({
      table: table.name,
      options: table.options,
      columns: table.physical,
      brokers: this.deps.brokers,
      jobName: this.name,
      startOffsets: this.progress?.offsets,
      endOffsets: this.progress?.endOffsets,
      timeZone: this.deps.timeZone,
    });
    const idle = parseIdle(table.options['scan.watermark.idle-timeout']) ?? this.deps.idleTimeoutMs;
    this.stage = new SourceStage(table, this.source.partitions, pipeline.entry, counters, { timeZone: this.deps.timeZone, idleTimeoutMs: idle, now: Date.now() });
    this.operators = pipeline.operators;
    if (this.progress) {
      this.stage.watermarks.restore(this.progress.watermarks);
      this.progress.operators.forEach((s, i) => {
        if (s !== null && s !== undefined) this.operators[i]?.restore?.(s);
      });
    }
  }

  /** Returns true when a bounded source has been read to its end. */
  private async process(): Promise<boolean> {
    const source = this.source!;
    const sink = this.sink!;
    const stage = this.stage!;
    let lastSave = Date.now();
    let lastMonitor = Date.now();
    while (!this.stopping) {
      const batches = await source.poll(200);
      const t0 = performance.now();
      const now = Date.now();
      for (const b of batches) {
        this.recordsIn += b.rows.length + b.bad.length;
        if (b.bad.length > 0) {
          this.counters.bad += b.bad.length;
          this.counters.lastError = `partition ${b.partition} offset ${b.bad[b.bad.length - 1]!.offset}: ${b.bad[b.bad.length - 1]!.error}`;
        }
        stage.push(b.partition, b.rows, now);
      }
      stage.advance(now);
      for (const p of source.finishedPartitions?.() ?? []) stage.watermarks.finish(p);
      const done = source.finished();
      if (done) stage.end();
      await sink.flush();
      if (batches.length > 0) this.latency.add(performance.now() - t0);
      this.inRate.sample(now, this.recordsIn);
      this.outRate.sample(now, this.recordsOut);
      if (done || now - lastSave >= this.deps.progressIntervalMs) {
        this.saveProgress();
        lastSave = now;
      }
      if (now - lastMonitor >= 5000) {
        lastMonitor = now;
        source.commitForMonitoring().catch(() => undefined);
      }
      if (done) return true;
    }
    await sink.flush();
    this.saveProgress();
    return false;
  }

  private saveProgress(): void {
    const source = this.source!;
    this.progress = {
      offsets: source.positions(),
      endOffsets: source.endOffsets(),
      watermarks: this.stage!.watermarks.snapshot(),
      operators: this.operators.map((op) => (op.snapshot ? op.snapshot() : null)),
    };
    this.deps.saveProgress(this.id, this.progress);
  }

  private async close(): Promise<void> {
    if (this.source) this.lastProgress = this.source.progress();
    const s = this.source;
    const k = this.sink;
    this.source = undefined;
    this.sink = undefined;
    await Promise.allSettled([s?.close(), k?.close()]);
  }

  info(): JobInfo {
    return {
      id: this.id,
      name: this.name,
      sql: this.sql,
      state: this.state,
      createdAt: this.createdAt,
      ...(this.error ? { error: this.error } : {}),
      metrics: this.metrics(),
      plan: this.explain,
    };
  }

  metrics(): JobMetrics {
    const wm = this.stage?.currentWatermark();
    const progress = this.source?.progress() ?? this.lastProgress;
    if (this.source) this.lastTopic = this.source.topic;
    const topic = this.lastTopic;
    return {
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      recordsLate: this.counters.late,
      recordsBad: this.counters.bad,
      recordsInPerSecond: this.inRate.rate(),
      recordsOutPerSecond: this.outRate.rate(),
      watermark: wm === undefined ? null : wm >= Number.MAX_SAFE_INTEGER ? 'END' : formatTimestamp(wm),
      lastBadRecordError: this.counters.lastError,
      batchLatencyMs: this.latency.percentiles(),
      partitions: progress.map((p) => {
        const pw = this.stage?.watermarks.partitionWatermark(p.partition);
        return {
          topic,
          partition: p.partition,
          offset: p.offset,
          endOffset: p.highWatermark,
          lag: Math.max(0, p.highWatermark - p.offset),
          watermark: pw === undefined ? null : formatTimestamp(pw),
        };
      }),
    };
  }
}

function parseIdle(v: string | undefined): number | undefined {
  if (!v) return undefined;
  const m = /^\s*(\d+)\s*(ms|s|sec|second|seconds|min|minute|minutes)?\s*$/i.exec(v);
  if (!m) return undefined;
  const n = Number(m[1]);
  const unit = (m[2] ?? 'ms').toLowerCase();
  return unit === 'ms' ? n : unit.startsWith('s') ? n * 1000 : n * 60_000;
}

export { parseIdle as parseDuration };

import { formatTimestamp } from '../engine/expr/index.ts';
import { buildPipeline } from '../engine/ops/build.ts';
import { parseDuration } from '../engine/time/duration.ts';
import { usedPhysicalColumns } from '../engine/plan/projection.ts';
import type { Change, ChangeDownstream } from '../engine/ops/changelog.ts';
import type { Downstream, OpCounters, Operator, Row } from '../engine/ops/operator.ts';
import { SourceStage } from '../engine/ops/source-stage.ts';
import { checkpointState, restoreState } from '../engine/state/keyed.ts';
import type { JobPlan } from '../engine/plan/plan.ts';
import { getConnector } from '../connectors/registry.ts';
import type { PartitionProgress, Sink, Source, SourceBatch } from '../connectors/types.ts';
import type { RawSourceBatch } from '../connectors/kafka/source.ts';
import type { CheckpointMetrics, JobInfo, JobMetrics, JobState } from './api.ts';
import type { CheckpointData, CheckpointStore } from './checkpoint-store.ts';
import { LatencySamples, RateMeter } from './metrics.ts';
import { frontOutputTarget } from '../engine/parallel/deliver.ts';
import { splitPlan } from '../engine/parallel/split.ts';
import type { FrontResult } from '../engine/parallel/front.ts';
import { ParallelInstances } from './parallel/instances.ts';
import { OwnedInstances } from './parallel/owned.ts';
import { planInput } from '../engine/plan/plan.ts';
import type { MiniBatch, PlanNode } from '../engine/plan/plan.ts';
import { partialPieces } from '../engine/ops/group-aggregate.ts';
import type { ParallelBatch } from './parallel/instances.ts';
import { effectiveParallelism, isRawSource, jobThreadIsInstance } from './parallel/parallelism.ts';
import { SliceClock, pieces } from './poll-slices.ts';
import type { RawSource } from './parallel/parallelism.ts';

/**
 * What a job saves so that a restarted job resumes where it was (one checkpoint). Also the shape of
 * the progress older versions kept in the catalog, still read when a job has no checkpoint yet.
 */
export type JobProgress = CheckpointData;

export interface JobDeps {
  readonly brokers: string;
  readonly timeZone: string;
  /** execution.checkpointing.interval (ms). */
  readonly progressIntervalMs: number;
  readonly idleTimeoutMs: number;
  /**
   * Parallel pipeline instances ('parallelism.default'; see jobs/parallel/parallelism.ts): undefined for the
   * default (WEIR_PARALLELISM, else 1; at most one per partition), 1 for the job's own thread only.
   */
  readonly parallelism?: number;
  /** The job's checkpoint store (opened once per job, closed when its loop ends). */
  openCheckpoints(id: string): CheckpointStore;
  setState(id: string, state: JobState, error: string | null): void;
}

const MAX_BACKOFF_MS = 30_000;

/**
 * Polls a parallel job keeps in its instances while it merges older ones: the instances work on the next
 * poll while the job merges, flushes and fetches. Results are merged strictly in poll order.
 */
const POLLS_IN_FLIGHT = 2;

/** A running job's parallel instances and where their results go (see open()). */
interface Parallel {
  readonly source: RawSource;
  readonly instances: ParallelInstances;
  /** Hands one batch's front output to the job's part of the pipeline. */
  readonly deliver: (out: FrontResult['output']) => void;
}

/** A running job's instances that read their own partitions (jobs/parallel/owned.ts). */
interface Owned {
  readonly source: RawSource & Required<Pick<RawSource, 'readElsewhere'>>;
  readonly instances: OwnedInstances;
  readonly deliver: (out: FrontResult['output']) => void;
  /** The GROUP BY's mini-batch: the instances' groups are merged when it would end. */
  readonly miniBatch: MiniBatch;
}

/** Groups of an owned instance's flush merged in one piece (see mergeOwned). */
const OWNED_MERGE_GROUPS = 4096;

/** How often a job with owned instances asks them how far they read (metrics, the end of a bounded input). */
const OWNED_TICK_MS = 10;
/** ... and while they read nothing new, at most this often (an idle view asks 10 times a second, not 100). */
const OWNED_IDLE_TICK_MS = 100;

/**
 * Whether a parallel plan's instances read their own partitions and keep their partial groups
 * (owned.ts): a non-windowed GROUP BY over the front whose changes are emitted once per mini-batch (a
 * materialized view: once per checkpoint). WEIR_OWNED_READERS=off keeps the instances fed by the job's
 * thread (benchmarks compare).
 */
function ownedMiniBatch(root: PlanNode): MiniBatch | undefined {
  if (process.env['WEIR_OWNED_READERS'] === 'off' || splitPlan(root).output !== 'groupPartials') return undefined;
  // The GROUP BY at the front's boundary: the one nearest the source (an aggregate over an aggregate has two).
  let boundary: Extract<PlanNode, { kind: 'groupAggregate' }> | undefined;
  for (let n: PlanNode | undefined = root; n; n = planInput(n)) if (n.kind === 'groupAggregate') boundary = n;
  return boundary?.miniBatch;
}

/** A poll handed to the instances, not merged yet. */
interface InFlightPoll {
  readonly now: number;
  readonly t0: number;
  readonly results: Promise<ParallelBatch[]>;
  /** The source's finished partitions and whether it was finished, as of this poll. */
  readonly finished: readonly number[];
  readonly done: boolean;
}

/**
 * One running job: a source, the operator pipeline and a sink, driven batch by batch. Between
 * batches the sink is flushed, so a checkpoint (offsets + operator state + watermarks) never runs
 * ahead of what the sink has acknowledged. Every `execution.checkpointing.interval` the job
 * checkpoints into its CheckpointStore; with a two-phase sink (exactly-once) the checkpoint and the
 * sink's commit are tied together by the protocol in docs/checkpoints.md, otherwise a restart
 * replays the records since the last checkpoint (at-least-once).
 */
export class Job {
  state: JobState = 'CREATED';
  error: string | undefined;
  private stopping = false;
  /** Set by stop({drain}): the loop fires every open window before its final checkpoint. */
  private draining = false;
  private lastCheckpoint: CheckpointMetrics | undefined;
  private loop: Promise<void> | undefined;
  private source: Source | undefined;
  private sink: Sink | undefined;
  private stage: SourceStage | undefined;
  private operators: readonly Operator[] = [];
  private parallel: Parallel | undefined;
  private owned: Owned | undefined;
  /** Records the owned instances read and have not handed over yet (metrics count them as read). */
  private ownedPending = 0;
  /** Where the owned instances read, per partition: offset and high watermark (metrics; checkpoints take the flushed positions). */
  private ownedRead = new Map<number, { offset: number; highWatermark: number }>();
  /** How many pipeline instances the job runs since it last opened (metrics). */
  private instanceCount: number | undefined;
  /** Whether they read their own partitions (owned.ts) since it last opened (metrics). */
  private instancesRead = false;
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
  private store: CheckpointStore | undefined;
  /** Whether anything happened since the last checkpoint (an idle job does not checkpoint). */
  private dirty = false;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly sql: string,
    readonly createdAt: string,
    readonly plan: JobPlan,
    readonly explain: { text: string; json: unknown },
    /** Progress an older version kept in the catalog: the resume point while the job has no checkpoint of its own. */
    readonly legacyProgress: JobProgress | null,
    private readonly deps: JobDeps,
  ) {}

  /** Whether the job reads or writes the table or view (for DROP checks). */
  readsOrWrites(name: string): boolean {
    const n = name.toLowerCase();
    return this.plan.sink.name.toLowerCase() === n || this.plan.uses.includes(n);
  }

  start(): void {
    this.stopping = false;
    this.draining = false;
    this.loop = this.run();
  }

  /** A STOPPED job starts again; its sink and source reopen and resume from the last completed checkpoint. */
  resume(): void {
    // CREATED (a live state) at once, so the answer and a crash right now both say the job is coming back.
    this.setState('CREATED', null);
    this.start();
  }

  /**
   * Stops after the current batch, saving progress; resolves when the job is down. With `drain`, every
   * open window fires first (as at the end of a bounded input) and the job ends FINISHED rather than
   * STOPPED: its event time has been pushed to the end, so continuing it would drop every new row as late
   * (Flink's `stop --drain` ends a job for good too).
   */
  async stop(opts: { readonly drain?: boolean } = {}): Promise<void> {
    this.draining = opts.drain === true;
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
    try {
      await this.runLoop();
    } finally {
      this.store?.close();
      this.store = undefined;
    }
  }

  private async runLoop(): Promise<void> {
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
      jobId: this.id,
      jobName: this.name,
      timeZone: this.deps.timeZone,
      checkpointIntervalMs: this.deps.progressIntervalMs,
      ...(sinkTable.partitionedBy ? { partitionedBy: sinkTable.partitionedBy } : {}),
      ...(sinkTable.primaryKey ? { primaryKey: sinkTable.primaryKey } : {}),
    });
    const sink = this.sink;
    const resume = await this.recover(sink);
    const terminal: Downstream & ChangeDownstream = {
      push: (rows: Row[]) => {
        this.recordsOut += rows.length;
        this.dirty = true;
        sink.write(rows);
      },
      // An updating plan (appendOnly false) ends in a changelog; only sinks with writeChanges take one
      // (the platform refuses other sinks at submit time).
      pushChanges: (changes: Change[]) => {
        if (!sink.writeChanges) throw new Error(`sink '${sinkTable.name}' (connector '${sinkTable.connector}') cannot take updates`);
        this.recordsOut += changes.length;
        this.dirty = true;
        sink.writeChanges(changes);
      },
      // A view records the watermark it committed at (its freshness); other sinks ignore it.
      watermark: (wm: number) => sink.watermark?.(wm),
    };
    const pipeline = buildPipeline(root, terminal, counters, this.deps.timeZone);
    this.dirty = false;
    const table = pipeline.source.table;
    const srcConn = getConnector(table.connector);
    if (!srcConn?.createSource) throw new Error(`connector '${table.connector}' cannot be a source`);
    this.source = await srcConn.createSource({
      table: table.name,
      options: table.options,
      columns: table.physical,
      brokers: this.deps.brokers,
      jobName: this.name,
      jobId: this.id,
      startOffsets: resume?.offsets,
      endOffsets: resume?.endOffsets,
      startState: resume?.source,
      timeZone: this.deps.timeZone,
      projection: usedPhysicalColumns(root),
    });
    const idle = parseDuration(table.options['scan.watermark.idle-timeout']) ?? this.deps.idleTimeoutMs;
    this.stage = new SourceStage(table, this.source.partitions, pipeline.entry, counters, { timeZone: this.deps.timeZone, idleTimeoutMs: idle, now: Date.now() });
    this.operators = pipeline.operators;
    const source = this.source;
    const n = isRawSource(source) ? effectiveParallelism(this.deps.parallelism, source.partitions.length) : 1;
    this.instanceCount = n;
    const ownedMb = isRawSource(source) && n > 1 ? ownedMiniBatch(root) : undefined;
    if (isRawSource(source) && ownedMb && source.readerSpec !== undefined && source.readElsewhere !== undefined) {
      const readerSpec = source.readerSpec;
      // Instances that read their own partitions from where this source stands (a checkpoint's offsets).
      const deliver = frontOutputTarget(root, this.operators, terminal);
      const starts = new Map(Object.entries(source.positions()).map(([p, o]) => [Number(p), o]));
      const endOffsets = source.endOffsets();
      const ends = endOffsets ? new Map(Object.entries(endOffsets).map(([p, o]) => [Number(p), o])) : undefined;
      const instances = new OwnedInstances({ root, timeZone: this.deps.timeZone, decoding: source.decoding() }, readerSpec, starts, ends, n, { inThread: jobThreadIsInstance(n) });
      this.owned = { source: source as Owned['source'], instances, deliver, miniBatch: ownedMb };
      this.instancesRead = true;
      this.ownedPending = 0;
      this.ownedRead = new Map();
      await instances.ready();
      instances.start();
    } else if (isRawSource(source) && n > 1) {
      this.instancesRead = false;
      // The instances run the plan's front; the job runs the rest, from the operator after the front on.
      const deliver = frontOutputTarget(root, this.operators, terminal);
      // A plan that is all front (stateless) into a sink that says how it encodes: the instances encode too.
      const split = splitPlan(root);
      const encoding = this.plan.appendOnly && split.output === 'rows' && split.frontOperators === this.operators.length ? sink.recordEncoding?.() : undefined;
      const instances = new ParallelInstances({ root, timeZone: this.deps.timeZone, decoding: source.decoding(), ...(encoding ? { encoding } : {}) }, source.partitions, n, { inThread: jobThreadIsInstance(n) });
      this.parallel = { source, instances, deliver };
      // Booting is part of starting the job (loading code in each thread takes a moment): a failure is a failed start.
      await instances.ready();
    }
    if (resume) {
      this.stage.watermarks.restore(resume.watermarks);
      resume.operators.forEach((s, i) => {
        const op = this.operators[i];
        if (op) restoreState(op, s);
      });
    }
  }

  /** Returns true when a bounded source has been read to its end. */
  private async process(): Promise<boolean> {
    if (this.owned) return this.processOwned(this.owned);
    if (this.parallel) return this.processParallel(this.parallel);
    const source = this.source!;
    const sink = this.sink!;
    const stage = this.stage!;
    let lastSave = Date.now();
    let lastMonitor = Date.now();
    // A Kafka source's batches are decoded one at a time, each just before it is pushed (decodeBatch).
    const raw = isRawSource(source) ? source : undefined;
    while (!this.stopping) {
      const batches: readonly (SourceBatch | RawSourceBatch)[] = raw ? await raw.pollRaw(200) : await source.poll(200);
      const t0 = performance.now();
      const now = Date.now();
      // The poll in slices (see poll-slices.ts): other requests on this thread wait one slice, not the poll.
      const clock = new SliceClock();
      for (const polled of batches) {
        const b = raw ? raw.decodeBatch(polled as RawSourceBatch) : (polled as SourceBatch);
        // Dead letters are acknowledged before their batch is processed (see KafkaSource.deadLetter).
        if (raw && b.bad.length > 0) await raw.deadLetter(b.bad);
        this.recordsIn += b.rows.length + b.bad.length;
        if (b.bad.length > 0) {
          this.counters.bad += b.bad.length;
          this.counters.lastError = `partition ${b.partition} offset ${b.bad[b.bad.length - 1]!.offset}: ${b.bad[b.bad.length - 1]!.error}`;
        }
        // An updating aggregate emits a key's net change per pushed batch: pieces would multiply its
        // changelog (and differ from the parallel instances' per-batch partials), so its batches go whole.
        for (const piece of this.plan.appendOnly ? pieces(b.rows) : [b.rows]) {
          stage.push(b.partition, piece, now);
          await clock.turn();
        }
      }
      stage.advance(now);
      for (const p of source.finishedPartitions?.() ?? []) stage.watermarks.finish(p);
      const done = source.finished();
      if (done) stage.end();
      this.tickOperators();
      await sink.flush();
      if (batches.length > 0) this.latency.add(performance.now() - t0);
      this.inRate.sample(now, this.recordsIn);
      this.outRate.sample(now, this.recordsOut);
      if (batches.length > 0) this.dirty = true;
      if (done || (this.dirty && now - lastSave >= this.deps.progressIntervalMs)) {
        await this.checkpoint();
        lastSave = Date.now();
      }
      if (now - lastMonitor >= 5000) {
        lastMonitor = now;
        source.commitForMonitoring().catch(() => undefined);
      }
      if (done) return true;
    }
    return this.finishStopping();
  }

  /**
   * process() with parallel instances: polls go to the instances (decoding and the plan's front) and their
   * results are merged in poll order, each poll as process() handles one (its batches in order, then the
   * watermark), so rows are judged late against the same watermark and state sees the same sequence.
   * A checkpoint first merges every poll in flight: its offsets are exactly what the state has seen.
   */
  private async processParallel(par: Parallel): Promise<boolean> {
    const { source, instances } = par;
    const queue: InFlightPoll[] = [];
    const mergeNext = (): Promise<void> => this.mergePoll(par, queue.shift()!);
    let lastSave = Date.now();
    let lastMonitor = Date.now();
    while (!this.stopping) {
      const raw = await source.pollRaw(200);
      const now = Date.now();
      const results = raw.length > 0 ? instances.run(raw) : Promise.resolve([]);
      // Awaited in order by mergePoll; until then a failed instance must not count as unhandled.
      results.catch(() => undefined);
      const done = source.finished();
      queue.push({ now, t0: performance.now(), results, finished: [...(source.finishedPartitions?.() ?? [])], done });
      if (raw.length > 0) this.dirty = true;
      while (queue.length >= POLLS_IN_FLIGHT) await mergeNext();
      if (done || (this.dirty && now - lastSave >= this.deps.progressIntervalMs)) {
        while (queue.length > 0) await mergeNext();
        await this.checkpoint();
        lastSave = Date.now();
      }
      if (now - lastMonitor >= 5000) {
        lastMonitor = now;
        source.commitForMonitoring().catch(() => undefined);
      }
      if (done) return true;
    }
    while (queue.length > 0) await mergeNext();
    return this.finishStopping();
  }

  /**
   * process() with instances that read their own partitions (owned.ts): the job asks them every few ms
   * how far they read, and merges their partial groups when the GROUP BY's mini-batch would end (its
   * latency, its size in rows, a checkpoint due, the end of a bounded input), each flush with the
   * positions its groups cover: a checkpoint right after one saves exactly what the state has seen.
   */
  private async processOwned(own: Owned): Promise<boolean> {
    let lastSave = Date.now();
    let lastMerge = Date.now();
    let lastMonitor = Date.now();
    let tick = OWNED_TICK_MS;
    while (!this.stopping) {
      await new Promise<void>((resolve) => setTimeout(resolve, tick));
      const progress = await own.instances.progress();
      tick = progress.records !== this.ownedPending ? OWNED_TICK_MS : Math.min(2 * tick, OWNED_IDLE_TICK_MS);
      const now = Date.now();
      this.ownedPending = progress.records;
      for (const [p, offset, highWatermark] of progress.read) this.ownedRead.set(p, { offset, highWatermark });
      if (progress.records > 0) this.dirty = true;
      this.inRate.sample(now, this.recordsIn + this.ownedPending);
      const checkpointDue = this.dirty && now - lastSave >= this.deps.progressIntervalMs;
      const mb = own.miniBatch;
      if (progress.done || checkpointDue || now - lastMerge >= mb.latencyMs || progress.records >= mb.size) {
        await this.mergeOwned(own, now, progress.done);
        lastMerge = Date.now();
      }
      if (progress.done || checkpointDue) {
        await this.checkpoint();
        lastSave = Date.now();
      }
      if (now - lastMonitor >= 5000) {
        lastMonitor = now;
        own.source.commitForMonitoring().catch(() => undefined);
      }
      if (progress.done) return true;
    }
    await this.mergeOwned(own, Date.now(), false);
    return this.finishStopping();
  }

  /** One flush of every owned instance into the job's part of the pipeline. */
  private async mergeOwned(own: Owned, now: number, done: boolean): Promise<void> {
    const stage = this.stage!;
    const t0 = performance.now();
    const round = await own.instances.flush();
    const clock = new SliceClock();
    // Dead letters are acknowledged before the groups they were left out of reach the state.
    await own.source.deadLetter(round.bad);
    const lastBad = round.bad[round.bad.length - 1];
    if (lastBad) {
      this.counters.bad += round.bad.length;
      this.counters.lastError = `partition ${lastBad.partition} offset ${lastBad.offset}: ${lastBad.error}`;
    }
    let records = 0;
    for (const f of round.flushes) {
      records += f.records;
      if (f.frontBad > 0) {
        this.counters.bad += f.frontBad;
        this.counters.lastError = f.lastError;
      }
      for (const [p, wm] of f.watermarks) stage.observe(p, wm ?? undefined, now);
      // In pieces, the event loop turning between them when a slice is used up: 100,000 groups merge in
      // tens of ms, which the server's other requests should not wait for in one stretch.
      for (const piece of partialPieces(f.partials, OWNED_MERGE_GROUPS)) {
        own.deliver({ kind: 'groupPartials', partials: piece });
        await clock.turn();
      }
      for (const [p, o, hw] of f.positions) own.source.readElsewhere(p, o, hw);
      for (const p of f.finished) stage.watermarks.finish(p);
    }
    this.recordsIn += records;
    this.ownedPending = Math.max(0, this.ownedPending - records);
    stage.advance(now);
    if (done) stage.end();
    this.tickOperators();
    await this.sink!.flush();
    // The batch latency of these jobs: a flush's, from asking the instances to the sink's acknowledgement.
    if (records > 0) this.latency.add(performance.now() - t0);
    this.outRate.sample(Date.now(), this.recordsOut);
  }

  /**
   * The end of a stopped loop: a final checkpoint of what the sink has taken; with drain, every open window
   * fires first and the job counts as finished (true).
   */
  private async finishStopping(): Promise<boolean> {
    if (this.draining) this.stage!.end();
    await this.sink!.flush();
    await this.checkpoint();
    return this.draining;
  }

  /** One poll's instance results into the job's part of the pipeline, as process() does with one poll. */
  private async mergePoll(par: Parallel, p: InFlightPoll): Promise<void> {
    const stage = this.stage!;
    const sink = this.sink!;
    const batches = await p.results;
    // Dead letters are acknowledged before their batch is processed (see KafkaSource.deadLetter).
    await par.source.deadLetter(batches.flatMap((b) => b.bad));
    // Batch by batch in slices, as process() does (the instances' batches are a partition's poll each).
    const clock = new SliceClock();
    for (const b of batches) {
      this.recordsIn += b.records;
      if (b.bad.length > 0) {
        this.counters.bad += b.bad.length;
        this.counters.lastError = `partition ${b.partition} offset ${b.bad[b.bad.length - 1]!.offset}: ${b.bad[b.bad.length - 1]!.error}`;
      }
      if (b.front.bad > 0) {
        this.counters.bad += b.front.bad;
        this.counters.lastError = b.front.lastError;
      }
      stage.observe(b.partition, b.front.maxWatermark, p.now);
      par.deliver(b.front.output);
      if (b.encoded && b.encoded.count > 0) {
        // What terminal.push() does for rows, for the records the instance encoded from them.
        this.recordsOut += b.encoded.count;
        this.dirty = true;
        sink.writeEncoded!(b.encoded);
      }
      await clock.turn();
    }
    stage.advance(p.now);
    for (const q of p.finished) stage.watermarks.finish(q);
    if (p.done) stage.end();
    this.tickOperators();
    await sink.flush();
    if (batches.length > 0) this.latency.add(performance.now() - p.t0);
    const now = Date.now();
    this.inRate.sample(now, this.recordsIn);
    this.outRate.sample(now, this.recordsOut);
  }

  /** Lets operators emit what they have held back long enough (mini-batch latency), upstream first. */
  private tickOperators(): void {
    for (const op of this.operators) op.tick?.();
  }

  private checkpoints(): CheckpointStore {
    this.store ??= this.deps.openCheckpoints(this.id);
    return this.store;
  }

  /**
   * Where to resume: the newest completed checkpoint. A newer PENDING one (the process died between
   * recording it and completing it) counts iff the sink says its commit happened; otherwise it is
   * aborted and the sink's reopening has dropped its uncommitted output. Without any checkpoint, the
   * progress an older version kept in the catalog (or nothing: the startup mode decides).
   */
  private async recover(sink: Sink): Promise<JobProgress | null> {
    const store = this.checkpoints();
    const { completed, pending } = store.latest();
    let resumeFrom = completed?.id;
    if (sink.committer) {
      const committed = await sink.committer.recover(pending?.id);
      if (pending && committed) {
        store.complete(pending.id);
        resumeFrom = pending.id;
      } else if (pending) {
        store.abort(pending.id);
      }
    } else if (pending) {
      // Only two-phase sinks leave PENDING checkpoints; without one, the completed checkpoint is safe.
      store.abort(pending.id);
    }
    if (resumeFrom !== undefined) return store.load(resumeFrom);
    return this.legacyProgress;
  }

  /**
   * One checkpoint. The sink has been flushed. Without a committer: written COMPLETED at once. With one
   * (two-phase): prepare → PENDING (durable) → commit → COMPLETED; a crash anywhere in between is
   * resolved by recover() on restart.
   */
  private async checkpoint(): Promise<void> {
    // What operators hold back (an open mini-batch) goes to the sink first: the checkpoint's offsets and
    // state cover it, so the sink must have it before it is flushed or committed.
    let held = false;
    for (const op of this.operators) if (op.flush?.()) held = true;
    if (held) await this.sink!.flush();
    const source = this.source!;
    const store = this.checkpoints();
    const data: CheckpointData = {
      offsets: source.positions(),
      endOffsets: source.endOffsets(),
      watermarks: this.stage!.watermarks.snapshot(),
      ...(source.state ? { source: source.state() } : {}),
      // Keyed operators hand over only what changed since the last checkpoint (engine/state/keyed.ts).
      // Every entry of an operator whose logged changes the store wants to replace (wantsFull).
      operators: this.operators.map((op, i) => checkpointState(op, store.wantsFull(i))),
    };
    const t0 = performance.now();
    const id = store.nextId();
    const committer = this.sink!.committer;
    let bytes: number;
    if (committer) {
      await committer.prepare(id);
      // Sliced store writes (one transaction each): the thread keeps serving HTTP during a large checkpoint.
      bytes = await store.writeSliced(id, data, 'PENDING');
      await committer.commit(id);
      await store.completeSliced(id);
    } else {
      bytes = await store.writeSliced(id, data, 'COMPLETED');
    }
    this.dirty = false;
    this.lastCheckpoint = { id, completedAt: new Date().toISOString(), durationMs: Math.round((performance.now() - t0) * 10) / 10, stateBytes: bytes };
  }

  private async close(): Promise<void> {
    if (this.source) this.lastProgress = this.partitionProgress();
    const s = this.source;
    const k = this.sink;
    const par = this.parallel;
    const own = this.owned;
    this.source = undefined;
    this.sink = undefined;
    this.parallel = undefined;
    this.owned = undefined;
    await Promise.allSettled([s?.close(), k?.close(), par?.instances.close(), own?.instances.close()]);
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

  /** Where the job read each partition (with owned instances, where they read: a checkpoint saves their last flush's). */
  private partitionProgress(): PartitionProgress[] {
    const progress = this.source?.progress() ?? this.lastProgress;
    if (!this.owned) return progress;
    return progress.map((p) => {
      const r = this.ownedRead.get(p.partition);
      return r === undefined ? p : { partition: p.partition, offset: Math.max(p.offset, r.offset), highWatermark: Math.max(p.highWatermark, r.highWatermark, r.offset) };
    });
  }

  metrics(): JobMetrics {
    const wm = this.stage?.currentWatermark();
    const progress = this.partitionProgress();
    if (this.source) this.lastTopic = this.source.topic;
    const topic = this.lastTopic;
    return {
      recordsIn: this.recordsIn + this.ownedPending,
      recordsOut: this.recordsOut,
      recordsLate: this.counters.late,
      recordsBad: this.counters.bad,
      recordsInPerSecond: this.inRate.rate(),
      recordsOutPerSecond: this.outRate.rate(),
      watermark: wm === undefined ? null : wm >= Number.MAX_SAFE_INTEGER ? 'END' : formatTimestamp(wm),
      lastBadRecordError: this.counters.lastError,
      ...(this.instanceCount !== undefined ? { parallelism: this.instanceCount } : {}),
      ...(this.instanceCount !== undefined && this.instanceCount > 1 ? { instancesRead: this.instancesRead } : {}),
      batchLatencyMs: this.latency.percentiles(),
      ...(this.lastCheckpoint ? { lastCheckpoint: this.lastCheckpoint } : {}),
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



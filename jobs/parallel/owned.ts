/**
 * Parallel instances that read their own partitions (DESIGN §4, docs/benchmarks.md 2026-11-27): for a
 * GROUP BY whose changes the job emits once per mini-batch (a materialized view: once per checkpoint),
 * each instance opens its own Kafka reader over its partitions, decodes, runs the plan's front and folds
 * the rows into partial groups it keeps until the job asks for them (flush). The job's thread then neither
 * reads nor packs every record nor merges every batch's partials: it merges each instance's groups once
 * per mini-batch, with the positions those groups cover, so a checkpoint's offsets and state still agree.
 * An instance reads on meanwhile; what it read after a flush goes into the next one, or after a restart
 * is read again from the checkpoint's offsets.
 */
import { createKafkaClient, eachValueOf } from '../../connectors/kafka/client.ts';
import type { FetchedBatch, KafkaClient, KafkaReader } from '../../connectors/kafka/client.ts';
import type { KafkaReaderSpec } from '../../connectors/kafka/source.ts';
import type { BadRecord } from '../../connectors/types.ts';
import type { GroupPartials } from '../../engine/ops/group-aggregate.ts';
import { BatchRunner } from './batch-runner.ts';
import { InstanceThread } from './instance-thread.ts';
import type { InstanceInit } from './protocol.ts';

/** How long one poll of an instance's reader waits for records. */
const POLL_WAIT_MS = 100;

/** What an instance reads: its partitions from their start offsets, each up to its end when bounded. */
export interface OwnedInit {
  readonly reader: KafkaReaderSpec;
  readonly starts: readonly (readonly [partition: number, offset: number])[];
  readonly ends?: readonly (readonly [partition: number, end: number])[] | undefined;
}

/** What an instance read and folded since its last flush. */
export interface OwnedFlush {
  /** Its partial groups (null: no row reached the aggregate). */
  readonly partials: GroupPartials | null;
  /** Every partition's next offset (the groups cover the records before it) and its high watermark as last fetched (-1: none yet). */
  readonly positions: readonly (readonly [partition: number, offset: number, highWatermark: number])[];
  /** Partitions read to their end (bounded), all of them so far. */
  readonly finished: readonly number[];
  /** Records read (decoded rows and bad records). */
  readonly records: number;
  readonly bad: readonly { readonly partition: number; readonly offset: number; readonly error: string; readonly value: Uint8Array | null }[];
  /** Rows the front judged bad, and the last one's error. */
  readonly frontBad: number;
  readonly lastError: string | null;
  /** Partitions that brought records, each with its greatest watermark candidate (null: none). */
  readonly watermarks: readonly (readonly [partition: number, candidate: number | null])[];
}

/** An instance's progress between flushes (cheap to ask for). */
export interface OwnedProgress {
  readonly records: number;
  /** Every partition's next offset to read and its high watermark as last fetched (-1: none yet), for metrics (a checkpoint takes a flush's). */
  readonly read: readonly (readonly [partition: number, offset: number, highWatermark: number])[];
  /** Every partition of the instance read to its end. */
  readonly done: boolean;
}

/** One instance's reading and folding, in whichever thread it runs. */
export class OwnedReading {
  private readonly runner: BatchRunner;
  private client: KafkaClient | undefined;
  private reader: KafkaReader | undefined;
  private readonly positions: Map<number, number>;
  private readonly ends: Map<number, number> | undefined;
  private readonly finished = new Set<number>();
  private readonly highWatermarks = new Map<number, number>();
  private records = 0;
  private bad: OwnedFlush['bad'][number][] = [];
  private frontBad = 0;
  private lastError: string | null = null;
  private watermarks = new Map<number, number | null>();
  private failure: Error | undefined;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();

  constructor(
    init: InstanceInit,
    private readonly owned: OwnedInit,
  ) {
    this.runner = new BatchRunner(init, true);
    this.positions = new Map(owned.starts);
    this.ends = owned.ends ? new Map(owned.ends) : undefined;
    for (const [p, o] of this.positions) if (this.atEnd(p, o)) this.finished.add(p);
  }

  private atEnd(partition: number, offset: number): boolean {
    return this.ends !== undefined && offset >= (this.ends.get(partition) ?? 0);
  }

  /** Opens the reader; start() then starts reading. */
  async open(): Promise<void> {
    const r = this.owned.reader;
    this.client = createKafkaClient(r.config);
    const from = new Map([...this.positions].filter(([p]) => !this.finished.has(p)));
    this.reader = await this.client.openReader({
      topic: r.topic,
      partitions: from,
      isolationLevel: r.isolationLevel,
      ...(r.maxBytes !== undefined ? { maxBytes: r.maxBytes } : {}),
      ...(r.maxPartitionBytes !== undefined ? { maxPartitionBytes: r.maxPartitionBytes } : {}),
    });
  }

  /**
   * Starts reading, in the background (flush() takes what was read). Every instance of a job starts when
   * all are open, so none reads while another is still booting (a worker takes most of a second).
   */
  start(): void {
    if (this.reader !== undefined && !this.stopped) this.loop = this.read(this.reader);
  }

  private async read(reader: KafkaReader): Promise<void> {
    while (!this.stopped && this.finished.size < this.positions.size) {
      let batches: FetchedBatch[];
      try {
        batches = await reader.poll(POLL_WAIT_MS);
      } catch (e) {
        // The job's next flush fails with it, and the job restarts from its checkpoint.
        this.failure = e instanceof Error ? e : new Error(String(e));
        return;
      }
      if (this.stopped) return;
      try {
        for (const b of batches) this.take(reader, b);
      } catch (e) {
        this.failure = e instanceof Error ? e : new Error(String(e));
        return;
      }
    }
  }

  /** One partition batch decoded and folded into the held groups (a flush never sees half of one). */
  private take(reader: KafkaReader, b: FetchedBatch): void {
    const p = b.partition;
    if (this.finished.has(p) || !this.positions.has(p)) return;
    const end = this.ends?.get(p) ?? Number.POSITIVE_INFINITY;
    const each = eachValueOf(b);
    const r = this.runner.run(b.nextOffset <= end ? each : (f) => each((bytes, s, e, offset) => offset < end && f(bytes, s, e, offset)), true, []);
    this.records += r.records;
    for (const x of r.badRecords) this.bad.push({ partition: p, offset: x.offset, error: x.error, value: x.value });
    if (r.front.bad > 0) {
      this.frontBad += r.front.bad;
      this.lastError = r.front.lastError;
    }
    const wm = r.front.maxWatermark;
    const before = this.watermarks.get(p);
    this.watermarks.set(p, wm === undefined ? (before ?? null) : before === undefined || before === null ? wm : Math.max(before, wm));
    const next = Math.min(b.nextOffset, end);
    this.positions.set(p, next);
    this.highWatermarks.set(p, b.highWatermark);
    if (this.atEnd(p, next)) {
      this.finished.add(p);
      reader.remove(p);
    }
  }

  private readPositions(): [number, number, number][] {
    return [...this.positions].map(([p, o]) => [p, o, this.highWatermarks.get(p) ?? -1]);
  }

  progress(): OwnedProgress {
    if (this.failure) throw this.failure;
    return { records: this.records, read: this.readPositions(), done: this.finished.size >= this.positions.size };
  }

  /** What was read and folded since the last flush, and a fresh start; throws what stopped the reading. */
  flush(): OwnedFlush {
    if (this.failure) throw this.failure;
    const out: OwnedFlush = {
      partials: this.runner.takeHeld(),
      positions: this.readPositions(),
      finished: [...this.finished],
      records: this.records,
      bad: this.bad,
      frontBad: this.frontBad,
      lastError: this.lastError,
      watermarks: [...this.watermarks],
    };
    this.records = 0;
    this.bad = [];
    this.frontBad = 0;
    this.lastError = null;
    this.watermarks = new Map();
    return out;
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.reader?.close().catch(() => undefined);
    await this.loop.catch(() => undefined);
    await this.client?.close().catch(() => undefined);
  }
}

/** Requests to an owned instance's worker thread, and its replies. */
export type OwnedRequest = { readonly kind: 'progress' | 'flush'; readonly id: number } | { readonly kind: 'start' };
export type OwnedReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'progress'; readonly id: number; readonly progress: OwnedProgress }
  | { readonly kind: 'flush'; readonly id: number; readonly flush: OwnedFlush }
  | { readonly kind: 'error'; readonly id: number; readonly error: string };

/** One instance: the job's own thread, or a worker thread. */
interface OwnedInstance {
  /** Settles when its reader is open (or failed to open). */
  readonly ready: Promise<void>;
  start(): void;
  progress(): Promise<OwnedProgress>;
  flush(): Promise<OwnedFlush>;
  close(): Promise<void>;
}

/** The instance in the job's own thread: it reads between the job's turns. */
class LocalOwned implements OwnedInstance {
  readonly ready: Promise<void>;
  private readonly reading: OwnedReading;

  constructor(init: InstanceInit, owned: OwnedInit) {
    this.reading = new OwnedReading(init, owned);
    this.ready = this.reading.open();
    this.ready.catch(() => undefined);
  }

  start(): void {
    this.reading.start();
  }

  progress(): Promise<OwnedProgress> {
    try {
      return Promise.resolve(this.reading.progress());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  flush(): Promise<OwnedFlush> {
    try {
      return Promise.resolve(this.reading.flush());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  close(): Promise<void> {
    return this.reading.close();
  }
}

/** An instance in a worker thread (instance.ts with `owned` in its workerData). */
class WorkerOwned implements OwnedInstance {
  private readonly thread: InstanceThread<OwnedReply>;

  constructor(init: InstanceInit, owned: OwnedInit, index: number) {
    this.thread = new InstanceThread<OwnedReply>({ ...init, owned }, index);
  }

  get ready(): Promise<void> {
    return this.thread.ready;
  }

  start(): void {
    this.thread.tell({ kind: 'start' } satisfies OwnedRequest);
  }

  async progress(): Promise<OwnedProgress> {
    const r = await this.thread.request({ kind: 'progress' });
    if (r.kind !== 'progress') throw new Error(`unexpected reply ${r.kind} to progress`);
    return r.progress;
  }

  async flush(): Promise<OwnedFlush> {
    const r = await this.thread.request({ kind: 'flush' });
    if (r.kind !== 'flush') throw new Error(`unexpected reply ${r.kind} to flush`);
    return r.flush;
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** The job's end of a worker thread's OwnedReading (instance.ts calls it). */
export async function serveOwned(init: InstanceInit, owned: OwnedInit, port: { postMessage(m: OwnedReply): void; on(e: 'message', f: (m: OwnedRequest) => void): void }): Promise<void> {
  const reading = new OwnedReading(init, owned);
  port.on('message', (req) => {
    if (req.kind === 'start') {
      reading.start();
      return;
    }
    try {
      if (req.kind === 'progress') port.postMessage({ kind: 'progress', id: req.id, progress: reading.progress() });
      else port.postMessage({ kind: 'flush', id: req.id, flush: reading.flush() });
    } catch (e) {
      port.postMessage({ kind: 'error', id: req.id, error: e instanceof Error ? e.message : String(e) });
    }
  });
  await reading.open();
  port.postMessage({ kind: 'ready' });
}

/** What the job learns from one flush of all its instances. */
export interface OwnedRound {
  readonly flushes: readonly OwnedFlush[];
  readonly bad: readonly BadRecord[];
}

/**
 * A job's instances that read their own partitions: `count` of them over `partitions` (each partition to
 * one, in turns), the first in the job's own thread when `inThread`.
 */
export class OwnedInstances {
  private readonly instances: OwnedInstance[];

  constructor(init: InstanceInit, reader: KafkaReaderSpec, starts: ReadonlyMap<number, number>, ends: ReadonlyMap<number, number> | undefined, count: number, opts: { readonly inThread?: boolean } = {}) {
    const parts = [...starts.keys()].sort((a, b) => a - b);
    this.instances = Array.from({ length: count }, (_, i) => {
      const mine = parts.filter((_, k) => k % count === i);
      const owned: OwnedInit = {
        reader,
        starts: mine.map((p) => [p, starts.get(p)!] as const),
        ...(ends ? { ends: mine.map((p) => [p, ends.get(p) ?? 0] as const) } : {}),
      };
      return i === 0 && opts.inThread ? new LocalOwned(init, owned) : new WorkerOwned(init, owned, i);
    });
  }

  /** Resolves when every instance's reader is open; rejects when one failed to boot or open. */
  async ready(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.ready));
  }

  /** Every instance starts reading (after ready()). */
  start(): void {
    for (const i of this.instances) i.start();
  }

  /** Records read since the last flush, and whether every partition was read to its end. */
  async progress(): Promise<OwnedProgress> {
    const all = await Promise.all(this.instances.map((i) => i.progress()));
    return { records: all.reduce((s, p) => s + p.records, 0), read: all.flatMap((p) => p.read), done: all.every((p) => p.done) };
  }

  /** Every instance's flush, and their bad records as the dead-letter topic takes them. */
  async flush(): Promise<OwnedRound> {
    const flushes = await Promise.all(this.instances.map((i) => i.flush()));
    const bad = flushes.flatMap((f) =>
      f.bad.map((x): BadRecord => ({ partition: x.partition, offset: x.offset, error: x.error, value: x.value === null ? null : Buffer.from(x.value.buffer, x.value.byteOffset, x.value.byteLength) })),
    );
    return { flushes, bad };
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.instances.map((i) => i.close()));
  }
}

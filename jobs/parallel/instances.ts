import type { BadRecord, EncodedRecords } from '../../connectors/types.ts';
import type { RawSourceBatch } from '../../connectors/kafka/source.ts';
import type { FrontResult } from '../../engine/parallel/front.ts';
import { InstanceThread } from './instance-thread.ts';
import { packEach, transferables } from './protocol.ts';
import { eachValueOf } from '../../connectors/kafka/client.ts';
import type { BatchRequest, BatchResult, InstanceInit, InstanceReply } from './protocol.ts';
import { BatchRunner } from './batch-runner.ts';

/** One partition batch after its instance ran: what the job merges. */
export interface ParallelBatch {
  readonly partition: number;
  /** Records read (decoded rows and bad records; what recordsIn counts). */
  readonly records: number;
  readonly bad: readonly BadRecord[];
  readonly front: FrontResult;
  /** The output as the sink's records, when the instances encode them (InstanceInit.encoding). */
  readonly encoded?: EncodedRecords;
}

/** One worker thread (instance.ts): a request per poll's batches for it, answered with their results. */
class Instance implements PipelineInstance {
  private readonly thread: InstanceThread<InstanceReply>;

  constructor(init: InstanceInit, index: number) {
    this.thread = new InstanceThread<InstanceReply>(init, index);
  }

  /** Settles when the thread has loaded its code and built its pipeline front (or failed to). */
  get ready(): Promise<void> {
    return this.thread.ready;
  }

  /** Packs the batches' record values and sends them to the thread; resolves with its results in the same order. */
  async run(raw: readonly RawSourceBatch[]): Promise<readonly BatchResult[]> {
    const batches = raw.map((b) => packEach(b.partition, eachValueOf(b)));
    const req: Omit<BatchRequest, 'id'> = { batches };
    const reply = await this.thread.request(req, batches.flatMap(transferables));
    if (reply.kind !== 'results') throw new Error(`unexpected reply ${reply.kind} from a pipeline instance`);
    return reply.results;
  }

  close(): Promise<void> {
    return this.thread.close();
  }
}

/** A pipeline instance: a worker thread, or the job's own thread. */
interface PipelineInstance {
  readonly ready: Promise<void>;
  run(raw: readonly RawSourceBatch[]): Promise<readonly BatchResult[]>;
  close(): Promise<void>;
}

/**
 * The instance that runs in the job's own thread: no packing, no message, no copy of its results. Its
 * batches run synchronously when run() is called (after the other instances got theirs).
 */
class LocalInstance implements PipelineInstance {
  readonly ready = Promise.resolve();
  private readonly runner: BatchRunner;

  constructor(init: InstanceInit) {
    this.runner = new BatchRunner(init);
  }

  run(raw: readonly RawSourceBatch[]): Promise<readonly BatchResult[]> {
    try {
      // Transfer lists only matter between threads.
      const none: ArrayBuffer[] = [];
      return Promise.resolve(
        raw.map((b) =>
          this.runner.run(
            eachValueOf(b),
            false,
            none,
          ),
        ),
      );
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  async close(): Promise<void> {}
}

/**
 * The parallel pipeline instances of a job (DESIGN §4): worker threads, each owning a fixed group of the
 * source's partitions, that decode and run the plan's front (engine/parallel/front.ts). The job keeps
 * reading, ordering, watermarks, state, checkpoints and the sink; run() hands it the results of one poll
 * in the poll's batch order, whichever instance finishes first.
 */
export class ParallelInstances {
  private readonly instances: PipelineInstance[];
  private readonly owner = new Map<number, number>();

  /**
   * `count` instances over `partitions` (each partition to one, in turns). With `inThread`, the first is
   * the job's own thread (LocalInstance) and `count - 1` are worker threads: where the machine has no
   * core to spare for a thread that would only read and merge (jobs/parallel/parallelism.ts).
   */
  constructor(init: InstanceInit, partitions: readonly number[], count: number, opts: { readonly inThread?: boolean } = {}) {
    this.instances = Array.from({ length: count }, (_, i) => (i === 0 && opts.inThread ? new LocalInstance(init) : new Instance(init, i)));
    // In turns; the job's thread, which also reads and merges for all, takes one turn where a worker takes two.
    const turns: number[] = [];
    for (let i = 0; i < count; i++) for (let k = 0; k < (i === 0 && opts.inThread ? 1 : 2); k++) turns.push(i);
    turns.sort((a, b) => b - a);
    [...partitions].sort((a, b) => a - b).forEach((p, i) => this.owner.set(p, turns[i % turns.length]!));
  }

  get size(): number {
    return this.instances.length;
  }

  /** Resolves when every instance has booted; rejects when one failed to. */
  async ready(): Promise<void> {
    await Promise.all(this.instances.map((i) => i.ready));
  }

  /** Sends each batch to its partition's instance; resolves with the results in batch order. */
  async run(raw: readonly RawSourceBatch[]): Promise<ParallelBatch[]> {
    const perInstance = new Map<number, { batches: RawSourceBatch[]; at: number[] }>();
    raw.forEach((b, at) => {
      const i = this.owner.get(b.partition) ?? 0;
      let e = perInstance.get(i);
      if (!e) perInstance.set(i, (e = { batches: [], at: [] }));
      e.batches.push(b);
      e.at.push(at);
    });
    const results: BatchResult[] = new Array(raw.length);
    // Worker threads first: they work on their batches while this thread runs its own (if it has any).
    const order = [...perInstance].sort(([a], [b]) => Number(this.instances[a] instanceof LocalInstance) - Number(this.instances[b] instanceof LocalInstance));
    const runs = order.map(([i, e]) => this.instances[i]!.run(e.batches).then((r) => e.at.forEach((at, k) => (results[at] = r[k]!))));
    await Promise.all(runs);
    return raw.map((b, at) => {
      const r = results[at]!;
      const bad = r.badRecords.map(
        (x): BadRecord => ({ partition: b.partition, offset: x.offset, error: x.error, value: x.value === null ? null : Buffer.from(x.value.buffer, x.value.byteOffset, x.value.byteLength) }),
      );
      return { partition: b.partition, records: r.records, bad, front: r.front, ...(r.encoded ? { encoded: r.encoded } : {}) };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.instances.map((w) => w.close()));
  }
}

import { Worker } from 'node:worker_threads';
import type { BadRecord, EncodedRecords } from '../../connectors/types.ts';
import type { RawSourceBatch } from '../../connectors/kafka/source.ts';
import type { FrontResult } from '../../engine/parallel/front.ts';
import { codeStamp } from './code-stamp.ts';
import { packValues, transferables } from './protocol.ts';
import type { BatchRequest, BatchResult, InstanceInit, InstanceReply, PackedBatch } from './protocol.ts';

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

interface Pending {
  readonly resolve: (r: readonly BatchResult[]) => void;
  readonly reject: (e: Error) => void;
}

/** One worker thread and its requests in flight. */
class Instance {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;
  /** Settles when the thread has loaded its code and built its pipeline front (or failed to). */
  readonly ready: Promise<void>;
  private booted!: { resolve: () => void; reject: (e: Error) => void };

  constructor(init: InstanceInit, index: number) {
    this.worker = new Worker(new URL('./instance-boot.mjs', import.meta.url), { workerData: { ...init, codeStamp: init.codeStamp ?? codeStamp() }, name: `weir-instance-${index}` });
    this.ready = new Promise((resolve, reject) => (this.booted = { resolve, reject }));
    // Until someone awaits it, a failed boot must not count as an unhandled rejection.
    this.ready.catch(() => undefined);
    this.worker.on('message', (m: InstanceReply) => {
      switch (m.kind) {
        case 'ready':
          this.booted.resolve();
          return;
        case 'results':
        case 'error': {
          const p = this.pending.get(m.id);
          if (!p) return;
          this.pending.delete(m.id);
          if (m.kind === 'error') p.reject(new Error(m.error));
          else p.resolve(m.results);
          return;
        }
        default: {
          const never: never = m;
          throw new Error(`unknown instance reply ${String(never)}`);
        }
      }
    });
    this.worker.on('error', (e) => this.fail(new Error(`pipeline instance ${index} failed: ${e.message}`)));
    this.worker.on('exit', (code) => {
      if (!this.closing) this.fail(new Error(`pipeline instance ${index} exited (code ${code})`));
    });
  }

  /** Every request in flight fails, and every later one: the job restarts with new instances. */
  private fail(e: Error): void {
    this.failure ??= e;
    this.booted.reject(this.failure);
    for (const p of this.pending.values()) p.reject(this.failure);
    this.pending.clear();
  }

  run(batches: readonly PackedBatch[]): Promise<readonly BatchResult[]> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const req: BatchRequest = { id, batches };
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(req, batches.flatMap(transferables));
    });
  }

  async close(): Promise<void> {
    this.closing = true;
    this.fail(new Error('pipeline instance closed'));
    await this.worker.terminate();
  }
}

/**
 * The parallel pipeline instances of a job (DESIGN §4): worker threads, each owning a fixed group of the
 * source's partitions, that decode and run the plan's front (engine/parallel/front.ts). The job keeps
 * reading, ordering, watermarks, state, checkpoints and the sink; run() hands it the results of one poll
 * in the poll's batch order, whichever instance finishes first.
 */
export class ParallelInstances {
  private readonly instances: Instance[];
  private readonly owner = new Map<number, number>();

  constructor(init: InstanceInit, partitions: readonly number[], count: number) {
    this.instances = Array.from({ length: count }, (_, i) => new Instance(init, i));
    [...partitions].sort((a, b) => a - b).forEach((p, i) => this.owner.set(p, i % count));
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
    const perInstance = new Map<number, { packed: PackedBatch[]; at: number[] }>();
    raw.forEach((b, at) => {
      const i = this.owner.get(b.partition) ?? 0;
      let e = perInstance.get(i);
      if (!e) perInstance.set(i, (e = { packed: [], at: [] }));
      e.packed.push(packValues(b.partition, b.records));
      e.at.push(at);
    });
    const results: BatchResult[] = new Array(raw.length);
    await Promise.all(
      [...perInstance].map(async ([i, e]) => {
        const r = await this.instances[i]!.run(e.packed);
        e.at.forEach((at, k) => (results[at] = r[k]!));
      }),
    );
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

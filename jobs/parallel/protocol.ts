/**
 * Messages between a parallel job (jobs/job.ts) and its pipeline instances (instance.ts, one worker
 * thread each). Record values travel packed into one transferred buffer per partition batch; results as
 * structured clones (rows, or partial aggregates: fewer when keys repeat within a batch).
 */
import type { JsonDecoderOptions } from '../../connectors/formats/json.ts';
import type { FrontResult } from '../../engine/parallel/front.ts';
import type { Column, PlanNode } from '../../engine/plan/plan.ts';
import type { EncodedRecords, RecordEncoding } from '../../connectors/types.ts';

/** workerData of an instance: everything it needs to build its decoder and its PipelineFront. */
export interface InstanceInit {
  readonly root: PlanNode;
  readonly timeZone: string;
  readonly decoding: { readonly columns: readonly Column[]; readonly options: JsonDecoderOptions };
  /**
   * When the whole plan is the front and the sink can say how it encodes records: the instance encodes
   * its output rows (BatchResult.encoded) and hands back no rows.
   */
  readonly encoding?: RecordEncoding;
  /** code-stamp.ts: the instance refuses to start when the code on disk differs from the job's. */
  readonly codeStamp?: string;
}

/** The record values of one partition batch: value i is `lengths[i]` bytes of `bytes` from `starts[i]` (length -1: a null value), at offset `offsets[i]`. */
export interface PackedBatch {
  readonly partition: number;
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly starts: Int32Array<ArrayBuffer>;
  readonly lengths: Int32Array<ArrayBuffer>;
  readonly offsets: Float64Array<ArrayBuffer>;
}

/** The buffers of a packed batch, to transfer rather than copy. */
export function transferables(b: PackedBatch): ArrayBuffer[] {
  return [b.bytes.buffer, b.starts.buffer, b.lengths.buffer, b.offsets.buffer];
}

export interface BatchRequest {
  readonly id: number;
  readonly batches: readonly PackedBatch[];
}

/** What an instance made of one packed batch. */
export interface BatchResult {
  /** Records read: those that decoded into a row and the bad ones (not those json.ignore-parse-errors skipped). */
  readonly records: number;
  /** Records the decoder rejected, in offset order, with their values (copies) for the dead-letter topic. */
  readonly badRecords: readonly { readonly offset: number; readonly error: string; readonly value: Uint8Array | null }[];
  readonly front: FrontResult;
  /** The front's output rows as the sink's records (InstanceInit.encoding); `front` then holds no rows. */
  readonly encoded?: EncodedRecords;
}

/** An instance's answers: 'ready' once when it has booted, then one reply per request. */
export type InstanceReply =
  | { readonly kind: 'ready' }
  | { readonly kind: 'results'; readonly id: number; readonly results: readonly BatchResult[] }
  | { readonly kind: 'error'; readonly id: number; readonly error: string };

/**
 * Packs record values into one buffer that can be transferred (not copied again) to a worker. Values
 * decoded from one fetch response are views into one buffer, mostly back to back: then the span they
 * cover is copied at once, else each value on its own.
 */
export function packValues(partition: number, records: readonly { readonly offset: number; readonly value: Uint8Array | null }[]): PackedBatch {
  const n = records.length;
  const values = records.map((r) => r.value);
  const offsets = new Float64Array(n);
  for (let i = 0; i < n; i++) offsets[i] = records[i]!.offset;
  const starts = new Int32Array(n);
  const lengths = new Int32Array(n);
  let total = 0;
  let shared: ArrayBufferLike | undefined;
  let one = true;
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!v) continue;
    total += v.length;
    if (shared === undefined) shared = v.buffer;
    else if (v.buffer !== shared) one = false;
    if (v.byteOffset < lo) lo = v.byteOffset;
    if (v.byteOffset + v.length > hi) hi = v.byteOffset + v.length;
  }
  // Keys, headers and batch headers between the values are copied along; not when they dominate.
  if (shared !== undefined && one && hi - lo <= 2 * total + 65_536) {
    const bytes = new Uint8Array(hi - lo);
    bytes.set(new Uint8Array(shared, lo, hi - lo));
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (!v) lengths[i] = -1;
      else {
        starts[i] = v.byteOffset - lo;
        lengths[i] = v.length;
      }
    }
    return { partition, bytes, starts, lengths, offsets };
  }
  // Not from Buffer's shared pool: the whole ArrayBuffer is ours to transfer.
  const bytes = new Uint8Array(total);
  let at = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (!v) {
      lengths[i] = -1;
      continue;
    }
    bytes.set(v, at);
    starts[i] = at;
    lengths[i] = v.length;
    at += v.length;
  }
  return { partition, bytes, starts, lengths, offsets };
}

/** Calls `f` with each value of a packed batch (a view, not a copy; null for a null value) and its offset. */
export function forEachValue(b: PackedBatch, f: (value: Buffer | null, offset: number) => void): void {
  const buf = Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
  for (let i = 0; i < b.lengths.length; i++) {
    const n = b.lengths[i]!;
    f(n < 0 ? null : buf.subarray(b.starts[i]!, b.starts[i]! + n), b.offsets[i]!);
  }
}

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
 * A record as packValues() takes it: its value, or where the value lies in the bytes it was fetched in
 * (KafkaRecord.bytes): read there, no Buffer view is made per record (~30 ns and a young object each).
 */
export interface PackableRecord {
  readonly offset: number;
  readonly value: Uint8Array | null;
  readonly bytes?: Uint8Array;
  readonly valueStart?: number;
  readonly valueEnd?: number;
}

/**
 * Packs record values into one buffer that can be transferred (not copied again) to a worker. Values
 * decoded from one fetch response lie in one buffer, mostly back to back: then the span they cover is
 * copied at once, else each value on its own.
 */
export function packValues(partition: number, records: readonly PackableRecord[]): PackedBatch {
  const n = records.length;
  const offsets = new Float64Array(n);
  const starts = new Int32Array(n);
  const lengths = new Int32Array(n);
  // Every value as (buffer, byte offset in its ArrayBuffer, length); length -1: null.
  const srcs: (Uint8Array | undefined)[] = new Array(n);
  let total = 0;
  let shared: ArrayBufferLike | undefined;
  let one = true;
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = 0;
  for (let i = 0; i < n; i++) {
    const r = records[i]!;
    offsets[i] = r.offset;
    let src: Uint8Array | undefined;
    let at: number;
    let len: number;
    if (r.bytes !== undefined && r.valueEnd !== undefined) {
      if (r.valueEnd < 0) len = -1;
      else {
        src = r.bytes;
        len = r.valueEnd - r.valueStart!;
      }
      at = src === undefined ? 0 : src.byteOffset + r.valueStart!;
    } else {
      const v = r.value;
      if (v !== null) src = v;
      len = v === null ? -1 : v.length;
      at = v === null ? 0 : v.byteOffset;
    }
    srcs[i] = src;
    lengths[i] = len;
    if (src === undefined) continue;
    starts[i] = at;
    total += len;
    if (shared === undefined) shared = src.buffer;
    else if (src.buffer !== shared) one = false;
    if (at < lo) lo = at;
    if (at + len > hi) hi = at + len;
  }
  // Keys, headers and batch headers between the values are copied along; not when they dominate.
  if (shared !== undefined && one && hi - lo <= 2 * total + 65_536) {
    const bytes = new Uint8Array(hi - lo);
    bytes.set(new Uint8Array(shared, lo, hi - lo));
    for (let i = 0; i < n; i++) if (lengths[i]! >= 0) starts[i] -= lo;
    return { partition, bytes, starts, lengths, offsets };
  }
  // Not from Buffer's shared pool: the whole ArrayBuffer is ours to transfer.
  const bytes = new Uint8Array(total);
  let to = 0;
  for (let i = 0; i < n; i++) {
    const src = srcs[i];
    if (src === undefined) continue;
    const len = lengths[i]!;
    bytes.set(new Uint8Array(src.buffer, starts[i]!, len), to);
    starts[i] = to;
    to += len;
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

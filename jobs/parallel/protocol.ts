/**
 * Messages between a parallel job (jobs/job.ts) and its pipeline instances (instance.ts, one worker
 * thread each). Record values travel packed into one transferred buffer per partition batch; results as
 * structured clones (rows, or partial aggregates: fewer when keys repeat within a batch).
 */
import type { JsonDecoderOptions } from '../../connectors/formats/json.ts';
import type { FrontResult } from '../../engine/parallel/front.ts';
import type { Column, PlanNode } from '../../engine/plan/plan.ts';
import type { EncodedRecords, RecordEncoding } from '../../connectors/types.ts';
import { eachValueOf } from '../../connectors/kafka/client.ts';
import type { LocatedRecord, ValueVisitor } from '../../connectors/kafka/client.ts';

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

/** packEach() of records (tests; a job packs what its reader visits). */
export function packValues(partition: number, records: readonly LocatedRecord[]): PackedBatch {
  return packEach(partition, eachValueOf({ records }));
}

/**
 * Packs the record values `each` visits into one buffer that can be transferred (not copied again) to a
 * worker. Values read from one fetch response lie in one buffer, mostly back to back: then the span they
 * cover is copied at once, else each value on its own.
 */
export function packEach(partition: number, each: (f: ValueVisitor) => void): PackedBatch {
  let cap = 1024;
  let offsets = new Float64Array(cap);
  // Byte offsets in each value's ArrayBuffer first, then in the packed bytes; length -1: null.
  let starts = new Int32Array(cap);
  let lengths = new Int32Array(cap);
  const srcs: (Uint8Array | undefined)[] = [];
  let n = 0;
  let total = 0;
  let shared: ArrayBufferLike | undefined;
  let one = true;
  let lo = Number.MAX_SAFE_INTEGER;
  let hi = 0;
  each((bytes, start, end, offset) => {
    if (n === cap) {
      cap *= 2;
      offsets = grown(offsets, new Float64Array(cap));
      starts = grown(starts, new Int32Array(cap));
      lengths = grown(lengths, new Int32Array(cap));
    }
    offsets[n] = offset;
    if (end < 0) {
      lengths[n] = -1;
      srcs[n++] = undefined;
      return;
    }
    const at = bytes.byteOffset + start;
    const len = end - start;
    srcs[n] = bytes;
    starts[n] = at;
    lengths[n++] = len;
    total += len;
    if (shared === undefined) shared = bytes.buffer;
    else if (bytes.buffer !== shared) one = false;
    if (at < lo) lo = at;
    if (at + len > hi) hi = at + len;
  });
  // Exactly n long: the arrays' buffers are transferred whole.
  if (n < cap) {
    offsets = offsets.slice(0, n);
    starts = starts.slice(0, n);
    lengths = lengths.slice(0, n);
  }
  // Keys, headers and batch headers between the values are copied along; not when they dominate.
  if (shared !== undefined && one && hi - lo <= 2 * total + 65_536) {
    const bytes = new Uint8Array(hi - lo);
    bytes.set(new Uint8Array(shared, lo, hi - lo));
    for (let i = 0; i < n; i++) if (lengths[i]! >= 0) starts[i] -= lo;
    return { partition, bytes, starts, lengths, offsets };
  }
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

function grown<A extends Float64Array<ArrayBuffer> | Int32Array<ArrayBuffer>>(old: A, into: A): A {
  into.set(old);
  return into;
}

/** Calls `f` with where each value of a packed batch lies in it (end -1: a null value) and its offset. */
export function forEachValue(b: PackedBatch, f: (bytes: Buffer, start: number, end: number, offset: number) => void): void {
  const buf = Buffer.from(b.bytes.buffer, b.bytes.byteOffset, b.bytes.byteLength);
  const { starts, lengths, offsets } = b;
  for (let i = 0; i < lengths.length; i++) {
    const n = lengths[i]!;
    f(buf, starts[i]!, n < 0 ? -1 : starts[i]! + n, offsets[i]!);
  }
}

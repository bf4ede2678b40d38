import type { Column } from '../../engine/plan/plan.ts';
import type { ColumnPayload, ColumnWire } from './column-wire.ts';
import type { ParquetCodec } from './options.ts';

/**
 * Messages from the sink (main thread) to its encoding worker (encode-worker.ts). Every request carries
 * `seq`; the worker answers each, in order, with an EncodeReply of the same `seq`.
 */
export type EncodeRequest =
  /**
   * Start a Parquet file on `fd` (opened by the sink; the worker only writes and fsyncs it). `wires[j]`:
   * how column j's values arrive in every 'add' for this file (column-wire.ts).
   */
  | { readonly op: 'open'; readonly seq: number; readonly file: number; readonly fd: number; readonly columns: readonly Column[]; readonly wires: readonly ColumnWire[]; readonly codec: ParquetCodec; readonly rowGroupRows: number; readonly rowGroupBytes: number }
  /** Rows for file `file`, column by column in the file's wire forms; the worker encodes a row group once enough are buffered. */
  | { readonly op: 'add'; readonly seq: number; readonly file: number; readonly columns: ColumnPayload[]; readonly rows: number; readonly estBytes: number }
  /** Encode what is buffered, write the footer, fsync. */
  | { readonly op: 'finish'; readonly seq: number; readonly file: number }
  /** Forget the file (its fd is closed and its hidden file deleted by the sink). */
  | { readonly op: 'discard'; readonly seq: number; readonly file: number };

export type EncodeReply =
  /** `bytes`: what the file holds on disk so far (encoded row groups, and the footer once finished). */
  | { readonly seq: number; readonly ok: true; readonly bytes: number }
  | { readonly seq: number; readonly ok: false; readonly message: string };

import type { Column } from '../../engine/plan/plan.ts';
import type { ParquetCodec } from './options.ts';

/**
 * Messages from the sink (main thread) to its encoding worker (encode-worker.ts). Every request carries
 * `seq`; the worker answers each, in order, with an EncodeReply of the same `seq`.
 */
export type EncodeRequest =
  /** Start a Parquet file on `fd` (opened by the sink; the worker only writes and fsyncs it). */
  | { readonly op: 'open'; readonly seq: number; readonly file: number; readonly fd: number; readonly columns: readonly Column[]; readonly codec: ParquetCodec; readonly rowGroupRows: number; readonly rowGroupBytes: number }
  /** Rows for file `file`, column by column (engine values); the worker encodes a row group once enough are buffered. */
  | { readonly op: 'add'; readonly seq: number; readonly file: number; readonly columns: ColumnPayload[]; readonly rows: number; readonly estBytes: number }
  /** Encode what is buffered, write the footer, fsync. */
  | { readonly op: 'finish'; readonly seq: number; readonly file: number }
  /** Forget the file (its fd is closed and its hidden file deleted by the sink). */
  | { readonly op: 'discard'; readonly seq: number; readonly file: number };

export type EncodeReply =
  /** `bytes`: what the file holds on disk so far (encoded row groups, and the footer once finished). */
  | { readonly seq: number; readonly ok: true; readonly bytes: number }
  | { readonly seq: number; readonly ok: false; readonly message: string };

/**
 * One column of an 'add', as the engine holds its values (engine/plan/types.ts). Numeric columns travel
 * as transferred typed arrays (no copy, no per-value serialization on the job's thread); the worker
 * converts to the writer's representation (bigint, days, unscaled decimals). Others are structured-cloned.
 */
export type ColumnPayload =
  /** BOOLEAN (0/1), INT, BIGINT, DOUBLE, DECIMAL, TIMESTAMP(_LTZ) (epoch ms), DATE (epoch ms); `nulls[i]` = 1 for NULL. */
  | { readonly kind: 'numbers'; readonly values: Float64Array; readonly nulls: Uint8Array }
  | { readonly kind: 'values'; readonly values: unknown[] };

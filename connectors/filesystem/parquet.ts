import { fsyncSync, writeSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { compress as zstdCompress, init as zstdInit } from '@bokuweb/zstd-wasm';
import { snappyCompress } from '@platformatic/wasm-utils';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { ColumnSource, SchemaElement, Writer } from 'hyparquet-writer';
import type { Column } from '../../engine/plan/plan.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import type { ParquetCodec } from './options.ts';

/**
 * The Parquet encoder behind the filesystem sink, kept to this small surface so another writer can
 * replace hyparquet-writer (docs/lake.md): open a file, append columns (one row group per call), finish.
 */
export interface PartFileWriter {
  /**
   * Appends rows given column by column (values already in the writer's representation, parquetConverter;
   * a STRING column may hold UTF-8 bytes instead of strings, but not both in one file).
   */
  append(columns: readonly unknown[][], rows: number): void;
  /** Bytes written to the file so far. */
  readonly bytes: number;
  /** Writes the footer and fsyncs: after this the file is complete and durable (its owner closes the fd). */
  finish(): void;
}

export const DAY_MS = 86_400_000;

/**
 * The Parquet schema of a table's file columns. Given in full (hyparquet-writer's `schema` option):
 * inferring it from data gives neither zone-less TIMESTAMP nor LIST<UTF8> nor DECIMAL (issue 5).
 */
export function parquetSchema(columns: readonly Column[]): SchemaElement[] {
  const out: SchemaElement[] = [{ name: 'root', num_children: columns.length }];
  for (const c of columns) out.push(...elementsOf(c.name, c.type));
  return out;
}

function elementsOf(name: string, t: SqlType): SchemaElement[] {
  const opt = { name, repetition_type: 'OPTIONAL' } as const;
  switch (t.kind) {
    case 'BOOLEAN':
      return [{ ...opt, type: 'BOOLEAN' }];
    case 'INT':
      return [{ ...opt, type: 'INT32' }];
    case 'BIGINT':
      return [{ ...opt, type: 'INT64' }];
    case 'DOUBLE':
      return [{ ...opt, type: 'DOUBLE' }];
    case 'DECIMAL': {
      const dec = { ...opt, converted_type: 'DECIMAL', precision: t.precision, scale: t.scale } as const;
      if (t.precision <= 9) return [{ ...dec, type: 'INT32' }];
      if (t.precision <= 18) return [{ ...dec, type: 'INT64' }];
      return [{ ...dec, type: 'FIXED_LEN_BYTE_ARRAY', type_length: decimalBytes(t.precision) }];
    }
    case 'STRING':
      return [{ ...opt, type: 'BYTE_ARRAY', converted_type: 'UTF8' }];
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      // TIMESTAMP has no zone (a wall clock): isAdjustedToUTC=false; TIMESTAMP_LTZ is an instant: true.
      return [{ ...opt, type: 'INT64', logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: t.kind === 'TIMESTAMP_LTZ', unit: 'MILLIS' } }];
    case 'DATE':
      return [{ ...opt, type: 'INT32', converted_type: 'DATE' }];
    case 'ARRAY':
      // The standard three-level LIST; only ARRAY<STRING> passes the options check today.
      return [
        { ...opt, converted_type: 'LIST', num_children: 1 },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        ...elementsOf('element', t.element),
      ];
    case 'ROW':
    case 'INTERVAL':
    case 'NULL':
      throw new Error(`no Parquet type for ${t.kind}`);
    default: {
      const never: never = t;
      return never;
    }
  }
}

/** Bytes of a FIXED_LEN_BYTE_ARRAY holding any unscaled value of `precision` digits (two's complement). */
function decimalBytes(precision: number): number {
  return Math.ceil((precision * Math.log2(10) + 1) / 8);
}

/** A runtime value (engine/plan/types.ts) in the form the writer takes for its column. */
export function parquetConverter(t: SqlType): (v: unknown) => unknown {
  switch (t.kind) {
    case 'BIGINT':
      return (v) => (v === null || v === undefined ? null : BigInt(Math.trunc(v as number)));
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      // Integer epoch ms: the writer makes the INT64 of a TIMESTAMP column itself (one bigint per value,
      // not two), and its statistics then compare numbers.
      return (v) => (v === null || v === undefined ? null : Math.trunc(v as number));
    case 'DATE':
      return (v) => (v === null || v === undefined ? null : Math.floor((v as number) / DAY_MS));
    case 'DECIMAL':
      // Via the decimal text, not v * 10^scale, so no float rounding reaches the unscaled integer.
      return (v) => (v === null || v === undefined ? null : BigInt((v as number).toFixed(t.scale).replace('.', '')));
    case 'BOOLEAN':
    case 'INT':
    case 'DOUBLE':
    case 'STRING':
    case 'ARRAY':
    case 'ROW':
    case 'INTERVAL':
    case 'NULL':
      return (v) => (v === undefined ? null : v);
    default: {
      const never: never = t;
      return never;
    }
  }
}

/**
 * The writer keeps each column chunk's min and max until the footer. A BYTE_ARRAY bound given as UTF-8
 * bytes is a view into the buffer its whole shipment arrived in (column-wire.ts): copied, it no longer
 * holds that buffer in memory for the rest of the file.
 */
function detachStatistics(group: ParquetWriter['row_groups'][number] | undefined): void {
  for (const c of group?.columns ?? []) {
    const st = c.meta_data?.statistics as { min_value?: unknown; max_value?: unknown } | undefined;
    if (!st) continue;
    if (st.min_value instanceof Uint8Array) st.min_value = st.min_value.slice();
    if (st.max_value instanceof Uint8Array) st.max_value = st.max_value.slice();
  }
}

/** zstd level 3: zstd's own default, and parquet-mr's. */
const ZSTD_LEVEL = 3;

/** Loads the zstd WebAssembly module; must have resolved before a ZSTD file is written (encode-worker.ts awaits it). */
export const zstdReady: () => Promise<void> = zstdInit;

/**
 * SNAPPY from a WebAssembly build of Snappy (the Kafka client's own dependency): ~4x the speed of
 * hyparquet-writer's JavaScript one, which took ~15 % of the encoding thread (docs/benchmarks.md); raw
 * Snappy blocks, as Parquet has them. GZIP comes from node:zlib, ZSTD from zstd's C code built to WebAssembly.
 */
function compressorsFor(codec: ParquetCodec): Record<string, (b: Uint8Array) => Uint8Array> | undefined {
  switch (codec) {
    case 'GZIP':
      return { GZIP: (b) => gzipSync(b) };
    case 'ZSTD':
      return { ZSTD: (b) => zstdCompress(b, ZSTD_LEVEL) };
    case 'SNAPPY':
      return { SNAPPY: (b) => snappyCompress(Buffer.from(b.buffer, b.byteOffset, b.byteLength)) };
    case 'UNCOMPRESSED':
      return undefined;
    default: {
      const never: never = codec;
      return never;
    }
  }
}

/**
 * hyparquet-writer into an open file descriptor, written through as each row group is encoded. The fd is
 * opened and closed by the sink on the main thread (it outlives a crashed encoding worker there); this
 * runs inside the worker (encode-worker.ts). `plain[j]`: write column j PLAIN, without trying a
 * dictionary (for values known to be mostly distinct, where building one would only cost time).
 */
export function parquetOnFd(fd: number, columns: readonly Column[], codec: ParquetCodec, plain: readonly boolean[] = []): PartFileWriter {
  const bw = new ByteWriter();
  const drain = (): void => {
    let off = 0;
    const bytes = new Uint8Array(bw.buffer, 0, bw.index);
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    bw.index = 0;
  };
  // Written through after every row group (ParquetWriter calls flush), so memory stays one row group.
  (bw as Writer).flush = drain;
  bw.finish = drain;
  const pq = new ParquetWriter({
    writer: bw,
    schema: parquetSchema(columns),
    codec,
    compressors: compressorsFor(codec),
    createdBy: 'weir (hyparquet-writer 0.17)',
  });
  const names = columns.map((c) => c.name);
  return {
    append(cols, rows) {
      if (rows === 0) return;
      const columnData: ColumnSource[] = names.map((name, i) => ({ name, data: cols[i] as ColumnSource['data'], ...(plain[i] ? { encoding: 'PLAIN' } : {}) }));
      // One row group per append: the caller batches rows so row groups are large.
      void pq.write({ columnData, rowGroupSize: rows });
      detachStatistics(pq.row_groups.at(-1));
      drain();
    },
    get bytes() {
      return bw.offset;
    },
    finish() {
      void pq.finish();
      drain();
      fsyncSync(fd);
    },
  };
}

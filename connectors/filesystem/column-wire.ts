import type { SqlType } from '../../engine/plan/types.ts';

/**
 * How one file column travels from the sink (job's thread) to its encoding worker: chosen per part file
 * when the file opens, so every row group of a file is built from one form (hyparquet-writer's
 * statistics must not compare strings with bytes).
 *
 * - `numbers`: BOOLEAN (0/1), INT, BIGINT, DOUBLE, DECIMAL, TIMESTAMP(_LTZ), DATE (epoch ms) as a
 *   transferred Float64Array; the worker converts to the writer's representation (bigint, days, ...).
 * - `dict`: STRING of few distinct values (a place, a type) as the distinct strings plus Int32 codes:
 *   the worker gets each distinct string once, and the writer's dictionary then sees repeated string
 *   objects instead of one fresh string per row.
 * - `utf8`: STRING of many distinct values (a post's text) UTF-8 encoded here, natively and in bulk, into
 *   one transferred buffer: the worker neither allocates a string per row nor encodes each one to UTF-8
 *   (the writer's cost for text), and the column is written PLAIN, as a dictionary would not pay.
 * - `values`: anything else (ARRAY), structured-cloned as engine values.
 */
export type ColumnWire = 'numbers' | 'dict' | 'utf8' | 'values';

export type ColumnPayload =
  /** `nulls[i]` = 1 for NULL. */
  | { readonly kind: 'numbers'; readonly values: Float64Array; readonly nulls: Uint8Array }
  /** `codes[i]`: index into `dict`, or -1 for NULL. */
  | { readonly kind: 'dict'; readonly dict: string[]; readonly codes: Int32Array }
  /** Value i is `bytes[ends[i-1] .. ends[i])` (from 0 for i = 0); `nulls[i]` = 1 for NULL. */
  | { readonly kind: 'utf8'; readonly bytes: Uint8Array; readonly ends: Uint32Array; readonly nulls: Uint8Array }
  | { readonly kind: 'values'; readonly values: unknown[] };

/** Values looked at to choose between `dict` and `utf8` for a new part file. */
const SAMPLE = 1024;
/** Fewer sampled values than this say too little about a column: `dict` (always correct, cheap when small). */
const MIN_SAMPLE = 64;

/** The wire form of a column of type `t` for a part file whose first rows are `first` (engine values). */
export function wireFor(t: SqlType, first: readonly unknown[]): ColumnWire {
  switch (t.kind) {
    case 'BOOLEAN':
    case 'INT':
    case 'BIGINT':
    case 'DOUBLE':
    case 'DECIMAL':
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
    case 'DATE':
      return 'numbers';
    case 'STRING':
      return mostlyDistinct(first) ? 'utf8' : 'dict';
    case 'ARRAY':
    case 'ROW':
    case 'INTERVAL':
    case 'NULL':
      return 'values';
    default: {
      const never: never = t;
      return never;
    }
  }
}

/**
 * Whether more than half of the sampled non-NULL values are distinct: then a dictionary plus its
 * indexes cannot halve the plain size, which is when hyparquet-writer would reject it anyway (after
 * building it in full).
 */
function mostlyDistinct(values: readonly unknown[]): boolean {
  const seen = new Set<unknown>();
  let n = 0;
  const step = Math.max(1, Math.floor(values.length / SAMPLE));
  for (let i = 0; i < values.length && n < SAMPLE; i += step) {
    const v = values[i];
    if (v === null || v === undefined) continue;
    n++;
    seen.add(v);
  }
  return n >= MIN_SAMPLE && seen.size * 2 > n;
}

/** Packs a column's engine values (null for NULL) in its wire form; buffers to transfer are added to `transfer`. */
export function packColumn(values: readonly unknown[], wire: ColumnWire, transfer: ArrayBuffer[]): ColumnPayload {
  const n = values.length;
  switch (wire) {
    case 'numbers': {
      const nums = new Float64Array(n);
      const nulls = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) nulls[i] = 1;
        else nums[i] = typeof v === 'boolean' ? (v ? 1 : 0) : (v as number);
      }
      transfer.push(nums.buffer, nulls.buffer);
      return { kind: 'numbers', values: nums, nulls };
    }
    case 'dict': {
      const index = new Map<string, number>();
      const dict: string[] = [];
      const codes = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const v = values[i] as string | null;
        if (v === null || v === undefined) {
          codes[i] = -1;
          continue;
        }
        let c = index.get(v);
        if (c === undefined) {
          c = dict.length;
          dict.push(v);
          index.set(v, c);
        }
        codes[i] = c;
      }
      transfer.push(codes.buffer);
      return { kind: 'dict', dict, codes };
    }
    case 'utf8': {
      // A UTF-16 code unit takes at most 3 bytes of UTF-8 (a surrogate pair: 4 for 2 units).
      let room = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (typeof v === 'string') room += v.length * 3;
      }
      // Own ArrayBuffers (never Buffer's shared pool): they are transferred, which detaches them.
      const bytes = Buffer.from(new ArrayBuffer(room));
      const ends = new Uint32Array(n);
      const nulls = new Uint8Array(n);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const v = values[i];
        if (v === null || v === undefined) nulls[i] = 1;
        else at += bytes.write(v as string, at, 'utf8');
        ends[i] = at;
      }
      const body = new Uint8Array(bytes.buffer, 0, at);
      transfer.push(bytes.buffer as ArrayBuffer, ends.buffer, nulls.buffer);
      return { kind: 'utf8', bytes: body, ends, nulls };
    }
    case 'values':
      // Structured-cloned by postMessage: the caller hands over a fresh array for the next rows.
      return { kind: 'values', values: values as unknown[] };
    default: {
      const never: never = wire;
      return never;
    }
  }
}

/**
 * Writes a payload's `rows` values into `into` from index `at`, in the form the writer takes: numbers
 * through `conv` (the column's converter), dictionary codes as their strings, UTF-8 as views of the
 * transferred buffer.
 */
export function unpackColumn(p: ColumnPayload, rows: number, conv: (v: unknown) => unknown, into: unknown[], at: number): void {
  switch (p.kind) {
    case 'numbers':
      for (let i = 0; i < rows; i++) into[at + i] = p.nulls[i] ? null : conv(p.values[i]);
      return;
    case 'dict':
      for (let i = 0; i < rows; i++) {
        const c = p.codes[i]!;
        into[at + i] = c < 0 ? null : p.dict[c];
      }
      return;
    case 'utf8': {
      let start = 0;
      for (let i = 0; i < rows; i++) {
        const end = p.ends[i]!;
        into[at + i] = p.nulls[i] ? null : p.bytes.subarray(start, end);
        start = end;
      }
      return;
    }
    case 'values':
      for (let i = 0; i < rows; i++) into[at + i] = conv(p.values[i]);
      return;
    default: {
      const never: never = p;
      return never;
    }
  }
}

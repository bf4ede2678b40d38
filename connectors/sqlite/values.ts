import { formatDate, formatTimestamp } from '../../engine/expr/index.ts';
import type { SqlType } from '../../engine/plan/types.ts';

/** A value as SQLite stores it. */
export type StoredValue = number | string | null;

/**
 * The SQLite column type of a Weir type (issue 4): chosen so that SQL over the view behaves. TIMESTAMP is
 * TEXT 'yyyy-MM-dd HH:mm:ss.SSS' (sorts and compares as time), DECIMAL is TEXT (REAL would round it;
 * a declared NUMERIC would let SQLite turn '1.50' into 1.5), BOOLEAN is 0/1.
 */
export function sqliteType(t: SqlType): 'INTEGER' | 'REAL' | 'TEXT' {
  switch (t.kind) {
    case 'BOOLEAN':
    case 'INT':
    case 'BIGINT':
    case 'INTERVAL':
      return 'INTEGER';
    case 'DOUBLE':
      return 'REAL';
    case 'DECIMAL':
    case 'STRING':
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
    case 'DATE':
    case 'ARRAY':
    case 'ROW':
    case 'NULL':
      return 'TEXT';
    default: {
      const never: never = t;
      return never;
    }
  }
}

/**
 * formatTimestamp with the last two answers kept: a window's rows all carry the same window_start and
 * window_end, one after the other in each row (a checkpoint of 100,000 windowed rows formatted them 200,000
 * times, ~30 ms, and kept 200,000 strings alive until the commit; one answer kept missed every time).
 */
let lastMs = Number.NaN;
let lastText = '';
let olderMs = Number.NaN;
let olderText = '';
function timestampText(ms: number): string {
  if (ms === lastMs) return lastText;
  if (ms === olderMs) {
    // Swapped, so that the next miss replaces the one used longer ago.
    olderMs = lastMs;
    const t = olderText;
    olderText = lastText;
    lastMs = ms;
    lastText = t;
    return t;
  }
  olderMs = lastMs;
  olderText = lastText;
  lastMs = ms;
  lastText = formatTimestamp(ms);
  return lastText;
}

/** Encodes one runtime value (engine/plan/types.ts) for its column. */
export function encodeValue(v: unknown, t: SqlType): StoredValue {
  if (v === null || v === undefined) return null;
  switch (t.kind) {
    case 'BOOLEAN':
      return v ? 1 : 0;
    case 'INT':
    case 'BIGINT':
    case 'INTERVAL':
    case 'DOUBLE':
      return v as number;
    case 'DECIMAL':
      return (v as number).toFixed(t.scale);
    case 'STRING':
      return v as string;
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      // TIMESTAMP_LTZ is an instant: stored as its UTC wall clock, like TIMESTAMP.
      return timestampText(v as number);
    case 'DATE':
      return formatDate(v as number);
    case 'ARRAY':
    case 'ROW':
      return JSON.stringify(v);
    case 'NULL':
      return null;
    default: {
      const never: never = t;
      return never;
    }
  }
}

/**
 * A stored value as REST answers show it (DESIGN §2): BOOLEAN true/false again; everything else as stored
 * (timestamps already are the JSON text form, DECIMAL stays a string so no digit is lost).
 */
export function decodeValue(v: unknown, typeName: string): unknown {
  if (v === null || v === undefined) return null;
  if (typeName === 'BOOLEAN') return v === 1 || v === 1n;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : v.toString();
  return v;
}

/** An SQLite identifier, quoted. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

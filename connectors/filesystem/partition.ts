import { formatDate, formatTimestamp } from '../../engine/expr/index.ts';
import type { SqlType } from '../../engine/plan/types.ts';

/** Hive's name for the partition of NULL (and empty) values; every lake engine reads it back as NULL. */
export const DEFAULT_PARTITION = '__HIVE_DEFAULT_PARTITION__';

/**
 * The characters Hive's FileUtils.escapePathName escapes, as %XX of their code: with '/' among them a
 * value can never add a directory level, and since every level is `column=value`, no value can be
 * '.' or '..' on its own, so nothing a value holds leaves the table's path.
 */
function mustEscape(code: number): boolean {
  return code < 0x20 || code === 0x7f || '"#%\'*/:=?\\{}[]^'.includes(String.fromCharCode(code));
}

/** Hive-style escaping of one path segment (also used for column names). */
export function escapePathName(s: string): string {
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    out += code < 0x80 && mustEscape(code) ? `%${code.toString(16).toUpperCase().padStart(2, '0')}` : ch;
  }
  return out;
}

/** A partition value as its directory shows it (Flink's and Hive's text forms). */
export function partitionText(v: unknown, t: SqlType): string {
  if (v === null || v === undefined) return DEFAULT_PARTITION;
  let s: string;
  switch (t.kind) {
    case 'DATE':
      s = formatDate(v as number);
      break;
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
      s = formatTimestamp(v as number);
      break;
    case 'DECIMAL':
      s = (v as number).toFixed(t.scale);
      break;
    case 'BOOLEAN':
    case 'INT':
    case 'BIGINT':
    case 'DOUBLE':
    case 'STRING':
    case 'INTERVAL':
      s = String(v);
      break;
    case 'ARRAY':
    case 'ROW':
    case 'NULL':
      // Refused by the options check; kept total so a new type breaks the build here.
      s = JSON.stringify(v);
      break;
    default: {
      const never: never = t;
      return never;
    }
  }
  return s === '' ? DEFAULT_PARTITION : escapePathName(s);
}

/** The relative directory of a row's partition: `dt=2026-11-25/hr=10` ('' when the table is unpartitioned). */
export function partitionDir(names: readonly string[], values: readonly string[]): string {
  return names.map((n, i) => `${escapePathName(n)}=${values[i]}`).join('/');
}

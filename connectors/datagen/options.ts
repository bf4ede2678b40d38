import { parseTimestamp } from '../formats/timestamp.ts';
import { OptionError } from '../types.ts';

/** The generators the datagen connector knows ('kind'); 'connector' = 'weibo' is datagen with kind weibo. */
export type DatagenKind = 'weibo';

export interface DatagenOptions {
  readonly kind: DatagenKind;
  /** Rows per second over all partitions; undefined: as fast as the job reads. */
  readonly rowsPerSecond: number | undefined;
  /** Total rows over all partitions: a bounded source. */
  readonly numberOfRows: number | undefined;
  readonly seed: number;
  readonly partitions: number;
  /** Event time of row 0 (epoch ms); undefined: live (now, kept steady across restarts). */
  readonly startTime: number | undefined;
  /** Event-time spacing between consecutive rows (ms). */
  readonly stepMs: number;
  readonly badRate: number;
  readonly users: number;
}

const KNOWN = new Set(['connector', 'kind', 'rows-per-second', 'number-of-rows', 'seed', 'partitions', 'start-time', 'bad-rate', 'users', 'format']);

/** Checks a datagen table's options once, at CREATE TABLE (DESIGN: typed config checked at the boundary). */
export function parseDatagenOptions(o: Readonly<Record<string, string>>): DatagenOptions {
  const connector = (o['connector'] ?? '').toLowerCase();
  for (const k of Object.keys(o)) {
    if (!KNOWN.has(k)) throw new OptionError(k, `Unknown option '${k}' for the ${connector} connector (known: ${[...KNOWN].filter((x) => x !== 'connector').join(', ')})`);
  }
  const kind = (connector === 'weibo' ? 'weibo' : o['kind']?.toLowerCase()) as DatagenKind | undefined;
  if (connector === 'weibo' && o['kind'] !== undefined && o['kind'].toLowerCase() !== 'weibo') throw new OptionError('kind', "The 'weibo' connector generates weibo events; drop 'kind' or use 'connector' = 'datagen'");
  if (kind !== 'weibo') throw new OptionError('kind', o['kind'] === undefined ? "'kind' is required for 'connector' = 'datagen' (known: weibo)" : `Unknown datagen kind '${o['kind']}' (known: weibo)`);
  const num = (key: string, min: number, integer: boolean): number | undefined => {
    const v = o[key];
    if (v === undefined) return undefined;
    const n = Number(v.trim());
    if (v.trim() === '' || !Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
      throw new OptionError(key, `'${key}' must be ${integer ? 'an integer' : 'a number'} >= ${min}, not '${v}'`);
    }
    return n;
  };
  const rowsPerSecond = num('rows-per-second', Number.MIN_VALUE, false);
  const numberOfRows = num('number-of-rows', 0, true);
  let startTime: number | undefined;
  if (o['start-time'] !== undefined) {
    startTime = parseTimestamp(o['start-time']);
    if (Number.isNaN(startTime)) throw new OptionError('start-time', `'start-time' must be a timestamp like '2026-11-25 08:00:00', not '${o['start-time']}'`);
  }
  const badRate = num('bad-rate', 0, false) ?? 0;
  if (badRate > 1) throw new OptionError('bad-rate', "'bad-rate' is a share between 0 and 1");
  return {
    kind,
    rowsPerSecond,
    numberOfRows,
    seed: num('seed', 0, true) ?? 42,
    partitions: num('partitions', 1, true) ?? 1,
    // A bounded run without a rate starts on a fixed day, as `weir gen weibo --count N` does, so its output is reproducible.
    startTime: startTime ?? (numberOfRows !== undefined && rowsPerSecond === undefined ? Date.UTC(2026, 10, 25, 8, 0, 0) : undefined),
    stepMs: rowsPerSecond !== undefined ? 1000 / rowsPerSecond : 10,
    badRate,
    users: num('users', 1, true) ?? 5000,
  };
}

import { parseDuration as parseDurationText } from '../../engine/time/duration.ts';
import type { Column } from '../../engine/plan/plan.ts';
import { typeToString } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import { OptionError } from '../types.ts';
import { unknownPatternNames } from './commit.ts';
import type { CommitTrigger, PartitionCommitOptions } from './commit.ts';

export type ParquetCodec = 'SNAPPY' | 'GZIP' | 'ZSTD' | 'UNCOMPRESSED';

/** The filesystem connector's options, checked once (Flink's names and defaults). */
export interface FileSystemOptions {
  readonly path: string;
  readonly format: 'parquet';
  /** sink.rolling-policy.file-size: a part file rolls once it reaches this many bytes. */
  readonly fileSize: number;
  /** sink.rolling-policy.rollover-interval: a part file rolls once it has been open this long (ms). */
  readonly rolloverIntervalMs: number;
  /** sink.rolling-policy.check-interval: how often open files are checked against the interval (ms). */
  readonly checkIntervalMs: number;
  readonly codec: ParquetCodec;
  /**
   * sink.parallelism: Parquet encoding threads, each writing its own part file per partition (Flink's
   * parallel writers do the same); default 1.
   */
  readonly parallelism: number;
  /** Partition commit; undefined without 'sink.partition-commit.policy.kind' (Flink has no default policy). */
  readonly partitionCommit: PartitionCommitOptions | undefined;
}

const KNOWN = new Set([
  'connector',
  'path',
  'format',
  'sink.rolling-policy.file-size',
  'sink.rolling-policy.rollover-interval',
  'sink.rolling-policy.check-interval',
  'parquet.compression',
  'sink.parallelism',
  'sink.partition-commit.trigger',
  'sink.partition-commit.delay',
  'sink.partition-commit.policy.kind',
  'sink.partition-commit.success-file.name',
  'partition.time-extractor.timestamp-pattern',
]);

/** Options of Flink's filesystem connector that Weir does not implement yet: refused by name, never ignored. */
const NOT_YET = new Set([
  'sink.partition-commit.policy.class',
  'sink.partition-commit.watermark-time-zone',
  'partition.time-extractor.kind',
  'partition.time-extractor.class',
  'partition.time-extractor.timestamp-formatter',
  'sink.rolling-policy.inactivity-interval',
  'auto-compaction',
]);

export function parseFileSystemOptions(options: Readonly<Record<string, string>>, columns: readonly Column[], partitionedBy: readonly string[]): FileSystemOptions {
  for (const k of Object.keys(options)) {
    if (NOT_YET.has(k)) throw new OptionError(k, `'${k}' is not supported yet by the filesystem connector`);
    if (!KNOWN.has(k)) throw new OptionError(k, `Unknown option '${k}' for the filesystem connector`);
  }
  const path = options['path'];
  if (!path) throw new OptionError('path', "The filesystem connector needs 'path' (the table's root directory)");
  const format = options['format'];
  if (format !== 'parquet') throw new OptionError('format', `The filesystem connector supports 'format' = 'parquet'${format ? `, not '${format}'` : ' (missing)'}`);
  const fileSize = parseSize(options['sink.rolling-policy.file-size'] ?? '128MB', 'sink.rolling-policy.file-size');
  const rolloverIntervalMs = parseDuration(options['sink.rolling-policy.rollover-interval'] ?? '30 min', 'sink.rolling-policy.rollover-interval');
  const checkIntervalMs = parseDuration(options['sink.rolling-policy.check-interval'] ?? '1 min', 'sink.rolling-policy.check-interval');
  const codec = parseCodec(options['parquet.compression'] ?? 'SNAPPY');
  const parallelism = parseParallelism(options['sink.parallelism'] ?? '1');
  for (const p of partitionedBy) {
    const col = columns.find((c) => c.name === p);
    if (!col) throw new OptionError(undefined, `PARTITIONED BY '${p}': no such physical column`);
    if (!partitionable(col.type)) throw new OptionError(undefined, `PARTITIONED BY '${p}': a partition column must be a scalar type, not ${typeToString(col.type)}`);
  }
  if (partitionedBy.length === columns.length) throw new OptionError(undefined, 'A filesystem table needs at least one column that is not a partition column');
  for (const c of columns) {
    if (partitionedBy.includes(c.name)) continue;
    const why = unsupportedType(c.type);
    if (why) throw new OptionError(undefined, `Column '${c.name}': ${why}`);
  }
  const partitionCommit = parsePartitionCommit(options, partitionedBy);
  return { path, format, fileSize, rolloverIntervalMs, checkIntervalMs, codec, parallelism, partitionCommit };
}

function parsePartitionCommit(options: Readonly<Record<string, string>>, partitionedBy: readonly string[]): PartitionCommitOptions | undefined {
  const kind = options['sink.partition-commit.policy.kind'];
  if (kind === undefined) {
    for (const k of ['sink.partition-commit.trigger', 'sink.partition-commit.delay', 'sink.partition-commit.success-file.name', 'partition.time-extractor.timestamp-pattern']) {
      if (options[k] !== undefined) throw new OptionError(k, `'${k}' needs 'sink.partition-commit.policy.kind' = 'success-file' (without a policy no partition is ever committed)`);
    }
    return undefined;
  }
  for (const policy of kind.split(',').map((x) => x.trim().toLowerCase())) {
    if (policy === 'success-file') continue;
    if (policy === 'metastore') throw new OptionError('sink.partition-commit.policy.kind', "'sink.partition-commit.policy.kind' = 'metastore' needs a Hive metastore, which Weir does not have; use 'success-file'");
    throw new OptionError('sink.partition-commit.policy.kind', `'sink.partition-commit.policy.kind' must be 'success-file', not '${policy}'`);
  }
  if (partitionedBy.length === 0) throw new OptionError('sink.partition-commit.policy.kind', 'Partition commit needs a partitioned table (PARTITIONED BY)');
  const trigger = (options['sink.partition-commit.trigger'] ?? 'process-time').toLowerCase();
  if (trigger !== 'process-time' && trigger !== 'partition-time') {
    throw new OptionError('sink.partition-commit.trigger', `'sink.partition-commit.trigger' must be 'process-time' or 'partition-time', not '${trigger}'`);
  }
  const delayText = options['sink.partition-commit.delay'] ?? '0 s';
  const delayMs = parseDurationText(delayText);
  if (delayMs === undefined || delayMs < 0) throw new OptionError('sink.partition-commit.delay', `'sink.partition-commit.delay' must be a duration like '1 h', not '${delayText}'`);
  const pattern = options['partition.time-extractor.timestamp-pattern'];
  if (pattern !== undefined) {
    const unknown = unknownPatternNames(pattern, partitionedBy);
    if (unknown.length > 0) throw new OptionError('partition.time-extractor.timestamp-pattern', `'partition.time-extractor.timestamp-pattern' names $${unknown[0]}, which is no partition column (${partitionedBy.join(', ')})`);
  }
  const successFileName = options['sink.partition-commit.success-file.name'] ?? '_SUCCESS';
  if (!successFileName || /[/\\]/.test(successFileName) || successFileName === '.' || successFileName === '..') {
    throw new OptionError('sink.partition-commit.success-file.name', `'sink.partition-commit.success-file.name' must be a file name, not '${successFileName}'`);
  }
  return { trigger: trigger as CommitTrigger, delayMs, pattern, successFileName };
}

function partitionable(t: SqlType): boolean {
  return t.kind !== 'ARRAY' && t.kind !== 'ROW' && t.kind !== 'NULL' && t.kind !== 'INTERVAL';
}

/** Why a column type cannot be written to Parquet yet; undefined when it can. */
function unsupportedType(t: SqlType): string | undefined {
  switch (t.kind) {
    case 'BOOLEAN':
    case 'INT':
    case 'BIGINT':
    case 'DOUBLE':
    case 'DECIMAL':
    case 'STRING':
    case 'TIMESTAMP':
    case 'TIMESTAMP_LTZ':
    case 'DATE':
      return undefined;
    case 'ARRAY':
      return t.element.kind === 'STRING' ? undefined : `${typeToString(t)} cannot be written to Parquet yet (ARRAY<STRING> can)`;
    case 'ROW':
    case 'INTERVAL':
    case 'NULL':
      return `${typeToString(t)} cannot be written to Parquet yet`;
    default: {
      const never: never = t;
      return never;
    }
  }
}

function parseCodec(v: string): ParquetCodec {
  switch (v.toUpperCase()) {
    case 'SNAPPY':
      return 'SNAPPY';
    case 'GZIP':
      return 'GZIP';
    case 'NONE':
    case 'UNCOMPRESSED':
      return 'UNCOMPRESSED';
    case 'ZSTD':
      return 'ZSTD';
    default:
      throw new OptionError('parquet.compression', `'parquet.compression' must be SNAPPY, GZIP, ZSTD or NONE, not '${v}'`);
  }
}

/** Encoding threads beyond this would only queue for the same few cores. */
const MAX_PARALLELISM = 16;

function parseParallelism(v: string): number {
  const n = /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!(n >= 1 && n <= MAX_PARALLELISM)) throw new OptionError('sink.parallelism', `'sink.parallelism' must be a whole number from 1 to ${MAX_PARALLELISM}, not '${v}'`);
  return n;
}

const SIZE_UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, m: 1024 ** 2, mb: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3 };

/** Flink's MemorySize syntax: '128MB', '64 kb', '1048576'. */
export function parseSize(v: string, option: string): number {
  const m = /^\s*(\d+)\s*([a-zA-Z]*)\s*$/.exec(v);
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined || Number(m[1]) <= 0) throw new OptionError(option, `'${option}' must be a size like '128MB', not '${v}'`);
  return Number(m[1]) * unit;
}


/** Flink's Duration syntax: '30 min', '10 s', '500 ms', '1 h' (a bare number is milliseconds). */
export function parseDuration(v: string, option: string): number {
  const ms = parseDurationText(v);
  if (ms === undefined || !(ms > 0)) throw new OptionError(option, `'${option}' must be a duration like '30 min', not '${v}'`);
  return ms;
}

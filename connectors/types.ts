import type { Change } from '../engine/ops/changelog.ts';
import type { Column } from '../engine/plan/plan.ts';
import type { JsonEncoderOptions } from './formats/json.ts';

export type Row = unknown[];

/** A record the bad-record policy skipped (DESIGN §2): counted, kept in the job's status, dead-lettered if asked. */
export interface BadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly error: string;
  readonly value: Buffer | null;
}

export interface SourceBatch {
  readonly partition: number;
  /** Decoded physical rows in offset order. */
  readonly rows: Row[];
  /** Offset after the last record of this batch. */
  readonly nextOffset: number;
  readonly bad: readonly BadRecord[];
}

export interface SourceSpec {
  readonly table: string;
  readonly options: Readonly<Record<string, string>>;
  /** The physical columns the payload decodes into. */
  readonly columns: readonly Column[];
  /** Default brokers of the server (overridden by 'properties.bootstrap.servers'). */
  readonly brokers: string;
  /** Name for monitoring (consumer group offsets); the job's name. */
  readonly jobName: string;
  /**
   * The job's id, stable across restarts: a source that dead-letters bad records tags them with it, so
   * that a restarted job recognises (and does not send again) those it sent before its last checkpoint.
   */
  readonly jobId?: string;
  /** Resume positions from a saved checkpoint (next offset per partition), overriding the startup mode. */
  readonly startOffsets?: Readonly<Record<number, number>>;
  /** What state() returned when the checkpoint the job resumes from was taken (undefined: none). */
  readonly startState?: unknown;
  /** End offsets saved by an earlier run of a bounded job, so a restarted job ends at the same place. */
  readonly endOffsets?: Readonly<Record<number, number>>;
  readonly timeZone: string;
  /** Projection pushdown: which of `columns` the query reads (others may be decoded as NULL). */
  readonly projection?: readonly boolean[];
}

export interface PartitionProgress {
  readonly partition: number;
  /** Next offset to read. */
  readonly offset: number;
  /** Latest offset known on the broker (high watermark). */
  readonly highWatermark: number;
}

/** A source reads splits (Kafka partitions) by assignment and tracks its own positions. */
export interface Source {
  readonly topic: string;
  readonly partitions: readonly number[];
  poll(maxWaitMs: number): Promise<SourceBatch[]>;
  /** Next offset per partition: what a checkpoint saves. */
  positions(): Record<number, number>;
  /**
   * Whatever else the source must get back after a restore, as JSON-able data, saved with the offsets in
   * every checkpoint and handed back as SourceSpec.startState (e.g. the keys an HTTP source de-duplicates
   * by). Optional: most sources are their offsets.
   */
  state?(): unknown;
  /** End offsets of a bounded source; undefined when unbounded. */
  endOffsets(): Record<number, number> | undefined;
  /** Partitions a bounded source has read to their end (they stop holding the watermark back). */
  finishedPartitions?(): readonly number[];
  /** Whether a bounded source has read every partition to its end offset. */
  finished(): boolean;
  progress(): PartitionProgress[];
  /** Monitoring only: publish positions to the consumer group (DESIGN §3). */
  commitForMonitoring(): Promise<void>;
  close(): Promise<void>;
}

export interface SinkSpec {
  readonly table: string;
  readonly options: Readonly<Record<string, string>>;
  readonly columns: readonly Column[];
  readonly brokers: string;
  /** The job's id: stable across restarts, unique among jobs (transactional ids, commit markers). */
  readonly jobId: string;
  readonly jobName: string;
  readonly timeZone: string;
  /** How often the job checkpoints (ms): a transactional sink's transactions must outlive it. */
  readonly checkpointIntervalMs: number;
  /** The table's PRIMARY KEY columns (an upsert sink keys its records by them). */
  readonly primaryKey?: readonly string[];
  /** The table's PARTITIONED BY columns (a filesystem sink writes them as directories). */
  readonly partitionedBy?: readonly string[];
}

/**
 * How a sink turns a row into the bytes of a record, as plain data: a parallel pipeline instance (a worker
 * thread, jobs/parallel) builds the same encoder from it and hands the sink encoded records
 * (writeEncoded) instead of rows, so the job's thread neither receives the rows nor encodes them.
 */
export interface RecordEncoding {
  readonly format: 'json';
  readonly columns: readonly Column[];
  readonly options: JsonEncoderOptions;
  /** The key's fields by column index ('key.fields'); empty: no key. */
  readonly keyFields: readonly number[];
}

/** Records encoded by a RecordEncoding, packed into one buffer: record i's key and value are `bytes[start, start + length)` (length -1: null). */
export interface EncodedRecords {
  readonly count: number;
  readonly bytes: Uint8Array<ArrayBuffer>;
  readonly keyStarts: Int32Array<ArrayBuffer>;
  readonly keyLengths: Int32Array<ArrayBuffer>;
  readonly valueStarts: Int32Array<ArrayBuffer>;
  readonly valueLengths: Int32Array<ArrayBuffer>;
}

export interface Sink {
  /** Buffers rows; nothing is sent until flush. */
  write(rows: Row[]): void;
  /** Whether and how a parallel instance may encode this sink's records (then the job calls writeEncoded). */
  recordEncoding?(): RecordEncoding | undefined;
  /** Buffers records a parallel instance encoded with recordEncoding(), as write() buffers rows. */
  writeEncoded?(records: EncodedRecords): void;
  /**
   * Updating plans only (connectors whose appendOnlySink is false): buffers a changelog, in order, with
   * the same flush/commit contract as write(). An upsert sink keys the rows by its primary key.
   */
  writeChanges?(changes: readonly Change[]): void;
  /**
   * Sends everything buffered; resolves once the external system has acknowledged it. A sink with a
   * committer sends into its open transaction: acknowledged, but not visible before commit().
   */
  flush(): Promise<void>;
  /** The job's event-time watermark after the operators (optional: a view records it as its freshness). */
  watermark?(wm: number): void;
  /** Present when the sink commits with checkpoints (exactly-once); absent sinks are at-least-once. */
  readonly committer?: SinkCommitter;
  close(): Promise<void>;
}

/**
 * The sink's half of the checkpoint's two-phase commit (docs/checkpoints.md). The job calls, per
 * checkpoint: flush(); prepare(id); records the checkpoint PENDING; commit(id); marks it COMPLETED.
 * A sink must be able to tell after a crash whether commit(id) took effect (recover), because the
 * process can die between the external commit and marking the checkpoint COMPLETED.
 */
export interface SinkCommitter {
  /**
   * Called once after the sink opened and before anything is written: settles what an earlier run left
   * behind (an open transaction is aborted, or finished if its commit had begun) and answers whether the
   * checkpoint `pending` (the newest one recorded PENDING, if any) was committed.
   */
  recover(pending: number | undefined): Promise<boolean>;
  /**
   * Phase one: everything written since the last commit is durable in the external system but not yet
   * visible, together with what recover() needs to recognise checkpoint `checkpointId` later.
   */
  prepare(checkpointId: number): Promise<void>;
  /** Phase two, once the checkpoint is durably PENDING: makes the prepared output visible. */
  commit(checkpointId: number): Promise<void>;
  /** Drops everything written since the last commit (best effort: recover() on restart settles it anyway). */
  abort(): Promise<void>;
}

/** One connector: validates its options once at the boundary, then creates sources and sinks. */
export interface Connector {
  readonly name: string;
  /** Throws an OptionError naming the bad option. */
  validate(
    options: Readonly<Record<string, string>>,
    role: 'table' | 'source' | 'sink',
    columns: readonly Column[],
    partitionedBy?: readonly string[],
    /** The table's PRIMARY KEY ... NOT ENFORCED columns, when it declares one. */
    primaryKey?: readonly string[],
  ): void;
  createSource?(spec: SourceSpec): Promise<Source>;
  createSink?(spec: SinkSpec): Promise<Sink>;
  /** Whether the sink takes only inserts (kafka, filesystem) or also updates (upsert sinks). */
  readonly appendOnlySink: boolean;
}

/** A bad connector option; the platform turns it into a SqlError at the option's position. */
export class OptionError extends Error {
  constructor(
    readonly option: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'OptionError';
  }
}

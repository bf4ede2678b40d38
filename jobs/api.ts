import type { SqlError } from '../engine/sql/errors.ts';

/** The surface server/ and bin/ use; implemented by jobs/platform.ts. */

export type JobState = 'CREATED' | 'RUNNING' | 'RESTARTING' | 'FINISHED' | 'FAILED' | 'STOPPED';

export interface ResultColumn {
  readonly name: string;
  readonly type: string;
}

export interface StatementResult {
  readonly statement: number;
  readonly kind: 'ok' | 'job' | 'rows';
  readonly message?: string;
  readonly jobId?: string;
  readonly columns?: readonly ResultColumn[];
  readonly rows?: readonly (readonly unknown[])[];
}

export interface PartitionMetrics {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly endOffset: number;
  readonly lag: number;
  readonly watermark: string | null;
}

export interface JobMetrics {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsLate: number;
  readonly recordsBad: number;
  readonly recordsInPerSecond: number;
  readonly recordsOutPerSecond: number;
  /** Event-time watermark of the job (min over partitions), as 'yyyy-MM-dd HH:mm:ss.SSS', or null. */
  readonly watermark: string | null;
  readonly lastBadRecordError: string | null;
  readonly partitions: readonly PartitionMetrics[];
  /** Processing latency of recent batches (from fetched to acknowledged by the sink), in ms. */
  readonly batchLatencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number } | null;
}

export interface JobInfo {
  readonly id: string;
  readonly name: string;
  readonly sql: string;
  readonly state: JobState;
  readonly createdAt: string;
  readonly error?: string;
  readonly metrics: JobMetrics;
  /** EXPLAIN output of the job's plan: text and JSON. */
  readonly plan?: { readonly text: string; readonly json: unknown };
}

export interface TableInfo {
  readonly name: string;
  readonly kind: 'table' | 'view';
  readonly columns: readonly { readonly name: string; readonly type: string; readonly expr?: string }[];
  readonly watermark?: { readonly column: string; readonly expr: string };
  readonly options: Readonly<Record<string, string>>;
  readonly sql: string;
  /** Set when a view no longer plans (a table under it was dropped or changed). */
  readonly error?: string;
}

export interface Health {
  readonly ok: boolean;
  readonly broker: { readonly reachable: boolean; readonly brokers: string; readonly error?: string };
}

/** Raised by execute(): the SqlError of the failing statement, with `statement` set (1-based). */
export type StatementError = SqlError;

export interface Platform {
  execute(sql: string): Promise<StatementResult[]>;
  listJobs(): JobInfo[];
  getJob(id: string): JobInfo | undefined;
  stopJob(id: string): Promise<JobInfo | undefined>;
  listTables(): TableInfo[];
  getTable(name: string): TableInfo | undefined;
  health(): Promise<Health>;
  close(): Promise<void>;
}

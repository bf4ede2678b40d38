import type { SqlError } from '../engine/sql/errors.ts';
import type { DashboardService } from '../catalog/dashboards.ts';
import type { MetricsHistoryAnswer } from './metrics-history.ts';

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
  /** The newest checkpoint this process completed for the job; absent until the first one (also after a restart). */
  readonly lastCheckpoint?: CheckpointMetrics;
  /** Consumer lag summed over the partitions; set by the platform in every job it answers (jobs/metrics-history.ts). */
  readonly lag?: number;
  /** Wall clock minus the watermark (ms), null without one; set with `lag` (how the watermark is read: jobs/metrics-history.ts). */
  readonly watermarkDelayMs?: number | null;
  /** Pipeline instances the job runs (1: its own thread; N > 1: N worker threads, see 'parallelism.default'); absent before it first opens. */
  readonly parallelism?: number;
  /**
   * With parallelism > 1: whether the instances read their own partitions and keep their partial groups
   * until the mini-batch ends (a GROUP BY with mini-batch, e.g. a materialized view), rather than being
   * fed each poll by the job's thread.
   */
  readonly instancesRead?: boolean;
}

export interface CheckpointMetrics {
  readonly id: number;
  /** When it completed (ISO-8601, wall clock). */
  readonly completedAt: string;
  /** From the start of the checkpoint (after the sink flushed) to COMPLETED, including a two-phase sink's commit. */
  readonly durationMs: number;
  /** Serialized size of everything the checkpoint holds (offsets, watermarks, every operator's state), not only what it rewrote. */
  readonly stateBytes: number;
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
  readonly kind: 'table' | 'view' | 'materializedView';
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
  /** Undefined for an unknown id. `drain`: fire every open window as at the end of input first; the job then ends FINISHED. */
  stopJob(id: string, opts?: { readonly drain?: boolean }): Promise<JobInfo | undefined>;
  /** Continues a STOPPED job from its last checkpoint; undefined for an unknown id; JobConflictError in any other state. */
  resumeJob(id: string): Promise<JobInfo | undefined>;
  listTables(): TableInfo[];
  getTable(name: string): TableInfo | undefined;
  health(): Promise<Health>;
  close(): Promise<void>;
  /** Materialized views (issue 4); absent on a platform without a view store (the routes answer 404). */
  readonly views?: ViewService;
  /** The job's metrics sampled every few seconds over the last 15 minutes, oldest first; undefined for an unknown job. */
  metricsHistory?(id: string): MetricsHistoryAnswer | undefined;
  /** A Kafka table's topic partitions and end offsets (best effort, short timeout); undefined unless a Kafka table. */
  tablePartitions?(name: string): Promise<TablePartitions | undefined>;
  /** Dashboards saved in the catalog (the web console's charts). */
  readonly dashboards?: DashboardService;
}

/** `partitions` when the broker answered in time, else `partitionsError` saying why. */
export type TablePartitions =
  | { readonly partitions: readonly { readonly partition: number; readonly endOffset: number }[] }
  | { readonly partitionsError: string };

/** An answer of POST /v1/query: SQLite's dialect over the view store (DESIGN §7). */
export interface QueryResult {
  readonly columns: readonly ResultColumn[];
  readonly rows: readonly (readonly unknown[])[];
}

export interface ViewInfo {
  readonly name: string;
  readonly sql: string;
  /** Weir types, and how SQLite stores each (TIMESTAMP as TEXT 'yyyy-MM-dd HH:mm:ss.SSS', BOOLEAN 0/1, ...). */
  readonly columns: readonly { readonly name: string; readonly type: string; readonly storedAs: string }[];
  /** The key rows are upserted by; null: append-only, one row per result. */
  readonly key: readonly string[] | null;
  readonly rowCount: number;
  readonly jobId: string;
  readonly jobState: string | null;
  /** The last commit: wall time, the job's watermark then (event time, or 'END'), and its checkpoint. */
  readonly freshness: { readonly committedAt: string | null; readonly watermark: string | null; readonly checkpointId: number | null };
}

export interface RowsRequest {
  readonly limit?: number;
  readonly offset?: number;
  /** `col[:asc|:desc],...`; default the key (or the row id). */
  readonly order?: string;
}

export interface ViewRows extends QueryResult {
  readonly total: number;
  readonly limit: number;
  readonly offset: number;
}

/** One committed change (DESIGN §7 SSE): +I new row or key, -U/+U an updated key's before/after, -D removed. */
export interface ViewChangeEvent {
  readonly op: '+I' | '-U' | '+U' | '-D';
  readonly row: Readonly<Record<string, unknown>>;
}

export interface ViewService {
  /** A read-only SELECT over the views, in a child process stopped at the time limit. Refusals are SqlErrors. */
  query(sql: string): Promise<QueryResult>;
  listViews(): ViewInfo[];
  getView(name: string): ViewInfo | undefined;
  /** Undefined for an unknown view. */
  rows(name: string, req: RowsRequest): Promise<ViewRows | undefined>;
  /** The current rows and every later commit's changes, with nothing lost or repeated in between; undefined for an unknown view. */
  changes(name: string, listener: (changes: readonly ViewChangeEvent[]) => void): { snapshot: Record<string, unknown>[]; unsubscribe: () => void } | undefined;
}

/** A job-control request that conflicts with the job's state (resume of a running job): the server answers 409. */
export class JobConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JobConflictError';
  }
}

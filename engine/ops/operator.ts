export type Row = unknown[];

/** Where an operator sends its output: rows and watermarks, in order. */
export interface Downstream {
  push(rows: Row[]): void;
  watermark(wm: number): void;
}

/** Counters an operator updates; the job runner reads them as metrics. */
export interface OpCounters {
  late: number;
  bad: number;
  lastError: string | null;
}

/**
 * One incremental operator. `process` is the one required method; watermarks pass through unless
 * an operator holds event-time state. Stateful operators snapshot to plain JSON-able data and
 * restore from it, so the runtime can checkpoint them generically.
 */
export interface Operator extends Downstream {
  readonly name: string;
  snapshot?(): unknown;
  restore?(state: unknown): void;
  /**
   * For operators that hold output back (mini-batch aggregation): emit all of it now. The job calls it,
   * upstream operators first, before every checkpoint, so the sink has everything the state has seen.
   * Returns whether anything was held.
   */
  flush?(): boolean;
  /** Emits what is held if it has been held long enough (processing time); the job calls it after every poll. */
  tick?(): boolean;
}

export const WATERMARK_END = Number.MAX_SAFE_INTEGER;

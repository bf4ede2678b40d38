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
}

export const WATERMARK_END = Number.MAX_SAFE_INTEGER;

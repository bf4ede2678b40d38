import type { BoundExpr } from '../expr/bound.ts';
import type { SqlType } from './types.ts';

export interface Column {
  readonly name: string;
  readonly type: SqlType;
}

/** Window of a window aggregate or window TVF. Sizes in milliseconds. */
export type WindowSpec =
  | { readonly kind: 'TUMBLE'; readonly size: number; readonly offset: number }
  | { readonly kind: 'HOP'; readonly size: number; readonly slide: number; readonly offset: number };

export type AggFn = 'COUNT' | 'COUNT_STAR' | 'SUM' | 'MIN' | 'MAX' | 'AVG';

export interface AggCall {
  readonly fn: AggFn;
  readonly arg: BoundExpr | undefined;
  readonly distinct: boolean;
  readonly type: SqlType;
  /** Display form, e.g. COUNT(DISTINCT uid). */
  readonly text: string;
}

/** A GROUP BY key of a window aggregate: a window bound or an expression over the input. */
export type GroupKey =
  | { readonly kind: 'windowStart' }
  | { readonly kind: 'windowEnd' }
  | { readonly kind: 'windowTime' }
  | { readonly kind: 'expr'; readonly expr: BoundExpr };

export interface SourceTable {
  readonly name: string;
  readonly connector: string;
  readonly options: Readonly<Record<string, string>>;
  /** Columns as decoded from the payload, in declaration order. */
  readonly physical: readonly Column[];
  /** The table's full row: physical columns, then computed ones (in declaration order). */
  readonly columns: readonly Column[];
  /** Computed columns as expressions over the physical row. */
  readonly computed: readonly { readonly index: number; readonly expr: BoundExpr }[];
  /** Index in `columns` of the event-time column and the watermark expression over the full row. */
  readonly watermark?: { readonly index: number; readonly expr: BoundExpr; readonly text: string };
  /** PARTITIONED BY columns, when the table has any. */
  readonly partitionedBy?: readonly string[];
}

/**
 * The physical plan of a job: a chain of operators, plain data, stored in the catalog so a job can
 * be rebuilt after a restart. Every node carries its output schema.
 */
/**
 * Mini-batch aggregation (Flink's table.exec.mini-batch.enabled / allow-latency / size): an updating
 * aggregate emits the net change of each key it touched once per mini-batch, not once per input batch. A
 * mini-batch ends when `size` input rows have gathered, when the first of them is `latencyMs` old, before
 * every checkpoint and at the end of the input. State is updated row by row as always; only the changelog
 * is held back (one row per touched key), so memory does not grow with `size`.
 */
export interface MiniBatch {
  readonly latencyMs: number;
  readonly size: number;
}

/** The size of a mini-batch that only its latency, a checkpoint or the end of input ends. */
export const UNBOUNDED_MINI_BATCH = Number.MAX_SAFE_INTEGER;

export type PlanNode =
  | { readonly kind: 'source'; readonly table: SourceTable; readonly schema: readonly Column[] }
  | { readonly kind: 'filter'; readonly input: PlanNode; readonly predicate: BoundExpr; readonly schema: readonly Column[] }
  | { readonly kind: 'project'; readonly input: PlanNode; readonly exprs: readonly BoundExpr[]; readonly schema: readonly Column[] }
  /** One output row per element of `array` (evaluated on the input row): the input row plus the element. NULL or empty arrays give no row. */
  | { readonly kind: 'unnest'; readonly input: PlanNode; readonly array: BoundExpr; readonly schema: readonly Column[] }
  | {
      readonly kind: 'windowAssign';
      readonly input: PlanNode;
      readonly window: WindowSpec;
      readonly timeIndex: number;
      readonly schema: readonly Column[];
    }
  | {
      readonly kind: 'windowAggregate';
      readonly input: PlanNode;
      readonly window: WindowSpec;
      readonly timeIndex: number;
      readonly keys: readonly GroupKey[];
      readonly aggs: readonly AggCall[];
      readonly schema: readonly Column[];
    }
  /**
   * Window Top-N: per window (and further PARTITION BY columns), the first `limit` rows by `orderBy`,
   * emitted once the watermark passes the window's end, each with its ROW_NUMBER appended as the last
   * column. `windowEndIndex` is the input's window_end column, which the partition keys include.
   */
  | {
      readonly kind: 'windowTopN';
      readonly input: PlanNode;
      readonly partitionKeys: readonly number[];
      readonly windowEndIndex: number;
      readonly orderBy: readonly SortKey[];
      readonly limit: number;
      readonly schema: readonly Column[];
    }
  /**
   * Non-windowed GROUP BY: an updating aggregate (DESIGN §2). Output: the keys, then the aggregates. Every
   * node above it exchanges a changelog. `stateTtlMs` is table.exec.state.ttl (0: keep keys forever).
   */
  | {
      readonly kind: 'groupAggregate';
      readonly input: PlanNode;
      readonly keys: readonly BoundExpr[];
      readonly aggs: readonly AggCall[];
      readonly stateTtlMs: number;
      /** table.exec.mini-batch.*: hold the changelog back per key (absent: emit the net change of every batch). */
      readonly miniBatch?: MiniBatch;
      readonly schema: readonly Column[];
    };

export type PlanKind = PlanNode['kind'];

/** One ORDER BY key of a plan node; NULL sorts as the smallest value unless `nullsFirst` says otherwise (as Flink). */
export interface SortKey {
  readonly expr: BoundExpr;
  readonly desc: boolean;
  readonly nullsFirst?: boolean;
}

export interface SinkTable {
  readonly name: string;
  readonly connector: string;
  readonly options: Readonly<Record<string, string>>;
  readonly columns: readonly Column[];
  /** PARTITIONED BY columns, when the table has any (a filesystem sink writes them as directories). */
  readonly partitionedBy?: readonly string[];
  /** PRIMARY KEY ... NOT ENFORCED columns, when the table declares them (an upsert sink's record key). */
  readonly primaryKey?: readonly string[];
}

export interface JobPlan {
  readonly root: PlanNode;
  readonly sink: SinkTable;
  /** Whether the root emits only inserts; false when a non-windowed aggregate makes it a changelog (isUpdating). */
  readonly appendOnly: boolean;
  /** Lower-case names of the tables and views the query reads. */
  readonly uses: readonly string[];
}

/** The node a plan node reads from; undefined for a source (plans are chains). */
export function planInput(n: PlanNode): PlanNode | undefined {
  switch (n.kind) {
    case 'source':
      return undefined;
    case 'filter':
    case 'project':
    case 'unnest':
    case 'windowAssign':
    case 'windowAggregate':
    case 'windowTopN':
    case 'groupAggregate':
      return n.input;
    default: {
      const never: never = n;
      return never;
    }
  }
}

/** The source a plan reads (every chain ends at one). */
export function sourceOf(n: PlanNode): Extract<PlanNode, { kind: 'source' }> {
  let x = n;
  for (let next = planInput(x); next; next = planInput(x)) x = next;
  if (x.kind !== 'source') throw new Error(`plan chain ends at ${x.kind}, not a source`);
  return x;
}

/** Whether the node emits a changelog (+I/-U/+U/-D) rather than inserts only: a non-windowed aggregate is below it. */
export function isUpdating(n: PlanNode): boolean {
  for (let x: PlanNode | undefined = n; x; x = planInput(x)) if (x.kind === 'groupAggregate') return true;
  return false;
}

import { compileFold } from './accumulators.ts';
import type { Accumulator, RetractableAccumulator, Step } from './accumulators.ts';
import type { Row } from './operator.ts';

/**
 * One group of a non-windowed GROUP BY (GroupAggregateOp): what is read once per batch or checkpoint. What
 * every row updates (its accumulators, row count, batch stamp and dirtiness) lies in the state's columns
 * instead (GroupColumns), at the group's number: a row then reads and writes a few small arrays rather than
 * a group object among 100,000 others, and the lookup that finds the number never reads the object
 * (docs/benchmarks.md, tenth session).
 */
export interface Group {
  /** The group's number: its place in the columns, held while it lives (released when it is dropped). */
  readonly n: number;
  /**
   * Processing time of the last update, for the state TTL: without a TTL it is not kept up to date (the
   * GROUP BY's fast path leaves it), and it is not stored either.
   */
  touched: number;
  readonly key: readonly unknown[];
  /** The result row last emitted for this key (the -U of its next update), when known. */
  last: Row | undefined;
  /** Keyed state: its entry key once computed, and whether the store holds it. */
  entry: string | undefined;
  stored: boolean;
  /** Its result before the current batch (null: the key did not exist) and its place in the batch's output. */
  before: Row | null;
  slot: number;
  /** Dropped from state since the current batch touched it. */
  gone: boolean;
}

/** Folds values into group n's accumulators (GroupColumns.accs): accumulator i takes vals[at + i]. */
export type ColumnFold = (accs: readonly unknown[][], n: number, vals: readonly unknown[], at: number) => void;

/** Folds one input row into group n's accumulators, each reading its argument's column of the row itself. */
export type RowFold = (accs: readonly unknown[][], n: number, row: Row) => void;

const MIN_GROUPS = 1024;

/**
 * The per-row state of an aggregate's groups (a GROUP BY's; a window aggregate's, all windows' together,
 * which use the accumulators and dirty flags only), column by column, indexed by group number: numbers of
 * dropped groups (a window's when it fires) are taken again by new ones. The accumulator columns are plain arrays (an accumulator may be any
 * value: a count, a sum, a Set for DISTINCT); the folds over them are generated per aggregate list, the
 * simple steps written out (Accumulator.addSource) — the generated text holds only fixed code, column
 * numbers and those fixed sources, never anything of a query.
 */
export class GroupColumns {
  /** The batch that last touched the group (a stamp instead of a per-batch Map lookup on every row). */
  batch = new Float64Array(MIN_GROUPS);
  /** Input rows currently counted in the group (accumulated minus retracted): at 0 the key is gone. */
  rows = new Float64Array(MIN_GROUPS);
  /** Keyed state: 1 when the group changed since the last checkpoint. */
  dirty = new Uint8Array(MIN_GROUPS);
  /** accs[i][n]: accumulator i of group n. */
  readonly accs: unknown[][];
  readonly add: ColumnFold;
  readonly merge: ColumnFold;
  private free: number[] = [];
  private next = 0;

  constructor(private readonly accumulators: readonly Accumulator[]) {
    this.accs = accumulators.map(() => []);
    this.add = columnFold(
      accumulators.map((a) => a.add),
      accumulators.map((a) => a.addSource),
    );
    this.merge = columnFold(
      accumulators.map((a) => a.merge),
      [],
    );
  }

  /**
   * The add fold of rows whose arguments are plain columns: accumulator i takes `row[args[i]] ?? null`, as
   * the compiled column expression gives it (no argument for undefined: COUNT(*)). The generated text holds
   * column numbers, not query text.
   */
  rowFold(args: readonly (number | undefined)[]): RowFold {
    const accumulators = this.accumulators;
    for (const a of args) if (a !== undefined && !Number.isInteger(a)) throw new Error(`column number ${String(a)}`);
    return compileFold(
      'accs, n, row',
      accumulators.map((a) => a.add),
      accumulators.map((a) => a.addSource),
      (i) => `accs[${i}][n]`,
      (i) => (args[i] === undefined ? 'undefined' : `(row[${args[i]}] ?? null)`),
    ) as RowFold;
  }

  /** A number for a new group with these accumulators and rows; its batch stamp 0 and not dirty. */
  take(accs: readonly unknown[], rows: number): number {
    const n = this.number();
    this.rows[n] = rows;
    const cols = this.accs;
    for (let i = 0; i < cols.length; i++) cols[i]![n] = accs[i];
    return n;
  }

  /** A number for a new, empty group (every accumulator's init, no rows). */
  takeEmpty(): number {
    const n = this.number();
    this.rows[n] = 0;
    const cols = this.accs;
    const accumulators = this.accumulators;
    for (let i = 0; i < cols.length; i++) cols[i]![n] = accumulators[i]!.init();
    return n;
  }

  private number(): number {
    const n = this.free.length > 0 ? this.free.pop()! : this.next++;
    if (n >= this.batch.length) this.grow();
    this.batch[n] = 0;
    this.dirty[n] = 0;
    return n;
  }

  /** Group n is gone: its number may be taken again (its accumulators are let go now). */
  release(n: number): void {
    const cols = this.accs;
    for (let i = 0; i < cols.length; i++) cols[i]![n] = null;
    this.dirty[n] = 0;
    this.free.push(n);
  }

  /** Numbers ever taken (live groups and free numbers): what the columns hold. */
  get slots(): number {
    return this.next;
  }

  /** Group n's accumulators, as an array (a copy). */
  accsOf(n: number): unknown[] {
    const cols = this.accs;
    const out = new Array<unknown>(cols.length);
    for (let i = 0; i < cols.length; i++) out[i] = cols[i]![n];
    return out;
  }

  clear(): void {
    this.batch = new Float64Array(MIN_GROUPS);
    this.rows = new Float64Array(MIN_GROUPS);
    this.dirty = new Uint8Array(MIN_GROUPS);
    for (const c of this.accs) c.length = 0;
    this.free = [];
    this.next = 0;
  }

  private grow(): void {
    const size = 2 * this.batch.length;
    const batch = new Float64Array(size);
    batch.set(this.batch);
    this.batch = batch;
    const rows = new Float64Array(size);
    rows.set(this.rows);
    this.rows = rows;
    const dirty = new Uint8Array(size);
    dirty.set(this.dirty);
    this.dirty = dirty;
  }
}

/** The retractions of a GROUP BY's accumulators over GroupColumns (an updating input's -U/-D). */
export function retractFold(accumulators: readonly RetractableAccumulator[]): ColumnFold {
  return columnFold(
    accumulators.map((a) => a.retract),
    [],
  );
}

function columnFold(steps: readonly Step[], sources: readonly (string | undefined)[]): ColumnFold {
  return compileFold(
    'accs, n, vals, at',
    steps,
    sources,
    (i) => `accs[${i}][n]`,
    (i) => `vals[at + ${i}]`,
  ) as ColumnFold;
}

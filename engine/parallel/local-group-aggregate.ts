import { aggregateInputs } from '../ops/aggregate-inputs.ts';
import { addAllOf } from '../ops/accumulators.ts';
import type { AddAll } from '../ops/accumulators.ts';
import { groupMapKey } from '../ops/group-aggregate.ts';
import type { GroupAggConfig, GroupPartials } from '../ops/group-aggregate.ts';
import type { Downstream, OpCounters, Row } from '../ops/operator.ts';
import { PreAggregationChoice } from './pre-aggregation.ts';
import { GroupNumbers } from '../ops/int-key-table.ts';

/**
 * The local half of a two-phase non-windowed GROUP BY over insert-only rows: a parallel instance folds the
 * rows of one batch into partial accumulators per group key and hands those over (take()) instead of the
 * rows; GroupAggregateOp.mergePartials is the global half, which also owns the state TTL, the changelog
 * and the keyed state. When keys barely repeat within a batch it hands over the rows' keys and argument
 * values instead (`inputs`, see pre-aggregation.ts), which the global half folds as push() folds rows.
 * No data is kept between batches. A row whose key or argument fails is a bad row here, with the same
 * error as in GroupAggregateOp.push (the same expressions in the same order).
 */
export class LocalGroupAggregate implements Downstream {
  /** Map key (groupMapKey) → the group's index in the partials, in first-appearance order. */
  private index = new GroupNumbers();
  private keys: unknown[] = [];
  private accs: unknown[] = [];
  private rows: number[] = [];
  /** Inputs mode: the rows' argument values, and how many rows. */
  private args: unknown[] = [];
  private count = 0;
  private readonly choice = new PreAggregationChoice();
  /** Whether rows reached this batch's aggregate at all (GroupAggregateOp.push would have been called). */
  private pushed = false;
  private readonly keyVals: unknown[];
  private readonly argVals: unknown[];
  private readonly addAll: AddAll;

  /**
   * `hold`: the partials of every row pushed since the last take(), however many batches that spans (an
   * instance that reads its own partitions hands them over once per mini-batch, jobs/parallel/owned.ts);
   * always pre-aggregated then, since a key repeats across batches.
   */
  constructor(
    private readonly cfg: GroupAggConfig,
    private readonly counters: OpCounters,
    private readonly hold = false,
  ) {
    this.addAll = addAllOf(cfg.accumulators);
    this.keyVals = new Array(cfg.keyExprs.length);
    this.argVals = new Array(cfg.accumulators.length);
  }

  push(rows: Row[]): void {
    if (rows.length > 0) this.pushed = true;
    if (!this.hold && this.choice.inputs) this.pushInputs(rows);
    else this.pushPartials(rows);
  }

  private pushPartials(rows: Row[]): void {
    const { keyExprs, accumulators, aggArgs, columns } = this.cfg;
    const nk = keyExprs.length;
    if (nk === 1 && columns !== undefined) return this.pushColumns(rows, columns.keys[0]!, columns.args);
    const na = accumulators.length;
    const keyVals = this.keyVals;
    const argVals = this.argVals;
    const accs = this.accs;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      if (!aggregateInputs(keyExprs, aggArgs, r, keyVals, argVals, this.counters)) continue;
      const mk = groupMapKey(keyVals, nk);
      let g = this.index.numberOf(mk);
      if (g < 0) {
        g = this.addGroup(mk);
        for (let k = 0; k < nk; k++) this.keys.push(keyVals[k] === undefined ? null : keyVals[k]);
      }
      this.addAll(accs, argVals, g * na);
      this.rows[g]!++;
      this.count++;
    }
  }

  /**
   * pushPartials() of a GROUP BY over one plain column whose arguments are plain columns too
   * (GroupAggConfig.columns): key and arguments read from the row as the compiled column expressions give
   * them (`r[i] ?? null`, which cannot fail), no expression calls.
   */
  private pushColumns(rows: Row[], kc: number, argCols: readonly (number | undefined)[]): void {
    const na = this.cfg.accumulators.length;
    const argVals = this.argVals;
    const accs = this.accs;
    const index = this.index;
    const counts = this.rows;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const k = r[kc] ?? null;
      let g = index.numberOf(k);
      if (g < 0) {
        g = this.addGroup(k);
        this.keys.push(k);
      }
      for (let a = 0; a < na; a++) {
        const c = argCols[a];
        argVals[a] = c === undefined ? undefined : (r[c] ?? null);
      }
      this.addAll(accs, argVals, g * na);
      counts[g]!++;
    }
    this.count += rows.length;
  }

  /** A new group for Map key `mk` (its accumulators' init, no rows yet): its index. The caller adds its key values. */
  private addGroup(mk: unknown): number {
    const g = this.rows.length;
    this.index.set(mk, g);
    const accumulators = this.cfg.accumulators;
    for (let a = 0; a < accumulators.length; a++) this.accs.push(accumulators[a]!.init());
    this.rows.push(0);
    return g;
  }

  private pushInputs(rows: Row[]): void {
    const { keyExprs, aggArgs } = this.cfg;
    const nk = keyExprs.length;
    const na = aggArgs.length;
    const keyVals = this.keyVals;
    const argVals = this.argVals;
    const keys = this.keys;
    const args = this.args;
    for (let i = 0; i < rows.length; i++) {
      if (!aggregateInputs(keyExprs, aggArgs, rows[i]!, keyVals, argVals, this.counters)) continue;
      for (let k = 0; k < nk; k++) keys.push(keyVals[k] === undefined ? null : keyVals[k]);
      for (let a = 0; a < na; a++) args.push(argVals[a]);
      this.count++;
    }
  }

  watermark(): void {
    // The global half has no event-time state; watermarks are the job's.
  }

  /**
   * What the rows pushed since the last take() give the global half (null: no row reached the aggregate,
   * so push() would not have been called, not even for rows that all turn out bad), and a fresh start.
   */
  take(): GroupPartials | null {
    let out: GroupPartials | null = null;
    if (this.pushed) {
      out =
        !this.hold && this.choice.inputs
          ? { kind: 'inputs', keys: this.keys, args: this.args, count: this.count }
          : { kind: 'partials', keys: this.keys, accs: this.accs, rows: this.rows };
      if (!this.hold) this.choice.batchDone(this.count, this.rows.length);
    }
    this.pushed = false;
    this.index = new GroupNumbers();
    this.keys = [];
    this.accs = [];
    this.rows = [];
    this.args = [];
    this.count = 0;
    return out;
  }
}

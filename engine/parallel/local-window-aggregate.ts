import { aggregateInputs } from '../ops/aggregate-inputs.ts';
import { addAllOf } from '../ops/accumulators.ts';
import type { AddAll } from '../ops/accumulators.ts';
import { sameWindowsRange, windowStarts } from '../time/windows.ts';
import type { WindowAggConfig, WindowPartials } from '../ops/window-aggregate.ts';
import type { Downstream, OpCounters, Row } from '../ops/operator.ts';
import { PreAggregationChoice } from './pre-aggregation.ts';

interface LocalGroup {
  readonly key: unknown[];
  readonly accs: unknown[];
}

/**
 * The local half of a two-phase window aggregation (Flink's local-global aggregation): a parallel
 * instance folds the rows of one batch into partial accumulators per (window, group key) and hands those
 * over (take()) instead of the rows; WindowAggregateOp.mergePartials is the global half. It keeps no
 * data between batches and does no late check (only the global half knows the watermark): it counts,
 * per last window start, the rows that would need one. When groups barely repeat within a batch it hands
 * over the rows' event times, keys and argument values instead (`inputs`, see pre-aggregation.ts), which
 * the global half folds (and judges late) as push() does rows.
 */
export class LocalWindowAggregate implements Downstream {
  private windows = new Map<number, Map<unknown, LocalGroup>>();
  private lastStarts = new Map<number, number>();
  private readonly starts: number[] = [];
  /** The group maps of the windows in `starts`, in the same order (see push). */
  private readonly startGroups: Map<unknown, LocalGroup>[] = [];

  private readonly addAll: AddAll;
  private readonly choice = new PreAggregationChoice();
  /** This batch's (row, window) pairs folded and groups made (pre-aggregating), for the choice. */
  private folded = 0;
  private groups = 0;
  /** Inputs mode: the rows' event times, key values and argument values. */
  private times: number[] = [];
  private keys: unknown[] = [];
  private args: unknown[] = [];

  constructor(
    private readonly cfg: WindowAggConfig,
    private readonly counters: OpCounters,
  ) {
    this.addAll = addAllOf(cfg.accumulators);
  }

  push(rows: Row[]): void {
    if (this.choice.inputs) this.pushInputs(rows);
    else this.pushPartials(rows);
  }

  private pushInputs(rows: Row[]): void {
    const { timeIndex, keyExprs, aggArgs } = this.cfg;
    const nk = keyExprs.length;
    const na = aggArgs.length;
    const keyVals: unknown[] = new Array(nk);
    const argVals: unknown[] = new Array(na);
    const { times, keys, args } = this;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const ts = r[timeIndex];
      if (typeof ts !== 'number') continue; // as WindowAggregateOp: no window, not late
      if (!aggregateInputs(keyExprs, aggArgs, r, keyVals, argVals, this.counters)) continue;
      times.push(ts);
      for (let k = 0; k < nk; k++) keys.push(keyVals[k]);
      for (let a = 0; a < na; a++) args.push(argVals[a]);
    }
  }

  private pushPartials(rows: Row[]): void {
    const { spec, timeIndex, keyExprs, accumulators, aggArgs } = this.cfg;
    const nk = keyExprs.length;
    const na = accumulators.length;
    const keyVals: unknown[] = new Array(nk);
    const argVals: unknown[] = new Array(na);
    const starts = this.starts;
    const startGroups = this.startGroups;
    const windows = this.windows;
    // The windows of the last windowStarts() call hold for every ts in [range.lo, range.hi)
    // (sameWindowsRange): there, the row's windows and their group maps are reused as they are. The cache
    // lives for one push() only: take() replaces the group maps it points to.
    const range = { lo: Infinity, hi: -Infinity };
    let nw = 0;
    // Rows per last window start are counted here and added to `lastStarts` when a run of rows with the
    // same last start ends: one Map update per run instead of per row. A start's first run ends before
    // the first run of any start seen after it, so the Map keeps the order of first appearance.
    let runStart = NaN;
    let run = 0;
    try {
      for (let i = 0; i < rows.length; i++) {
        const r = rows[i]!;
        const ts = r[timeIndex];
        if (typeof ts !== 'number') continue; // as WindowAggregateOp: no window, not late
        if (!aggregateInputs(keyExprs, aggArgs, r, keyVals, argVals, this.counters)) continue;
        if (!(ts >= range.lo && ts < range.hi)) {
          nw = windowStarts(ts, spec, starts);
          sameWindowsRange(starts, nw, spec, range);
          for (let w = 0; w < nw; w++) {
            const start = starts[w]!;
            let groups = windows.get(start);
            if (!groups) windows.set(start, (groups = new Map()));
            startGroups[w] = groups;
          }
          // windowStarts gives the latest window first. (NaN never equals itself: such rows are still
          // counted, a run of one each.)
          if (starts[0]! !== runStart) {
            if (run > 0) this.addLastStart(runStart, run);
            runStart = starts[0]!;
            run = 0;
          }
        }
        run++;
        const mapKey = nk === 0 ? '' : nk === 1 ? keyVals[0] : JSON.stringify(keyVals);
        for (let w = 0; w < nw; w++) {
          const groups = startGroups[w]!;
          let g = groups.get(mapKey);
          if (!g) {
            groups.set(mapKey, (g = { key: keyVals.slice(), accs: accumulators.map((acc) => acc.init()) }));
            this.groups++;
          }
          this.addAll(g.accs, argVals, 0);
          this.folded++;
        }
      }
    } finally {
      // Also when an error escapes (not a bad row): the rows before it stay counted, as they were pushed.
      if (run > 0) this.addLastStart(runStart, run);
    }
  }

  private addLastStart(start: number, rows: number): void {
    this.lastStarts.set(start, (this.lastStarts.get(start) ?? 0) + rows);
  }

  watermark(): void {
    // Watermarks are the global half's business.
  }

  /** What the rows pushed since the last take() give the global half, and a fresh start. */
  take(): WindowPartials {
    const inputs = this.choice.inputs;
    const out: WindowPartials = inputs
      ? { kind: 'inputs', times: this.times, keys: this.keys, args: this.args, count: this.times.length }
      : {
          kind: 'partials',
          windows: [...this.windows].map(([start, groups]) => [start, [...groups.values()].map((g) => [g.key, g.accs])]),
          lastStarts: [...this.lastStarts],
        };
    // A batch no row reached (or all of them bad) decides nothing.
    if (inputs ? this.times.length > 0 : this.folded > 0) this.choice.batchDone(this.folded, this.groups);
    this.windows = new Map();
    this.lastStarts = new Map();
    this.times = [];
    this.keys = [];
    this.args = [];
    this.folded = 0;
    this.groups = 0;
    // Not needed for correctness (push() starts its cache afresh), but keeps the handed-over maps collectable.
    this.startGroups.length = 0;
    return out;
  }
}

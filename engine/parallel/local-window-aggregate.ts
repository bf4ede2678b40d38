import { windowStarts } from '../time/windows.ts';
import { badRow } from '../ops/stateless.ts';
import type { WindowAggConfig, WindowPartials } from '../ops/window-aggregate.ts';
import type { Downstream, OpCounters, Row } from '../ops/operator.ts';

interface LocalGroup {
  readonly key: unknown[];
  readonly accs: unknown[];
}

/**
 * The local half of a two-phase window aggregation (Flink's local-global aggregation): a parallel
 * instance folds the rows of one batch into partial accumulators per (window, group key) and hands those
 * over (take()) instead of the rows; WindowAggregateOp.mergePartials is the global half. It holds no
 * state between batches and does no late check (only the global half knows the watermark): it counts,
 * per last window start, the rows that would need one.
 */
export class LocalWindowAggregate implements Downstream {
  private windows = new Map<number, Map<unknown, LocalGroup>>();
  private lastStarts = new Map<number, number>();
  private readonly starts: number[] = [];

  constructor(
    private readonly cfg: WindowAggConfig,
    private readonly counters: OpCounters,
  ) {}

  push(rows: Row[]): void {
    const { spec, timeIndex, keyExprs, accumulators, aggArgs } = this.cfg;
    const nk = keyExprs.length;
    const na = accumulators.length;
    const keyVals: unknown[] = new Array(nk);
    const argVals: unknown[] = new Array(na);
    const starts = this.starts;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const ts = r[timeIndex];
      if (typeof ts !== 'number') continue; // as WindowAggregateOp: no window, not late
      try {
        for (let k = 0; k < nk; k++) keyVals[k] = keyExprs[k]!(r);
        for (let a = 0; a < na; a++) argVals[a] = aggArgs[a] ? aggArgs[a]!(r) : undefined;
      } catch (e) {
        badRow(this.counters, e);
        continue;
      }
      const mapKey = nk === 0 ? '' : nk === 1 ? keyVals[0] : JSON.stringify(keyVals);
      const nw = windowStarts(ts, spec, starts);
      // windowStarts gives the latest window first.
      this.lastStarts.set(starts[0]!, (this.lastStarts.get(starts[0]!) ?? 0) + 1);
      for (let w = 0; w < nw; w++) {
        const start = starts[w]!;
        let groups = this.windows.get(start);
        if (!groups) this.windows.set(start, (groups = new Map()));
        let g = groups.get(mapKey);
        if (!g) groups.set(mapKey, (g = { key: keyVals.slice(), accs: accumulators.map((acc) => acc.init()) }));
        const accs = g.accs;
        for (let a = 0; a < na; a++) accs[a] = accumulators[a]!.add(accs[a], argVals[a]);
      }
    }
  }

  watermark(): void {
    // Watermarks are the global half's business.
  }

  /** The partials of the rows pushed since the last take(), and a fresh start. */
  take(): WindowPartials {
    const out: WindowPartials = {
      windows: [...this.windows].map(([start, groups]) => [start, [...groups.values()].map((g) => [g.key, g.accs])]),
      lastStarts: [...this.lastStarts],
    };
    this.windows = new Map();
    this.lastStarts = new Map();
    return out;
  }
}

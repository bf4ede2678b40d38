import type { CompiledExpr } from '../expr/bound.ts';
import type { GroupKey, WindowSpec } from '../plan/plan.ts';
import { windowStarts } from '../time/windows.ts';
import type { Accumulator } from './accumulators.ts';
import { badRow } from './stateless.ts';
import type { Downstream, OpCounters, Operator, Row } from './operator.ts';

interface Group {
  readonly key: readonly unknown[];
  readonly accs: unknown[];
}

/** The aggregate's state, as snapshots store it. */
interface WindowAggSnapshot {
  readonly watermark: number;
  readonly windows: [start: number, groups: [key: unknown[], accs: unknown[]][]][];
}

export interface WindowAggConfig {
  readonly spec: WindowSpec;
  readonly timeIndex: number;
  readonly keys: readonly GroupKey[];
  /** Compiled GROUP BY expressions, one per key of kind 'expr' (in order). */
  readonly keyExprs: readonly CompiledExpr[];
  readonly accumulators: readonly Accumulator[];
  /** Compiled aggregate arguments (undefined for COUNT(*)). */
  readonly aggArgs: readonly (CompiledExpr | undefined)[];
}

/**
 * Window aggregate on event time: state is one Map of groups per open window, keyed by window start.
 * A window fires once, when the watermark reaches its end - 1 ms (as Flink), and its state is freed.
 * A row whose every window has fired is late: dropped and counted.
 */
export class WindowAggregateOp implements Operator {
  readonly name = 'windowAggregate';
  private readonly windows = new Map<number, Map<unknown, Group>>();
  private wm = Number.MIN_SAFE_INTEGER;
  private readonly exprKeyCount: number;
  private readonly starts: number[] = [];

  constructor(
    private readonly cfg: WindowAggConfig,
    private readonly out: Downstream,
    private readonly counters: OpCounters,
  ) {
    this.exprKeyCount = cfg.keyExprs.length;
  }

  push(rows: Row[]): void {
    const { spec, timeIndex, keyExprs, accumulators, aggArgs } = this.cfg;
    const nk = this.exprKeyCount;
    const na = accumulators.length;
    const size = spec.size;
    const keyVals: unknown[] = new Array(nk);
    const argVals: unknown[] = new Array(na);
    const starts = this.starts;
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      const ts = r[timeIndex];
      if (typeof ts !== 'number') continue; // NULL event time: no window (Flink drops it too)
      try {
        for (let k = 0; k < nk; k++) keyVals[k] = keyExprs[k]!(r);
        for (let a = 0; a < na; a++) argVals[a] = aggArgs[a] ? aggArgs[a]!(r) : undefined;
      } catch (e) {
        badRow(this.counters, e);
        continue;
      }
      const mapKey = nk === 0 ? '' : nk === 1 ? keyVals[0] : JSON.stringify(keyVals);
      const nw = windowStarts(ts, spec, starts);
      let placed = false;
      for (let w = 0; w < nw; w++) {
        const start = starts[w]!;
        if (start + size - 1 <= this.wm) continue;
        placed = true;
        let groups = this.windows.get(start);
        if (!groups) {
          groups = new Map();
          this.windows.set(start, groups);
        }
        let g = groups.get(mapKey);
        if (!g) {
          g = { key: keyVals.slice(), accs: accumulators.map((acc) => acc.init()) };
          groups.set(mapKey, g);
        }
        const accs = g.accs;
        for (let a = 0; a < na; a++) accs[a] = accumulators[a]!.add(accs[a], argVals[a]);
      }
      if (!placed) this.counters.late++;
    }
  }

  watermark(wm: number): void {
    if (wm <= this.wm) return;
    this.wm = wm;
    const size = this.cfg.spec.size;
    const due = [...this.windows.keys()].filter((start) => start + size - 1 <= wm).sort((a, b) => a - b);
    if (due.length > 0) {
      const out: Row[] = [];
      for (const start of due) {
        for (const g of this.windows.get(start)!.values()) out.push(this.resultRow(start, g));
        this.windows.delete(start);
      }
      if (out.length > 0) this.out.push(out);
    }
    this.out.watermark(wm);
  }

  private resultRow(start: number, g: Group): Row {
    const { keys, accumulators } = this.cfg;
    const end = start + this.cfg.spec.size;
    const row: Row = new Array(keys.length + accumulators.length);
    let e = 0;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k]!;
      switch (key.kind) {
        case 'windowStart':
          row[k] = start;
          break;
        case 'windowEnd':
          row[k] = end;
          break;
        case 'windowTime':
          row[k] = end - 1;
          break;
        case 'expr':
          row[k] = g.key[e++];
          break;
        default: {
          const never: never = key;
          throw new Error(`unknown key ${String(never)}`);
        }
      }
    }
    for (let a = 0; a < accumulators.length; a++) row[keys.length + a] = accumulators[a]!.result(g.accs[a]);
    return row;
  }

  /** Number of open groups over all windows (for metrics and tests). */
  openGroups(): number {
    let n = 0;
    for (const g of this.windows.values()) n += g.size;
    return n;
  }

  snapshot(): WindowAggSnapshot {
    const accs = this.cfg.accumulators;
    return {
      watermark: this.wm,
      windows: [...this.windows].map(([start, groups]) => [start, [...groups.values()].map((g) => [[...g.key], g.accs.map((a, i) => accs[i]!.save(a))])]),
    };
  }

  restore(state: unknown): void {
    const s = state as WindowAggSnapshot;
    const accs = this.cfg.accumulators;
    const nk = this.exprKeyCount;
    this.wm = s.watermark;
    this.windows.clear();
    for (const [start, groups] of s.windows) {
      const m = new Map<unknown, Group>();
      for (const [key, saved] of groups) {
        const mapKey = nk === 0 ? '' : nk === 1 ? key[0] : JSON.stringify(key);
        m.set(mapKey, { key, accs: saved.map((d, i) => accs[i]!.load(d)) });
      }
      this.windows.set(start, m);
    }
  }
}

import type { CompiledExpr } from '../expr/bound.ts';
import { badRow } from './stateless.ts';
import type { Downstream, OpCounters, Operator, Row } from './operator.ts';

export interface CompiledSortKey {
  readonly fn: CompiledExpr;
  readonly desc: boolean;
  /** Where NULL goes; undefined: NULL is the smallest value (first ascending, last descending), as Flink. */
  readonly nullsFirst?: boolean;
}

export interface WindowTopNConfig {
  readonly partitionKeys: readonly number[];
  readonly windowEndIndex: number;
  readonly orderBy: readonly CompiledSortKey[];
  readonly limit: number;
}

/** A kept row and its sort values (computed once, on arrival). */
type Ranked = readonly [row: Row, sort: readonly unknown[]];

interface TopNSnapshot {
  readonly watermark: number;
  readonly windows: [end: number, partitions: [key: string, rows: Ranked[]][]][];
}

/** Total order of two sort values of one key: numbers, strings and booleans by value, NULL by `nullsFirst`. */
export function compareSortValues(a: unknown, b: unknown, k: Pick<CompiledSortKey, 'desc' | 'nullsFirst'>): number {
  const an = a === null || a === undefined;
  const bn = b === null || b === undefined;
  if (an || bn) {
    if (an && bn) return 0;
    const nullsFirst = k.nullsFirst ?? !k.desc;
    return an === nullsFirst ? -1 : 1;
  }
  const c = (a as number | string) < (b as number | string) ? -1 : (a as number | string) > (b as number | string) ? 1 : 0;
  return k.desc ? -c : c;
}

/**
 * Window Top-N (Flink's `ROW_NUMBER() OVER (PARTITION BY window_start, window_end, ... ORDER BY ...)`
 * filtered to `rownum <= N`): per window and partition it keeps only the best N rows seen so far, and
 * when the watermark reaches the window's end - 1 ms (when a window aggregate below fires) it emits them
 * in rank order with the row number appended, then forgets the window. Rows of a fired window are late.
 * Ties keep arrival order, so ROW_NUMBER is deterministic for a deterministic input.
 */
export class WindowTopNOp implements Operator {
  readonly name = 'windowTopN';
  /** Window end → partition key → kept rows, best first. */
  private windows = new Map<number, Map<string, Ranked[]>>();
  private wm = Number.MIN_SAFE_INTEGER;

  constructor(
    private readonly cfg: WindowTopNConfig,
    private readonly out: Downstream,
    private readonly counters: OpCounters,
  ) {}

  push(rows: Row[]): void {
    const { windowEndIndex, partitionKeys, orderBy, limit } = this.cfg;
    for (const row of rows) {
      const end = row[windowEndIndex];
      if (typeof end !== 'number') continue;
      if (end - 1 <= this.wm) {
        this.counters.late++;
        continue;
      }
      let sort: unknown[];
      try {
        sort = orderBy.map((k) => k.fn(row));
      } catch (e) {
        badRow(this.counters, e);
        continue;
      }
      let parts = this.windows.get(end);
      if (!parts) {
        parts = new Map();
        this.windows.set(end, parts);
      }
      const key = JSON.stringify(partitionKeys.map((i) => row[i] ?? null));
      let kept = parts.get(key);
      if (!kept) {
        kept = [];
        parts.set(key, kept);
      }
      this.insert(kept, [row, sort], limit);
    }
  }

  /** Inserts after every row that ranks equal or better (stable), keeping at most `limit` rows. */
  private insert(kept: Ranked[], r: Ranked, limit: number): void {
    const cmp = (x: Ranked): number => this.compare(x[1], r[1]);
    if (kept.length >= limit && cmp(kept[kept.length - 1]!) <= 0) return;
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(kept[mid]!) <= 0) lo = mid + 1;
      else hi = mid;
    }
    kept.splice(lo, 0, r);
    if (kept.length > limit) kept.length = limit;
  }

  private compare(a: readonly unknown[], b: readonly unknown[]): number {
    const keys = this.cfg.orderBy;
    for (let i = 0; i < keys.length; i++) {
      const c = compareSortValues(a[i], b[i], keys[i]!);
      if (c !== 0) return c;
    }
    return 0;
  }

  watermark(wm: number): void {
    if (wm > this.wm) {
      this.wm = wm;
      const due = [...this.windows.keys()].filter((end) => end - 1 <= wm).sort((a, b) => a - b);
      const out: Row[] = [];
      for (const end of due) {
        for (const kept of this.windows.get(end)!.values()) kept.forEach(([row], i) => out.push([...row, i + 1]));
        this.windows.delete(end);
      }
      if (out.length > 0) this.out.push(out);
    }
    this.out.watermark(wm);
  }

  snapshot(): TopNSnapshot {
    return { watermark: this.wm, windows: [...this.windows].map(([end, parts]) => [end, [...parts]]) };
  }

  restore(state: unknown): void {
    const s = state as TopNSnapshot;
    this.wm = s.watermark;
    this.windows = new Map(s.windows.map(([end, parts]) => [end, new Map(parts)]));
  }
}

import type { WindowSpec } from '../plan/plan.ts';
import { forEachWindow } from '../time/windows.ts';
import type { Downstream, Operator, Row } from './operator.ts';

/** A window TVF without aggregation: each row, once per window containing it, with window_start, window_end, window_time. */
export class WindowAssignOp implements Operator {
  readonly name = 'windowAssign';
  constructor(
    private readonly spec: WindowSpec,
    private readonly timeIndex: number,
    private readonly out: Downstream,
  ) {}

  push(rows: Row[]): void {
    const out: Row[] = [];
    const size = this.spec.size;
    for (const r of rows) {
      const ts = r[this.timeIndex];
      if (typeof ts !== 'number') continue;
      forEachWindow(ts, this.spec, (start) => out.push([...r, start, start + size, start + size - 1]));
    }
    if (out.length > 0) this.out.push(out);
  }

  watermark(wm: number): void {
    this.out.watermark(wm);
  }
}

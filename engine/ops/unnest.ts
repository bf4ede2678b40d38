import type { CompiledExpr } from '../expr/bound.ts';
import type { Downstream, OpCounters, Operator, Row } from './operator.ts';
import { badRow } from './stateless.ts';

/**
 * CROSS JOIN UNNEST: each input row is sent on once per element of its array, with the element
 * appended. A NULL or empty array gives no row (an inner lateral join, as in Flink). Stateless:
 * watermarks pass through, since every output row keeps its input row's event time.
 */
export class UnnestOp implements Operator {
  readonly name = 'unnest';
  constructor(
    private readonly array: CompiledExpr,
    private readonly out: Downstream,
    private readonly counters: OpCounters,
  ) {}

  push(rows: Row[]): void {
    const result: Row[] = [];
    for (let i = 0; i < rows.length; i++) {
      const r = rows[i]!;
      let arr: unknown;
      try {
        arr = this.array(r);
      } catch (e) {
        badRow(this.counters, e);
        continue;
      }
      if (!Array.isArray(arr)) continue;
      for (const el of arr) result.push([...r, el ?? null]);
    }
    if (result.length > 0) this.out.push(result);
  }

  watermark(wm: number): void {
    this.out.watermark(wm);
  }
}

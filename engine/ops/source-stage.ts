import { compileExpr } from '../expr/index.ts';
import type { BoundExpr } from '../expr/bound.ts';
import type { SourceTable } from '../plan/plan.ts';
import { WatermarkTracker } from '../time/watermarks.ts';
import { WATERMARK_END } from './operator.ts';
import type { Downstream, OpCounters, Row } from './operator.ts';
import { badRow } from './stateless.ts';

/**
 * The connector-independent front of a pipeline: completes decoded rows with computed columns,
 * tracks per-partition watermarks, and pushes rows, then the combined watermark, downstream.
 * Both the Kafka job runner and the synchronous test driver feed it.
 */
export class SourceStage {
  private readonly computed: { index: number; fn: (r: readonly unknown[]) => unknown }[];
  private readonly wmFn: ((r: readonly unknown[]) => unknown) | undefined;
  /**
   * The event-time column when the watermark expression only shifts it by a constant (`ts`, `ts - INTERVAL
   * '5' SECOND`): a batch's greatest candidate is then the expression of its greatest event time, one call
   * per batch instead of one per row (and no boxed number per row). -1 otherwise.
   */
  private readonly wmColumn: number;
  private readonly width: number;
  readonly watermarks: WatermarkTracker;
  private emitted = Number.MIN_SAFE_INTEGER;

  constructor(
    table: SourceTable,
    partitions: readonly number[],
    private readonly entry: Downstream,
    private readonly counters: OpCounters,
    opts: { timeZone: string; idleTimeoutMs: number; now: number },
  ) {
    const ctx = { timeZone: opts.timeZone };
    this.computed = table.computed.map((c) => ({ index: c.index, fn: compileExpr(c.expr, ctx) }));
    this.wmFn = table.watermark ? compileExpr(table.watermark.expr, ctx) : undefined;
    this.wmColumn = table.watermark ? monotoneIn(table.watermark.expr, table.watermark.index) : -1;
    this.width = table.columns.length;
    this.watermarks = new WatermarkTracker(partitions, opts.idleTimeoutMs, opts.now);
  }

  /** Physical rows of one partition, in offset order. Returns the rows actually pushed. */
  push(partition: number, physical: Row[], now: number): number {
    const { rows, maxWatermark } = this.complete(physical);
    this.observe(partition, maxWatermark, now);
    if (rows.length > 0) this.entry.push(rows);
    return rows.length;
  }

  /**
   * The stateless half of push(): full rows (computed columns added; a row a computed column fails on is
   * counted bad and left out) and the greatest watermark candidate among them (undefined: none). A worker
   * thread of a parallel job runs this, the job's own stage then only observe()s.
   */
  complete(physical: Row[]): { rows: Row[]; maxWatermark: number | undefined } {
    const computed = this.computed;
    const wmFn = this.wmFn;
    const wmCol = this.wmColumn;
    const rows: Row[] = computed.length === 0 ? physical : [];
    let maxWm = Number.MIN_SAFE_INTEGER;
    // Nothing per row when there are no computed columns and the watermark comes from one column.
    const perRow = computed.length > 0 || (wmFn !== undefined && wmCol < 0);
    for (let i = 0; perRow && i < physical.length; i++) {
      let r = physical[i]!;
      if (computed.length > 0) {
        try {
          r.length = this.width;
          for (let k = 0; k < computed.length; k++) r[computed[k]!.index] = computed[k]!.fn(r);
        } catch (e) {
          badRow(this.counters, e);
          continue;
        }
        rows.push(r);
      }
      if (wmFn && wmCol < 0) {
        const w = wmFn(r);
        if (typeof w === 'number' && w > maxWm) maxWm = w;
      }
    }
    if (wmFn && wmCol >= 0) {
      // The greatest event time (a row without one has no candidate: its expression is NULL).
      let maxTs = Number.NEGATIVE_INFINITY;
      for (let i = 0; i < rows.length; i++) {
        const v = rows[i]![wmCol];
        if (typeof v === 'number' && v > maxTs) maxTs = v;
      }
      if (maxTs > Number.NEGATIVE_INFINITY) {
        const probe: unknown[] = new Array(this.width).fill(null);
        probe[wmCol] = maxTs;
        const w = wmFn(probe);
        if (typeof w === 'number' && w > maxWm) maxWm = w;
      }
    }
    return { rows, maxWatermark: wmFn && maxWm > Number.MIN_SAFE_INTEGER ? maxWm : undefined };
  }

  /** Records that a batch of the partition arrived, with its greatest watermark candidate if any. */
  observe(partition: number, maxWatermark: number | undefined, now: number): void {
    if (maxWatermark !== undefined) this.watermarks.observe(partition, maxWatermark, now);
    else this.watermarks.touch(partition, now);
  }

  /** Sends the combined watermark downstream if it advanced. */
  advance(now: number): void {
    if (!this.wmFn) return;
    const wm = this.watermarks.current(now);
    if (wm !== undefined && wm > this.emitted) {
      this.emitted = wm;
      this.entry.watermark(wm);
    }
  }

  /** End of a bounded input: every open window fires. */
  end(): void {
    this.emitted = WATERMARK_END;
    this.entry.watermark(WATERMARK_END);
  }

  currentWatermark(): number | undefined {
    return this.emitted === Number.MIN_SAFE_INTEGER ? undefined : this.emitted;
  }
}

/**
 * `index` when `e` is that column (an input reference) or that column plus or minus a constant (an interval
 * literal): a non-decreasing function of the column, NULL where it is NULL. -1 for any other expression.
 */
function monotoneIn(e: BoundExpr, index: number): number {
  const isColumn = (x: BoundExpr): boolean => x.kind === 'input' && x.index === index;
  if (isColumn(e)) return index;
  if (e.kind === 'call' && (e.fn === '-' || e.fn === '+') && e.args.length === 2) {
    const [a, b] = e.args as [BoundExpr, BoundExpr];
    if (isColumn(a) && b.kind === 'literal' && typeof b.value === 'number' && Number.isFinite(b.value)) return index;
  }
  return -1;
}

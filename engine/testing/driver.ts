import { buildPipeline } from '../ops/build.ts';
import type { Change, ChangeDownstream } from '../ops/changelog.ts';
import type { Downstream, OpCounters, Operator, Row } from '../ops/operator.ts';
import { SourceStage } from '../ops/source-stage.ts';
import { decodeSnapshot, encodeSnapshot } from '../state/snapshot-codec.ts';
import type { PlanNode } from '../plan/plan.ts';

/**
 * Runs a plan synchronously with no network and a fake clock (Kafka Streams' TopologyTestDriver):
 * push physical rows per partition, advance watermarks, end the input, read the output. Also
 * snapshots and restores every operator, so tests can check that state survives a checkpoint.
 */
export class PipelineDriver {
  readonly output: Row[] = [];
  /** What an updating plan emitted (+I/-U/+U/-D), in order; `output` stays empty for such plans. */
  readonly changes: Change[] = [];
  readonly counters: OpCounters = { late: 0, bad: 0, lastError: null };
  private stage!: SourceStage;
  private operators: readonly Operator[] = [];
  now = 0;

  constructor(
    private readonly root: PlanNode,
    private readonly partitions: readonly number[] = [0],
    private readonly timeZone = 'UTC',
  ) {
    this.build();
  }

  private build(): void {
    const sink: Downstream & ChangeDownstream = {
      push: (rows) => this.output.push(...rows),
      pushChanges: (cs) => this.changes.push(...cs),
      watermark: () => undefined,
    };
    // The fake clock is the processing time of operators too (state TTL).
    const p = buildPipeline(this.root, sink, this.counters, this.timeZone, { now: () => this.now });
    this.operators = p.operators;
    this.stage = new SourceStage(p.source.table, this.partitions, p.entry, this.counters, { timeZone: this.timeZone, idleTimeoutMs: 0, now: this.now });
  }

  /** One batch of physical rows (columns as the table declares them) from one partition, then the watermark advances. */
  push(rows: Row[], partition = 0): void {
    this.stage.push(partition, rows.map((r) => [...r]), this.now);
    this.stage.advance(this.now);
  }

  end(): void {
    this.stage.end();
  }

  snapshot(): { watermarks: Record<number, number>; operators: unknown[] } {
    return { watermarks: this.stage.watermarks.snapshot(), operators: this.operators.map((o) => (o.snapshot ? decodeSnapshot(encodeSnapshot(o.snapshot())) : null)) };
  }

  /** Rebuilds every operator from scratch and loads the snapshot, as a restarted job would. */
  restore(s: { watermarks: Record<number, number>; operators: unknown[] }): void {
    this.build();
    this.stage.watermarks.restore(s.watermarks);
    s.operators.forEach((st, i) => {
      if (st !== null) this.operators[i]?.restore?.(st);
    });
  }
}

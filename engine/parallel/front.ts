import { buildPipeline, windowAggConfig } from '../ops/build.ts';
import type { OpCounters, Row } from '../ops/operator.ts';
import { SourceStage } from '../ops/source-stage.ts';
import type { WindowPartials } from '../ops/window-aggregate.ts';
import { groupAggConfig } from '../ops/group-aggregate.ts';
import type { GroupPartials } from '../ops/group-aggregate.ts';
import { sourceOf } from '../plan/plan.ts';
import type { PlanNode } from '../plan/plan.ts';
import { LocalGroupAggregate } from './local-group-aggregate.ts';
import { LocalWindowAggregate } from './local-window-aggregate.ts';
import { splitPlan } from './split.ts';

/** What a parallel instance hands back for one batch of a partition's rows. */
export interface FrontResult {
  readonly output:
    | { readonly kind: 'rows'; readonly rows: Row[] }
    | { readonly kind: 'partials'; readonly partials: WindowPartials }
    | { readonly kind: 'groupPartials'; readonly partials: GroupPartials | null };
  /** The batch's greatest watermark candidate (undefined: none), for the job's per-partition watermark. */
  readonly maxWatermark: number | undefined;
  /** Rows the front skipped as bad (a failed computed column, filter, projection, key...) and the last one's error. */
  readonly bad: number;
  readonly lastError: string | null;
}

/**
 * One parallel instance of a plan's front (splitPlan): the source stage's computed columns and watermark
 * candidates, the stateless operators, and for a window aggregate or a GROUP BY over them its local
 * pre-aggregation. Batches are independent: nothing is kept from one to the next, so any instance can take
 * any partition's batch.
 */
export class PipelineFront {
  private readonly stage: SourceStage;
  private readonly entry: { push(rows: Row[]): void };
  private readonly counters: OpCounters = { late: 0, bad: 0, lastError: null };
  private readonly collect: () => FrontResult['output'];
  /** With `holdGroups`: the held partials of a GROUP BY front (see takeHeld()). */
  private readonly held: LocalGroupAggregate | undefined;

  /**
   * `holdGroups`: a GROUP BY front keeps its partials across batches (run() then hands over none) until
   * takeHeld(); for an instance that reads its own partitions (jobs/parallel/owned.ts).
   */
  constructor(root: PlanNode, timeZone: string, holdGroups = false) {
    const split = splitPlan(root);
    let boundary: PlanNode | undefined;
    for (let n: PlanNode = root; n !== split.front; n = (n as Exclude<PlanNode, { kind: 'source' }>).input) boundary = n;
    const counters = this.counters;
    if (split.output === 'partials' && boundary?.kind === 'windowAggregate') {
      const local = new LocalWindowAggregate(windowAggConfig(boundary, timeZone), counters);
      this.entry = buildPipeline(split.front, local, counters, timeZone).entry;
      this.collect = () => ({ kind: 'partials', partials: local.take() });
    } else if (split.output === 'groupPartials' && boundary?.kind === 'groupAggregate') {
      const local = new LocalGroupAggregate(groupAggConfig(boundary, timeZone), counters, holdGroups);
      this.entry = buildPipeline(split.front, local, counters, timeZone).entry;
      this.collect = holdGroups ? () => ({ kind: 'groupPartials', partials: null }) : () => ({ kind: 'groupPartials', partials: local.take() });
      if (holdGroups) this.held = local;
    } else {
      let rows: Row[] = [];
      const sink = {
        push: (r: Row[]) => {
          if (rows.length === 0) rows = r;
          else for (const x of r) rows.push(x);
        },
        watermark: () => undefined,
      };
      this.entry = buildPipeline(split.front, sink, counters, timeZone).entry;
      this.collect = () => {
        const out = rows;
        rows = [];
        return { kind: 'rows', rows: out };
      };
    }
    if (holdGroups && this.held === undefined) throw new Error('only a GROUP BY front holds its partials');
    const source = sourceOf(root);
    // Watermark tracking is the job's: this stage only completes rows (its tracker stays unused).
    this.stage = new SourceStage(source.table, [], { push: (r) => this.entry.push(r), watermark: () => undefined }, counters, { timeZone, idleTimeoutMs: 0, now: 0 });
  }

  /** The partials held since the last call (holdGroups), null when no row reached the aggregate. */
  takeHeld(): GroupPartials | null {
    return this.held!.take();
  }

  /** Runs one partition batch of decoded physical rows through the front. */
  run(physical: Row[]): FrontResult {
    this.counters.bad = 0;
    this.counters.lastError = null;
    const { rows, maxWatermark } = this.stage.complete(physical);
    if (rows.length > 0) this.entry.push(rows);
    return { output: this.collect(), maxWatermark, bad: this.counters.bad, lastError: this.counters.lastError };
  }
}


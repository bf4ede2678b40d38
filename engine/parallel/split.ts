import { isUpdating } from '../plan/plan.ts';
import type { PlanNode } from '../plan/plan.ts';

/**
 * Where a plan splits between parallel pipeline instances (worker threads, one per group of source
 * partitions) and the job's own thread. The front (the source stage and the stateless operators above
 * it) needs no state shared between partitions, so every instance runs its own copy; the first operator
 * with state, and all above it, stays in one place.
 */
export interface PlanSplit {
  /** The top of the front: the node whose output the instances hand back (the source node when the front has no operator). */
  readonly front: PlanNode;
  /** How many operators the front has (they come first in buildPipeline's source-to-sink order). */
  readonly frontOperators: number;
  /**
   * What the instances hand back: 'partials' when the first stateful operator is a window aggregate (they
   * pre-aggregate, LocalWindowAggregate), 'groupPartials' when it is a non-windowed GROUP BY over
   * insert-only rows (LocalGroupAggregate), else 'rows' (the front's output rows).
   */
  readonly output: 'partials' | 'groupPartials' | 'rows';
}

/** Whether the operator of this node keeps no state across rows, so that every instance may run a copy. */
function stateless(n: PlanNode): boolean {
  // Anything not listed is treated as stateful: a new operator kind stays in the job's thread until
  // someone decides it may be copied.
  return n.kind === 'filter' || n.kind === 'project' || n.kind === 'unnest' || n.kind === 'windowAssign';
}

export function splitPlan(root: PlanNode): PlanSplit {
  // The chain from the source up, then the first node that is not stateless.
  const chain: PlanNode[] = [];
  for (let n: PlanNode = root; ; ) {
    chain.push(n);
    if (n.kind === 'source') break;
    n = n.input;
  }
  chain.reverse();
  let i = 1;
  while (i < chain.length && stateless(chain[i]!)) i++;
  const boundary = chain[i];
  return { front: chain[i - 1]!, frontOperators: i - 1, output: outputBefore(boundary) };
}

function outputBefore(boundary: PlanNode | undefined): PlanSplit['output'] {
  if (boundary?.kind === 'windowAggregate') return 'partials';
  // An input that retracts (an aggregate over an aggregate) cannot be pre-aggregated: its -U/-D must find
  // the rows they take back. Below the first stateful operator that never happens, but say so.
  // WEIR_GROUP_PARTIALS=off: the rows instead (the code path before local pre-aggregation, kept for the
  // views benchmark's comparison; read as a job starts, in its thread and in each instance alike).
  if (boundary?.kind === 'groupAggregate' && !isUpdating(boundary.input) && process.env['WEIR_GROUP_PARTIALS'] !== 'off') return 'groupPartials';
  return 'rows';
}

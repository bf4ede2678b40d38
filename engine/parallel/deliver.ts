import { GroupAggregateOp } from '../ops/group-aggregate.ts';
import type { Downstream, Operator } from '../ops/operator.ts';
import { WindowAggregateOp } from '../ops/window-aggregate.ts';
import type { PlanNode } from '../plan/plan.ts';
import type { FrontResult } from './front.ts';
import { splitPlan } from './split.ts';

/**
 * Where the output of parallel instances goes in the one pipeline that owns the state (built by
 * buildPipeline from the same plan): rows into the first operator after the front (or the sink when the
 * whole plan is the front), partial aggregates (of a window aggregate or a GROUP BY) into that operator's
 * mergePartials.
 */
export function frontOutputTarget(root: PlanNode, operators: readonly Operator[], sink: Downstream): (out: FrontResult['output']) => void {
  const split = splitPlan(root);
  const next = operators[split.frontOperators];
  const rowsTo: Downstream = next ?? sink;
  return (out) => {
    switch (out.kind) {
      case 'rows':
        if (out.rows.length > 0) rowsTo.push(out.rows);
        return;
      case 'partials':
        if (!(next instanceof WindowAggregateOp)) throw new Error('partial aggregates for a plan whose first stateful operator is not a window aggregate');
        next.mergePartials(out.partials);
        return;
      case 'groupPartials':
        // Partials only merge into accumulators of their kind: those of a GROUP BY over insert-only rows.
        if (!(next instanceof GroupAggregateOp) || split.output !== 'groupPartials') throw new Error('group partials for a plan whose first stateful operator is not a GROUP BY over insert-only rows');
        // null: no row reached the aggregate (as process() would not call its push at all).
        if (out.partials !== null) next.mergePartials(out.partials);
        return;
      default: {
        const never: never = out;
        throw new Error(`unknown instance output ${String(never)}`);
      }
    }
  };
}

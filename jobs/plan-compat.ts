import { explainJson } from '../engine/plan/explain.ts';
import type { JobPlan } from '../engine/plan/plan.ts';

/**
 * Whether a stopped job's checkpoint can be carried into a new plan (re-submitting a statement under
 * the same `pipeline.name`). A checkpoint holds one state entry per operator, by position in the
 * chain, plus source offsets and watermarks per partition; so the new plan must have the same
 * operators in the same order, the same windows, group keys and aggregates (with their types), read
 * the same source table and topic and write the same sink table. Filters and projections hold no
 * state: their expressions may change (as in Flink, where a savepoint maps to operators, not to SQL
 * text). Output column names are ignored: renaming an alias does not change the state.
 */
export function stateShape(plan: JobPlan): string[] {
  const { nodes } = explainJson(plan) as { nodes: { operator: string; detail: string; schema: { name: string; type: string }[] }[] };
  return nodes.map((n) => {
    const types = n.schema.map((c) => c.type).join(', ');
    switch (n.operator) {
      case 'Filter':
      case 'Project':
        return n.operator;
      case 'Source':
      case 'Sink':
        return `${n.operator}(${n.detail})`;
      default:
        // Stateful (WindowAssign, WindowAggregate, and whatever comes later): detail and output types.
        // Mini-batching changes when changes are emitted, not the state: a job may resume with it on or off.
        return `${n.operator}(${n.detail.replace(/, miniBatch=\[[^\]]*\]/, '')}) -> [${types}]`;
    }
  });
}

/** Undefined when `next` can resume from `prev`'s checkpoint; otherwise what changed, in words. */
export function planChange(prev: JobPlan, next: JobPlan): string | undefined {
  const a = stateShape(prev);
  const b = stateShape(next);
  if (a.length !== b.length || a.some((x, i) => opName(x) !== opName(b[i]!))) {
    return `its operators were ${a.map(opName).join(' → ')} and are now ${b.map(opName).join(' → ')}`;
  }
  const i = a.findIndex((x, k) => x !== b[k]);
  if (i < 0) return undefined;
  return `operator ${i + 1} was ${a[i]} and is now ${b[i]}`;
}

const opName = (shape: string): string => shape.replace(/\(.*$/s, '');

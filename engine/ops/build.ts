import { compileExpr } from '../expr/index.ts';
import type { PlanNode } from '../plan/plan.ts';
import { accumulatorFor } from './accumulators.ts';
import type { Downstream, OpCounters, Operator } from './operator.ts';
import { FilterOp, ProjectOp } from './stateless.ts';
import { UnnestOp } from './unnest.ts';
import { WindowAggregateOp } from './window-aggregate.ts';
import { WindowAssignOp } from './window-assign.ts';

export interface Pipeline {
  /** Where the source pushes full table rows (physical + computed columns). */
  readonly entry: Downstream;
  /** Operators from the source side to the sink side. */
  readonly operators: readonly Operator[];
  readonly source: Extract<PlanNode, { kind: 'source' }>;
}

/**
 * Turns a plan into a chain of operators ending in `sink`. Each call builds fresh operators with
 * their own state, so one plan can run as several independent pipeline instances.
 */
export function buildPipeline(root: PlanNode, sink: Downstream, counters: OpCounters, timeZone: string): Pipeline {
  const ops: Operator[] = [];
  const ctx = { timeZone };
  let out: Downstream = sink;
  let node = root;
  for (;;) {
    switch (node.kind) {
      case 'source':
        ops.reverse();
        return { entry: out, operators: ops, source: node };
      case 'filter': {
        const op = new FilterOp(compileExpr(node.predicate, ctx), out, counters);
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      case 'project': {
        const op = new ProjectOp(node.exprs.map((e) => compileExpr(e, ctx)), out, counters);
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      case 'unnest': {
        const op = new UnnestOp(compileExpr(node.array, ctx), out, counters);
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      case 'windowAssign': {
        const op = new WindowAssignOp(node.window, node.timeIndex, out);
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      case 'windowAggregate': {
        const keyExprs = node.keys.flatMap((k) => (k.kind === 'expr' ? [compileExpr(k.expr, ctx)] : []));
        const op = new WindowAggregateOp(
          {
            spec: node.window,
            timeIndex: node.timeIndex,
            keys: node.keys,
            keyExprs,
            accumulators: node.aggs.map(accumulatorFor),
            aggArgs: node.aggs.map((a) => (a.arg ? compileExpr(a.arg, ctx) : undefined)),
          },
          out,
          counters,
        );
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      default: {
        const never: never = node;
        throw new Error(`unknown plan node ${String(never)}`);
      }
    }
  }
}

import { compileExpr } from '../expr/index.ts';
import { isUpdating } from '../plan/plan.ts';
import type { PlanNode } from '../plan/plan.ts';
import { accumulatorFor } from './accumulators.ts';
import { takesChanges } from './changelog.ts';
import type { ChangeDownstream } from './changelog.ts';
import { GroupAggregateOp, groupAggConfig } from './group-aggregate.ts';
import type { Downstream, OpCounters, Operator } from './operator.ts';
import { ChangelogFilterOp, ChangelogProjectOp, FilterOp, ProjectOp } from './stateless.ts';
import { UnnestOp } from './unnest.ts';
import { WindowAggregateOp } from './window-aggregate.ts';
import type { WindowAggConfig } from './window-aggregate.ts';
import { WindowAssignOp } from './window-assign.ts';
import { WindowTopNOp } from './window-topn.ts';

export interface Pipeline {
  /** Where the source pushes full table rows (physical + computed columns). */
  readonly entry: Downstream;
  /** Operators from the source side to the sink side. */
  readonly operators: readonly Operator[];
  readonly source: Extract<PlanNode, { kind: 'source' }>;
}

export interface PipelineOptions {
  /** Processing-time clock (state TTL); tests inject a fake one. */
  readonly now?: () => number;
}

/** A window aggregate's compiled configuration (also what a parallel instance pre-aggregates with). */
export function windowAggConfig(node: Extract<PlanNode, { kind: 'windowAggregate' }>, timeZone: string): WindowAggConfig {
  const ctx = { timeZone };
  return {
    spec: node.window,
    timeIndex: node.timeIndex,
    keys: node.keys,
    keyExprs: node.keys.flatMap((k) => (k.kind === 'expr' ? [compileExpr(k.expr, ctx)] : [])),
    accumulators: node.aggs.map(accumulatorFor),
    aggArgs: node.aggs.map((a) => (a.arg ? compileExpr(a.arg, ctx) : undefined)),
  };
}

/**
 * A projection whose output row is its input row: every column of the input, in order, each as it is (the
 * aggregate's columns renamed, e.g. `SELECT uid, COUNT(*) AS posts ... GROUP BY uid`). Its operator hands
 * the rows on instead of copying them (operators never change a row they were given).
 */
function isIdentity(node: Extract<PlanNode, { kind: 'project' }>): boolean {
  const width = node.input.schema.length;
  return node.exprs.length === width && node.exprs.every((e, i) => e.kind === 'input' && e.index === i);
}

/** The downstream of an operator whose output is a changelog: it must take changes. */
function changeOut(out: Downstream | (Downstream & ChangeDownstream), what: string): ChangeDownstream {
  if (!takesChanges(out)) throw new Error(`${what} produces a changelog but its downstream takes only rows`);
  return out;
}

/**
 * Turns a plan into a chain of operators ending in `sink`. Each call builds fresh operators with
 * their own state, so one plan can run as several independent pipeline instances. Nodes of an updating
 * plan (at and above a non-windowed aggregate) become changelog operators; the sink of such a plan must
 * take changes (`pushChanges`). Below the aggregate, operators stay on the plain-rows path.
 */
export function buildPipeline(root: PlanNode, sink: Downstream | (Downstream & ChangeDownstream), counters: OpCounters, timeZone: string, opts: PipelineOptions = {}): Pipeline {
  const ops: Operator[] = [];
  const ctx = { timeZone };
  let out: Downstream | (Downstream & ChangeDownstream) = sink;
  let node = root;
  for (;;) {
    switch (node.kind) {
      case 'source':
        ops.reverse();
        return { entry: out, operators: ops, source: node };
      case 'filter': {
        if (isUpdating(node.input)) {
          const op = new ChangelogFilterOp(compileExpr(node.predicate, ctx), changeOut(out, 'a filter'), counters);
          ops.push(op);
          out = op;
          node = node.input;
          break;
        }
        const op = new FilterOp(compileExpr(node.predicate, ctx), out, counters);
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      case 'project': {
        if (isUpdating(node.input)) {
          const op = new ChangelogProjectOp(node.exprs.map((e) => compileExpr(e, ctx)), changeOut(out, 'a projection'), counters, isIdentity(node));
          ops.push(op);
          out = op;
          node = node.input;
          break;
        }
        const op = new ProjectOp(node.exprs.map((e) => compileExpr(e, ctx)), out, counters, isIdentity(node));
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
        const op = new WindowAggregateOp(windowAggConfig(node, timeZone), out, counters);
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      case 'windowTopN': {
        const op = new WindowTopNOp(
          {
            partitionKeys: node.partitionKeys,
            windowEndIndex: node.windowEndIndex,
            orderBy: node.orderBy.map((k) => ({ fn: compileExpr(k.expr, ctx), desc: k.desc, ...(k.nullsFirst === undefined ? {} : { nullsFirst: k.nullsFirst }) })),
            limit: node.limit,
          },
          out,
          counters,
        );
        ops.push(op);
        out = op;
        node = node.input;
        break;
      }
      case 'groupAggregate': {
        const op = new GroupAggregateOp(groupAggConfig(node, timeZone), changeOut(out, 'an updating aggregate'), counters, opts.now);
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

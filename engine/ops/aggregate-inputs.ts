import type { CompiledExpr } from '../expr/bound.ts';
import { badRow } from './stateless.ts';
import type { OpCounters, Row } from './operator.ts';

/**
 * An aggregate's inputs from one row: its group key values into `keyVals` and its argument values into
 * `argVals` (undefined for COUNT(*)), arrays the caller reuses for every row. Shared by the window and
 * group aggregates and their local (parallel) halves, so that all four judge a row bad the same way: false
 * when an expression fails on its data (the row counted as bad, as Flink would fail a CAST), and any
 * other error thrown on.
 */
export function aggregateInputs(
  keyExprs: readonly CompiledExpr[],
  aggArgs: readonly (CompiledExpr | undefined)[],
  r: Row,
  keyVals: unknown[],
  argVals: unknown[],
  counters: OpCounters,
): boolean {
  try {
    for (let k = 0; k < keyExprs.length; k++) keyVals[k] = keyExprs[k]!(r);
  } catch (e) {
    badRow(counters, e);
    return false;
  }
  return aggregateArgs(aggArgs, r, argVals, counters);
}

/** aggregateInputs() without the keys (evaluated already, without error): the argument values alone. */
export function aggregateArgs(aggArgs: readonly (CompiledExpr | undefined)[], r: Row, argVals: unknown[], counters: OpCounters): boolean {
  try {
    for (let a = 0; a < aggArgs.length; a++) {
      const f = aggArgs[a];
      argVals[a] = f ? f(r) : undefined;
    }
    return true;
  } catch (e) {
    badRow(counters, e);
    return false;
  }
}

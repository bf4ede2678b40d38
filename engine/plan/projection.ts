import type { BoundExpr } from '../expr/bound.ts';
import type { PlanNode } from './plan.ts';

function collect(e: BoundExpr, used: Set<number>): void {
  switch (e.kind) {
    case 'input':
      used.add(e.index);
      return;
    case 'literal':
      return;
    case 'call':
      for (const a of e.args) collect(a, used);
      return;
    case 'cast':
      collect(e.operand, used);
      return;
    case 'case':
      for (const w of e.whens) {
        collect(w.when, used);
        collect(w.then, used);
      }
      if (e.else) collect(e.else, used);
      return;
    default: {
      const never: never = e;
      return never;
    }
  }
}

/**
 * Which physical columns of the source a plan reads (projection pushdown): the decoder can leave
 * the others out. Operators that keep the source's row as a prefix (filters, window assignment, unnest) pass
 * indexes through; the first operator that builds new rows ends the walk.
 */
export function usedPhysicalColumns(root: PlanNode): boolean[] {
  const chain: PlanNode[] = [];
  for (let n: PlanNode = root; ; n = n.input) {
    chain.push(n);
    if (n.kind === 'source') break;
  }
  chain.reverse();
  const source = chain[0] as Extract<PlanNode, { kind: 'source' }>;
  const used = new Set<number>();
  walk: for (const n of chain.slice(1)) {
    switch (n.kind) {
      case 'filter':
        collect(n.predicate, used);
        break;
      case 'windowAssign':
        used.add(n.timeIndex);
        break;
      case 'unnest':
        // Keeps the input row as its prefix (the element goes after it): later indexes below the
        // table's width still name the source's columns.
        collect(n.array, used);
        break;
      case 'windowTopN':
        // Keeps the input row as its prefix (the row number goes after it), as unnest does.
        for (const i of n.partitionKeys) used.add(i);
        for (const k of n.orderBy) collect(k.expr, used);
        break;
      case 'project':
        for (const e of n.exprs) collect(e, used);
        break walk;
      case 'windowAggregate':
        used.add(n.timeIndex);
        for (const k of n.keys) if (k.kind === 'expr') collect(k.expr, used);
        for (const a of n.aggs) if (a.arg) collect(a.arg, used);
        break walk;
      case 'groupAggregate':
        for (const k of n.keys) collect(k, used);
        for (const a of n.aggs) if (a.arg) collect(a.arg, used);
        break walk;
      case 'source':
        break walk;
      default: {
        const never: never = n;
        return never;
      }
    }
  }
  const t = source.table;
  if (t.watermark) {
    used.add(t.watermark.index);
    collect(t.watermark.expr, used);
  }
  // Computed columns read physical ones; a used computed column (or any, to keep it simple and
  // correct when computed columns refer to each other) makes its inputs used.
  for (const c of [...t.computed].reverse()) if (used.has(c.index)) collect(c.expr, used);
  return t.physical.map((_, i) => used.has(i));
}

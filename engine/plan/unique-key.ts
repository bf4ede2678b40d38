import { isUpdating } from './plan.ts';
import type { PlanNode, SinkTable } from './plan.ts';

/**
 * The unique key of an updating plan's output: the output positions holding the GROUP BY columns of its
 * top non-windowed aggregate, in GROUP BY order. Undefined when the output has none (a GROUP BY column is
 * not selected, or no aggregate makes it updating); [] for a global aggregate (one row).
 */
export function uniqueKeyOf(n: PlanNode): number[] | undefined {
  switch (n.kind) {
    case 'groupAggregate':
      return n.keys.map((_, i) => i);
    case 'filter':
      return uniqueKeyOf(n.input);
    case 'project': {
      const inner = uniqueKeyOf(n.input);
      if (!inner) return undefined;
      const out: number[] = [];
      for (const k of inner) {
        // A cast of a key column (INSERT's conversion to the sink's type) still identifies the row.
        const i = n.exprs.findIndex((e) => (e.kind === 'input' && e.index === k) || (e.kind === 'cast' && e.operand.kind === 'input' && e.operand.index === k));
        if (i < 0) return undefined;
        out.push(i);
      }
      return out;
    }
    case 'source':
    case 'unnest':
    case 'windowAssign':
    case 'windowAggregate':
    case 'windowTopN':
      return undefined;
    default: {
      const never: never = n;
      return never;
    }
  }
}

/**
 * Why an updating query cannot go into a sink keyed by its PRIMARY KEY (undefined: it can). Each key of the
 * query's result must be one key of the sink, or an update would leave the old row behind under another key.
 */
export function upsertKeyMismatch(root: PlanNode, sink: SinkTable): string | undefined {
  if (!sink.primaryKey || !isUpdating(root)) return undefined;
  const pk = sink.primaryKey.map((c) => c.toLowerCase());
  const key = uniqueKeyOf(root);
  const names = key?.map((i) => sink.columns[i]?.name ?? root.schema[i]!.name);
  const same = names !== undefined && names.length === pk.length && names.every((c) => pk.includes(c.toLowerCase()));
  if (same) return undefined;
  const has = names === undefined
    ? 'has no unique key among its columns (select every GROUP BY column)'
    : names.length === 0
      ? 'is a single row without a key (a global aggregate)'
      : `is keyed by its GROUP BY columns (${names.join(', ')})`;
  return `the query's result ${has}, but the sink's PRIMARY KEY is (${sink.primaryKey.join(', ')}); make them the same columns`;
}

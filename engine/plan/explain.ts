import type { BoundExpr } from '../expr/bound.ts';
import { UNBOUNDED_MINI_BATCH } from './plan.ts';
import type { JobPlan, PlanNode, WindowSpec } from './plan.ts';
import { typeToString } from './types.ts';

/** Renders a bound expression back to SQL-ish text, naming input columns. */
export function exprToString(e: BoundExpr): string {
  switch (e.kind) {
    case 'literal':
      return e.value === null ? 'NULL' : typeof e.value === 'string' ? `'${e.value.replace(/'/g, "''")}'` : String(e.value);
    case 'input':
      return e.name;
    case 'cast':
      return `${e.safe ? 'TRY_CAST' : 'CAST'}(${exprToString(e.operand)} AS ${typeToString(e.type)})`;
    case 'case':
      return `CASE ${e.whens.map((w) => `WHEN ${exprToString(w.when)} THEN ${exprToString(w.then)}`).join(' ')}${e.else ? ` ELSE ${exprToString(e.else)}` : ''} END`;
    case 'call': {
      const infix = /^[^A-Z]+$|^(AND|OR|LIKE)$/.test(e.fn) && e.args.length === 2;
      if (infix) return `(${exprToString(e.args[0]!)} ${e.fn} ${exprToString(e.args[1]!)})`;
      return `${e.fn}(${e.args.map(exprToString).join(', ')})`;
    }
    default: {
      const never: never = e;
      return never;
    }
  }
}

function describeNode(n: PlanNode): { op: string; detail: string } {
  switch (n.kind) {
    case 'source': {
      const t = n.table;
      const wm = t.watermark ? `, watermark=${t.columns[t.watermark.index]!.name}: ${t.watermark.text}` : '';
      return { op: 'Source', detail: `table=${t.name}, connector=${t.connector}${t.options['topic'] ? `, topic=${t.options['topic']}` : ''}${wm}` };
    }
    case 'filter':
      return { op: 'Filter', detail: exprToString(n.predicate) };
    case 'project':
      return { op: 'Project', detail: n.exprs.map((e, i) => `${exprToString(e)} AS ${n.schema[i]!.name}`).join(', ') };
    case 'unnest':
      return { op: 'Unnest', detail: `${exprToString(n.array)} AS ${n.schema[n.schema.length - 1]!.name}` };
    case 'windowAssign':
      return { op: 'WindowAssign', detail: windowText(n.window) };
    case 'windowAggregate': {
      const keys = n.keys.map((k) => (k.kind === 'expr' ? exprToString(k.expr) : k.kind === 'windowStart' ? 'window_start' : k.kind === 'windowEnd' ? 'window_end' : 'window_time'));
      return { op: 'WindowAggregate', detail: `${windowText(n.window)}, groupBy=[${keys.join(', ')}], aggs=[${n.aggs.map((a) => a.text).join(', ')}]` };
    }
    case 'windowTopN': {
      const keys = n.partitionKeys.map((i) => n.input.schema[i]!.name);
      const order = n.orderBy.map((k) => `${exprToString(k.expr)}${k.desc ? ' DESC' : ''}${k.nullsFirst === undefined ? '' : k.nullsFirst ? ' NULLS FIRST' : ' NULLS LAST'}`);
      return { op: 'WindowTopN', detail: `partitionBy=[${keys.join(', ')}], orderBy=[${order.join(', ')}], limit=${n.limit}, rowNumber=${n.schema[n.schema.length - 1]!.name}` };
    }
    case 'groupAggregate': {
      const ttl = n.stateTtlMs > 0 ? `, stateTtl=${n.stateTtlMs}ms` : '';
      const mb = n.miniBatch ? `, miniBatch=[latency=${n.miniBatch.latencyMs}ms, size=${n.miniBatch.size >= UNBOUNDED_MINI_BATCH ? 'unbounded' : n.miniBatch.size}]` : '';
      return { op: 'GroupAggregate', detail: `groupBy=[${n.keys.map(exprToString).join(', ')}], aggs=[${n.aggs.map((a) => a.text).join(', ')}]${ttl}${mb}` };
    }
    default: {
      const never: never = n;
      return never;
    }
  }
}

function windowText(w: WindowSpec): string {
  return w.kind === 'TUMBLE' ? `TUMBLE(size=${w.size}ms)` : `HOP(slide=${w.slide}ms, size=${w.size}ms)`;
}

function chain(root: PlanNode): PlanNode[] {
  const out: PlanNode[] = [];
  let n: PlanNode | undefined = root;
  while (n) {
    out.push(n);
    n = n.kind === 'source' ? undefined : n.input;
  }
  return out;
}

/** EXPLAIN as text: the operator chain from sink to source, one operator per line. */
export function explainText(plan: JobPlan | { root: PlanNode; sink?: undefined }): string {
  const lines: string[] = [];
  let depth = 0;
  if (plan.sink) {
    lines.push(`Sink(table=${plan.sink.name}, connector=${plan.sink.connector})`);
    depth = 1;
  }
  for (const n of chain(plan.root)) {
    const d = describeNode(n);
    lines.push(`${'  '.repeat(depth)}${d.op}(${d.detail})`);
    depth++;
  }
  return lines.join('\n');
}

/** EXPLAIN as JSON for tools (the console draws it): nodes and edges from source to sink. */
export function explainJson(plan: JobPlan | { root: PlanNode; sink?: undefined }): unknown {
  const nodes = chain(plan.root)
    .reverse()
    .map((n, i) => {
      const d = describeNode(n);
      return { id: i, operator: d.op, detail: d.detail, schema: n.schema.map((c) => ({ name: c.name, type: typeToString(c.type) })) };
    });
  if (plan.sink) nodes.push({ id: nodes.length, operator: 'Sink', detail: `table=${plan.sink.name}, connector=${plan.sink.connector}`, schema: plan.sink.columns.map((c) => ({ name: c.name, type: typeToString(c.type) })) });
  const edges = nodes.slice(1).map((n) => ({ from: n.id - 1, to: n.id }));
  return { nodes, edges };
}

import { bindExpr } from '../expr/bind.ts';
import type { BoundExpr, Scope, ScopeColumn } from '../expr/bound.ts';
import type { Expr, FromItem, Select, SelectItem } from '../sql/ast.ts';
import { SqlError } from '../sql/errors.ts';
import type { Pos } from '../sql/errors.ts';
import type { Statement } from '../sql/statement.ts';
import { isUpdating, sourceOf } from './plan.ts';
import type { AggCall, AggFn, Column, GroupKey, MiniBatch, PlanNode, SinkTable, SortKey, SourceTable, WindowSpec } from './plan.ts';
import { T, isNumeric, sameType, typeToString } from './types.ts';
import type { SqlType } from './types.ts';

type CreateTable = Extract<Statement, { kind: 'createTable' }>;

/** What the planner needs from the catalog. */
export interface PlannerCatalog {
  table(name: string): SourceTable | undefined;
  view(name: string): { readonly query: Select } | undefined;
}

export interface PlannerSettings {
  readonly timeZone: string;
  /** table.exec.state.ttl in ms for updating aggregates (default 0: keep state forever). */
  readonly stateTtlMs?: number;
  /** table.exec.mini-batch.* for updating aggregates (undefined: off, Flink's default). */
  readonly miniBatch?: MiniBatch;
}

const AGGS = new Set(['COUNT', 'SUM', 'MIN', 'MAX', 'AVG']);
const WINDOW_COLS = ['window_start', 'window_end', 'window_time'];

/** Resolves a CREATE TABLE into the table's full row: physical columns, computed columns, watermark. */
export function buildTable(stmt: CreateTable, settings: PlannerSettings): SourceTable {
  const connector = stmt.options['connector'];
  if (!connector) throw new SqlError('option', `Table '${stmt.name}' needs a 'connector' option (e.g. 'connector' = 'kafka')`, stmt.pos);
  const physical: Column[] = [];
  for (const c of stmt.columns) {
    if (c.kind === 'physical') physical.push({ name: c.name, type: c.type });
    else if (c.kind === 'metadata') throw new SqlError('unsupported', `METADATA columns are not supported yet ('${c.name}')`, c.pos);
  }
  const physScope: Scope = { columns: physical.map((c) => ({ name: c.name, tables: [stmt.name], type: c.type })), timeZone: settings.timeZone };
  const columns: Column[] = [...physical];
  const computed: { index: number; expr: BoundExpr }[] = [];
  for (const c of stmt.columns) {
    if (c.kind !== 'computed') continue;
    const expr = bindExpr(c.expr, physScope);
    computed.push({ index: columns.length, expr });
    columns.push({ name: c.name, type: expr.type });
  }
  let watermark: SourceTable['watermark'];
  if (stmt.watermark) {
    const wm = stmt.watermark;
    const index = columns.findIndex((c) => c.name.toLowerCase() === wm.column.toLowerCase());
    const col = columns[index]!;
    if (col.type.kind !== 'TIMESTAMP' && col.type.kind !== 'TIMESTAMP_LTZ') {
      throw new SqlError('type', `WATERMARK FOR '${col.name}': the column must be TIMESTAMP(3) or TIMESTAMP_LTZ(3), not ${typeToString(col.type)}`, wm.pos);
    }
    const fullScope: Scope = { columns: columns.map((c) => ({ name: c.name, tables: [stmt.name], type: c.type })), timeZone: settings.timeZone };
    const expr = bindExpr(wm.expr, fullScope);
    if (expr.type.kind !== 'TIMESTAMP' && expr.type.kind !== 'TIMESTAMP_LTZ') {
      throw new SqlError('type', `The watermark expression must be a timestamp, not ${typeToString(expr.type)}`, wm.expr.pos);
    }
    watermark = { index, expr, text: wm.exprText };
  }
  for (const p of stmt.partitionedBy) {
    if (!columns.some((c) => c.name === p)) throw new SqlError('binding', `PARTITIONED BY '${p}': no such column`, stmt.pos);
  }
  // Only when present, so plans stored before PARTITIONED BY reached sinks keep their exact shape.
  const partitioned = stmt.partitionedBy.length > 0 ? { partitionedBy: stmt.partitionedBy } : {};
  return { name: stmt.name, connector, options: stmt.options, physical, columns, computed, watermark, ...partitioned };
}

interface BoundAggregate {
  readonly items: readonly SelectItem[];
  readonly exprs: readonly BoundExpr[];
  readonly having: BoundExpr | undefined;
  readonly aggs: readonly AggCall[];
  readonly aggSchema: readonly Column[];
}

interface Planned {
  readonly node: PlanNode;
  /** Qualifiers of each column of node.schema. */
  readonly tables: readonly (readonly string[])[];
  /** Set when the FROM was a window TVF and these columns are its window bounds. */
  readonly window?: { readonly spec: WindowSpec; readonly timeIndex: number; readonly startIndex: number; readonly endIndex: number; readonly timeColIndex: number };
  /** The order `SELECT *` lists node.schema in, when it differs from the schema's (UNNEST under a window TVF). */
  readonly starOrder?: readonly number[];
}

export class Planner {
  /** Every table and view name the planned statements read, views included (they are inlined). */
  readonly uses = new Set<string>();

  constructor(
    private readonly catalog: PlannerCatalog,
    private readonly settings: PlannerSettings,
    private readonly viewDepth = 0,
  ) {}

  planQuery(q: Select): PlanNode {
    return this.select(q).node;
  }

  private scope(p: Planned, intercept?: Scope['intercept']): Scope {
    const columns: ScopeColumn[] = p.node.schema.map((c, i) => ({ name: c.name, tables: p.tables[i] ?? [], type: c.type }));
    return { columns, timeZone: this.settings.timeZone, intercept };
  }

  private select(q: Select): Planned {
    if (q.from.length === 0) throw new SqlError('unsupported', 'A query without FROM is not a stream; select from a table', q.pos);
    if (q.from.length > 1) throw new SqlError('unsupported', 'Joins are not supported yet', q.from[1]!.pos);
    if (q.orderBy.length > 0) throw new SqlError('unsupported', 'ORDER BY is not supported on a stream (query a materialized view instead)', q.orderBy[0]!.expr.pos);
    if (q.limit !== undefined) throw new SqlError('unsupported', 'LIMIT is not supported on a stream (query a materialized view instead)', q.pos);
    if (q.distinct) throw new SqlError('unsupported', 'SELECT DISTINCT is not supported yet; GROUP BY the selected columns instead (an updating query: write it to a materialized view or an upsert-kafka table)', q.pos);
    const topN = this.windowTopN(q);
    let input = topN ? topN.ranked : this.from(q.from[0]!);
    const where = topN ? topN.rest : q.where;
    if (where) {
      const predicate = bindExpr(where, this.scope(input, rejectAggregates));
      requireBoolean(predicate, where.pos, 'WHERE');
      input = { ...input, node: { kind: 'filter', input: input.node, predicate, schema: input.node.schema } };
    }
    const hasAgg = q.items.some((it) => containsAggregate(it.expr)) || (q.having !== undefined);
    if (q.groupBy.length > 0 || hasAgg) return this.aggregate(q, input);
    const items = this.expandStars(q.items, input);
    const exprs = items.map((it) => bindExpr(it.expr, this.scope(input, rejectAggregates)));
    const schema = uniqueNames(items.map((it, i) => ({ name: outputName(it, i), type: exprs[i]!.type })), q.pos);
    // A window TVF without aggregation: keep the window columns' qualifiers for an outer query.
    return { node: { kind: 'project', input: input.node, exprs, schema }, tables: schema.map(() => []) };
  }

  /**
   * Window Top-N, as Flink writes it: `SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY
   * window_start, window_end, ... ORDER BY ...) AS rownum FROM <window TVF or window aggregate>) WHERE
   * rownum <= N`. Undefined when q's FROM is not such a subquery. Returns the inner query planned over a
   * windowTopN node (limit N from the outer WHERE) and what remains of the outer WHERE.
   */
  private windowTopN(q: Select): { ranked: Planned; rest: Expr | undefined } | undefined {
    const f = q.from[0];
    if (f?.kind !== 'subquery') return undefined;
    const inner = f.query;
    const overAt = inner.items.findIndex((it) => it.expr.kind === 'over');
    if (overAt < 0) return undefined;
    const item = inner.items[overAt]!;
    const over = item.expr as Extract<Expr, { kind: 'over' }>;
    if (inner.items.some((it, i) => i !== overAt && containsOver(it.expr))) throw new SqlError('unsupported', 'Only one ROW_NUMBER() OVER per query is supported', over.pos);
    if (over.fn !== 'ROW_NUMBER') throw new SqlError('unsupported', `${over.fn}() OVER is not supported yet; Window Top-N takes ROW_NUMBER()`, over.pos);
    if (over.args.length > 0) throw new SqlError('binding', 'ROW_NUMBER() takes no arguments', over.pos);
    if (!item.alias) throw new SqlError('binding', 'Name the ROW_NUMBER() column (ROW_NUMBER() OVER (...) AS rownum) so that the outer query can filter on it', item.pos);
    const alias = item.alias;
    const found = rankLimit(q.where, alias, f.alias);
    if (!found) throw new SqlError('unsupported', `ROW_NUMBER() OVER needs the outer query to keep the first rows: WHERE ${alias} <= N (a Window Top-N)`, over.pos);
    if (inner.groupBy.length > 0 || inner.having || inner.items.some((it) => containsAggregate(it.expr))) {
      throw new SqlError('unsupported', 'Aggregate in a subquery first, then rank its rows: SELECT ..., ROW_NUMBER() OVER (...) FROM (SELECT ... GROUP BY window_start, window_end, ...)', inner.pos);
    }
    if (inner.from.length !== 1) throw new SqlError('unsupported', 'Joins are not supported yet', inner.from[1]?.pos ?? inner.pos);
    if (inner.orderBy.length > 0 || inner.limit !== undefined || inner.distinct) throw new SqlError('unsupported', 'ORDER BY, LIMIT and DISTINCT are not supported next to ROW_NUMBER() OVER', inner.pos);
    let input = this.from(inner.from[0]!);
    if (isUpdating(input.node)) throw new SqlError('unsupported', 'Window Top-N cannot read an updating result (a GROUP BY without a window)', over.pos);
    if (inner.where) {
      const predicate = bindExpr(inner.where, this.scope(input, rejectAggregates));
      requireBoolean(predicate, inner.where.pos, 'WHERE');
      input = { ...input, node: { kind: 'filter', input: input.node, predicate, schema: input.node.schema } };
    }
    const scope = this.scope(input, rejectAggregates);
    const partitionKeys = over.partitionBy.map((e) => {
      const b = bindExpr(e, scope);
      if (b.kind !== 'input') throw new SqlError('unsupported', 'PARTITION BY takes columns', e.pos);
      return b.index;
    });
    const bounds = partitionKeys.map((i) => windowColumnOf(input.node, i));
    const windowEndIndex = partitionKeys[bounds.indexOf('end')];
    if (!bounds.includes('start') || windowEndIndex === undefined) {
      throw new SqlError('unsupported', 'A Top-N must PARTITION BY window_start, window_end of a window TVF or window aggregate (a Top-N over a whole stream is an updating query, not supported yet)', over.partitionBy[0]?.pos ?? over.pos);
    }
    if (over.orderBy.length === 0) throw new SqlError('binding', 'ROW_NUMBER() OVER needs ORDER BY', over.pos);
    const orderBy: SortKey[] = over.orderBy.map((o) => ({ expr: bindExpr(o.expr, scope), desc: o.desc, ...(o.nullsFirst === undefined ? {} : { nullsFirst: o.nullsFirst }) }));
    const width = input.node.schema.length;
    const node: PlanNode = { kind: 'windowTopN', input: input.node, partitionKeys, windowEndIndex, orderBy, limit: found.limit, schema: [...input.node.schema, { name: alias, type: T.bigint }] };
    const rankedInput: Planned = { node, tables: [...input.tables, []], starOrder: input.starOrder ?? [...Array(width).keys()] };
    const items = this.expandStars(
      inner.items.map((it, i) => (i === overAt ? { ...it, expr: { kind: 'column', name: alias, pos: it.pos } } : it)),
      rankedInput,
    );
    const exprs = items.map((it) => bindExpr(it.expr, this.scope(rankedInput, rejectAggregates)));
    const schema = uniqueNames(items.map((it, i) => ({ name: outputName(it, i), type: exprs[i]!.type })), inner.pos);
    const qual = f.alias ? [f.alias] : [];
    return { ranked: { node: { kind: 'project', input: node, exprs, schema }, tables: schema.map(() => qual) }, rest: found.rest };
  }

  private expandStars(items: readonly SelectItem[], input: Planned): SelectItem[] {
    const out: SelectItem[] = [];
    for (const it of items) {
      if (it.expr.kind !== 'star') {
        out.push(it);
        continue;
      }
      const table = it.expr.table;
      let matched = 0;
      const order = input.starOrder ?? input.node.schema.map((_, i) => i);
      order.forEach((i) => {
        const c = input.node.schema[i]!;
        if (table && !(input.tables[i] ?? []).some((t) => t.toLowerCase() === table.toLowerCase())) return;
        matched++;
        out.push({ expr: { kind: 'column', table, name: c.name, pos: it.pos }, alias: c.name, pos: it.pos });
      });
      if (matched === 0) throw new SqlError('binding', `No table '${table}' in FROM for '${table}.*'`, it.pos);
    }
    return out;
  }

  private from(f: FromItem): Planned {
    switch (f.kind) {
      case 'table': {
        this.uses.add(f.name.toLowerCase());
        const t = this.catalog.table(f.name);
        const qual = [f.name, ...(f.alias ? [f.alias] : [])];
        if (t) {
          const node: PlanNode = { kind: 'source', table: t, schema: t.columns };
          return { node, tables: t.columns.map(() => qual) };
        }
        const v = this.catalog.view(f.name);
        if (v) {
          if (this.viewDepth > 16) throw new SqlError('binding', `View '${f.name}' refers to itself`, f.pos);
          let p: Planned;
          try {
            const inner = new Planner(this.catalog, this.settings, this.viewDepth + 1);
            p = inner.select(v.query);
            for (const u of inner.uses) this.uses.add(u);
          } catch (e) {
            // Positions inside the view's stored text mean nothing to this request: point at the use.
            if (e instanceof SqlError) throw new SqlError(e.kind, `View '${f.name}' cannot be used: ${e.message}`, f.pos);
            throw e;
          }
          return { ...p, tables: p.node.schema.map(() => qual) };
        }
        throw new SqlError('binding', `Table or view '${f.name}' not found`, f.pos);
      }
      case 'subquery': {
        const p = this.select(f.query);
        const qual = f.alias ? [f.alias] : [];
        return { ...p, tables: p.node.schema.map((_, i) => [...(p.tables[i] ?? []), ...qual]) };
      }
      case 'window':
        return this.windowTvf(f);
      case 'unnest':
        return this.unnest(f);
      default: {
        const never: never = f;
        return never;
      }
    }
  }

  private windowTvf(f: Extract<FromItem, { kind: 'window' }>): Planned {
    const input = this.from(f.table);
    if (isUpdating(input.node)) {
      // As Flink: a group window needs an insert-only input; its rows would otherwise be final before they are.
      throw new SqlError('unsupported', `${f.window} cannot read an updating result (a GROUP BY without a window); window the inner aggregate, or aggregate the updating result without a window`, f.pos);
    }
    if (f.timeCol.kind !== 'column') throw new SqlError('binding', `DESCRIPTOR of ${f.window} must name a time attribute column`, f.timeCol.pos);
    const tc = f.timeCol;
    const timeIndex = input.node.schema.findIndex((c) => c.name.toLowerCase() === tc.name.toLowerCase());
    if (timeIndex < 0) throw new SqlError('binding', `Column '${tc.name}' not found in ${f.window}'s table`, tc.pos);
    const src = sourceOf(input.node);
    const wmIndex = src?.table.watermark?.index;
    const isRowtime = input.node.kind === 'source' ? wmIndex === timeIndex : src?.table.watermark !== undefined && input.node.schema[timeIndex]!.name === src.table.columns[wmIndex!]!.name;
    if (!isRowtime) {
      throw new SqlError('binding', `${f.window} needs an event-time column: '${tc.name}' has no WATERMARK (declare WATERMARK FOR ${tc.name} AS ${tc.name} - INTERVAL '5' SECOND in the table)`, tc.pos);
    }
    const ms = f.args.map((a) => intervalMillis(a));
    let spec: WindowSpec;
    switch (f.window) {
      case 'TUMBLE':
        if (ms.length < 1 || ms.length > 2) throw new SqlError('binding', 'TUMBLE takes (TABLE t, DESCRIPTOR(col), size [, offset])', f.pos);
        spec = { kind: 'TUMBLE', size: ms[0]!, offset: ms[1] ?? 0 };
        break;
      case 'HOP':
        if (ms.length < 2 || ms.length > 3) throw new SqlError('binding', 'HOP takes (TABLE t, DESCRIPTOR(col), slide, size [, offset])', f.pos);
        if (ms[1]! % ms[0]! !== 0) throw new SqlError('unsupported', 'HOP size must be a whole multiple of the slide', f.args[1]!.pos);
        spec = { kind: 'HOP', slide: ms[0]!, size: ms[1]!, offset: ms[2] ?? 0 };
        break;
      case 'SESSION':
      case 'CUMULATE':
        throw new SqlError('unsupported', `${f.window} windows are not supported yet (TUMBLE and HOP are)`, f.pos);
      default: {
        const never: never = f.window;
        return never;
      }
    }
    for (const v of ms) if (!(v > 0)) throw new SqlError('binding', 'Window sizes must be positive intervals', f.pos);
    const base = input.node.schema.length;
    const schema: Column[] = [...input.node.schema, { name: 'window_start', type: T.timestamp }, { name: 'window_end', type: T.timestamp }, { name: 'window_time', type: T.timestamp }];
    const qual = f.alias ? [f.alias] : [];
    const node: PlanNode = { kind: 'windowAssign', input: input.node, window: spec, timeIndex, schema };
    return {
      node,
      tables: schema.map((_, i) => [...(i < base ? input.tables[i] ?? [] : []), ...qual]),
      window: { spec, timeIndex, startIndex: base, endIndex: base + 1, timeColIndex: base + 2 },
    };
  }

  /**
   * `input CROSS JOIN UNNEST(array) AS t(col)`. Over a window TVF the unnest goes below the window
   * assignment (windowAssign(unnest(x)), the element before the window columns), so that a window
   * aggregate can still fuse with the assignment and read the unnested rows; `SELECT *` keeps Flink's
   * order (window columns, then the element) through starOrder.
   */
  private unnest(f: Extract<FromItem, { kind: 'unnest' }>): Planned {
    const left = this.from(f.input);
    if (isUpdating(left.node)) throw new SqlError('unsupported', 'UNNEST cannot read an updating result (a GROUP BY without a window)', f.pos);
    const qual = f.alias ? [f.alias] : [];
    const elementOf = (array: BoundExpr): SqlType => {
      if (array.type.kind === 'ARRAY') return array.type.element;
      if (array.type.kind === 'NULL') return T.string;
      throw new SqlError('type', `UNNEST needs an ARRAY, not ${typeToString(array.type)}`, f.array.pos);
    };
    if (left.node.kind === 'windowAssign' && left.window) {
      const assign = left.node;
      const base = assign.input.schema.length;
      const below: Planned = { node: assign.input, tables: left.tables.slice(0, base) };
      const array = bindExpr(f.array, this.scope(below, rejectAggregates));
      const schema: Column[] = [...assign.input.schema, { name: f.column, type: elementOf(array) }];
      const node: PlanNode = { kind: 'unnest', input: assign.input, array, schema };
      const wschema: Column[] = [...schema, ...assign.schema.slice(base)];
      const tables = [...left.tables.slice(0, base), qual, ...left.tables.slice(base)];
      const starOrder = [...Array(base).keys(), base + 1, base + 2, base + 3, base];
      return {
        node: { kind: 'windowAssign', input: node, window: assign.window, timeIndex: assign.timeIndex, schema: wschema },
        tables,
        window: { ...left.window, startIndex: base + 1, endIndex: base + 2, timeColIndex: base + 3 },
        starOrder,
      };
    }
    const array = bindExpr(f.array, this.scope(left, rejectAggregates));
    const schema: Column[] = [...left.node.schema, { name: f.column, type: elementOf(array) }];
    return {
      node: { kind: 'unnest', input: left.node, array, schema },
      tables: [...left.tables, qual],
      ...(left.window ? { window: left.window } : {}),
      ...(left.starOrder ? { starOrder: [...left.starOrder, schema.length - 1] } : {}),
    };
  }

  private aggregate(q: Select, input: Planned): Planned {
    const win = input.window;
    const windowed = win !== undefined && (input.node.kind === 'windowAssign' || (input.node.kind === 'filter' && input.node.input.kind === 'windowAssign'));
    if (!windowed) return this.groupAggregate(q, input);
    const inScope = this.scope(input, rejectAggregates);
    const keys: GroupKey[] = [];
    const keyExprs: Expr[] = [];
    const keyCols: Column[] = [];
    let hasStart = false;
    let hasEnd = false;
    for (const g of q.groupBy) {
      const b = bindExpr(g, inScope);
      keyExprs.push(g);
      if (b.kind === 'input' && b.index === win.startIndex) {
        keys.push({ kind: 'windowStart' });
        hasStart = true;
      } else if (b.kind === 'input' && b.index === win.endIndex) {
        keys.push({ kind: 'windowEnd' });
        hasEnd = true;
      } else if (b.kind === 'input' && b.index === win.timeColIndex) keys.push({ kind: 'windowTime' });
      else keys.push({ kind: 'expr', expr: b });
      keyCols.push({ name: g.kind === 'column' ? g.name : `$key${keys.length - 1}`, type: b.type });
    }
    if (!hasStart && !hasEnd) {
      throw new SqlError('unsupported', 'A window aggregate must GROUP BY window_start, window_end (otherwise it is an updating query)', q.groupBy[0]?.pos ?? q.pos);
    }
    const bound = this.bindAggregateOutput(q, inScope, keyExprs, keyCols);
    const windowInput = input.node.kind === 'windowAssign' ? input.node.input : input.node.kind === 'filter' && input.node.input.kind === 'windowAssign' ? rewireFilter(input.node, input.node.input) : input.node;
    const agg: PlanNode = { kind: 'windowAggregate', input: windowInput, window: win.spec, timeIndex: win.timeIndex, keys, aggs: bound.aggs, schema: bound.aggSchema };
    return this.aboveAggregate(q, agg, bound);
  }

  /**
   * GROUP BY without a window (or an aggregate without GROUP BY): an updating aggregate, whose output is a
   * changelog (DESIGN §2). Its input may itself be updating (an aggregate over an aggregate).
   */
  private groupAggregate(q: Select, input: Planned): Planned {
    const inScope = this.scope(input, rejectAggregates);
    const keys: BoundExpr[] = [];
    const keyCols: Column[] = [];
    for (const g of q.groupBy) {
      const b = bindExpr(g, inScope);
      keys.push(b);
      keyCols.push({ name: g.kind === 'column' ? g.name : `$key${keys.length - 1}`, type: b.type });
    }
    const bound = this.bindAggregateOutput(q, inScope, q.groupBy, keyCols);
    const agg: PlanNode = { kind: 'groupAggregate', input: input.node, keys, aggs: bound.aggs, stateTtlMs: this.settings.stateTtlMs ?? 0, ...(this.settings.miniBatch ? { miniBatch: this.settings.miniBatch } : {}), schema: bound.aggSchema };
    return this.aboveAggregate(q, agg, bound);
  }

  /** Binds the select list and HAVING against an aggregate's output (keys, then aggregates); aggregates are collected on the way. */
  private bindAggregateOutput(q: Select, inScope: Scope, keyExprs: readonly Expr[], keyCols: readonly Column[]): BoundAggregate {
    const aggs: AggCall[] = [];
    const aggKeys: string[] = [];
    const outColumns = (): ScopeColumn[] => [
      ...keyCols.map((c) => ({ name: c.name, tables: [], type: c.type })),
      ...aggs.map((a, i) => ({ name: `$agg${i}`, tables: [], type: a.type })),
    ];
    const keyShapes = keyExprs.map(shapeOf);
    const intercept = (e: Expr): BoundExpr | undefined => {
      const shape = shapeOf(e);
      const k = keyShapes.indexOf(shape);
      if (k >= 0) return { kind: 'input', index: k, name: keyCols[k]!.name, type: keyCols[k]!.type };
      if (e.kind === 'call' && AGGS.has(e.name)) {
        const existing = aggKeys.indexOf(shape);
        if (existing >= 0) return { kind: 'input', index: keyCols.length + existing, name: `$agg${existing}`, type: aggs[existing]!.type };
        const agg = bindAgg(e, inScope);
        aggs.push(agg);
        aggKeys.push(shape);
        return { kind: 'input', index: keyCols.length + aggs.length - 1, name: `$agg${aggs.length - 1}`, type: agg.type };
      }
      if (e.kind === 'column') {
        const inCol = inScope.columns.find((c) => c.name.toLowerCase() === e.name.toLowerCase());
        if (inCol) throw new SqlError('binding', `Column '${e.name}' must appear in GROUP BY or be used in an aggregate function`, e.pos);
      }
      return undefined;
    };
    const items = q.items.map((it) => {
      if (it.expr.kind === 'star') throw new SqlError('binding', 'SELECT * cannot be used with GROUP BY', it.pos);
      return it;
    });
    const live: Scope = { get columns() { return outColumns(); }, timeZone: this.settings.timeZone, intercept };
    const exprs = items.map((it) => bindExpr(it.expr, live));
    const having = q.having ? bindExpr(q.having, live) : undefined;
    if (having && q.having) requireBoolean(having, q.having.pos, 'HAVING');
    const aggSchema: Column[] = [...keyCols, ...aggs.map((a, i) => ({ name: `$agg${i}`, type: a.type }))];
    return { items, exprs, having, aggs, aggSchema };
  }

  /** HAVING (a filter) and the select list (a projection) over an aggregate. */
  private aboveAggregate(q: Select, agg: PlanNode, bound: BoundAggregate): Planned {
    let node = agg;
    if (bound.having) node = { kind: 'filter', input: node, predicate: bound.having, schema: bound.aggSchema };
    const schema = uniqueNames(bound.items.map((it, i) => ({ name: outputName(it, i), type: bound.exprs[i]!.type })), q.pos);
    node = { kind: 'project', input: node, exprs: bound.exprs, schema };
    return { node, tables: schema.map(() => []) };
  }

  /** INSERT INTO sink SELECT ...: plans the query and checks it fits the sink's columns. */
  planInsert(stmt: Extract<Statement, { kind: 'insert' }>, sink: SinkTable): PlanNode {
    let root = this.planQuery(stmt.query);
    const target = stmt.columns
      ? stmt.columns.map((n) => {
          const c = sink.columns.find((s) => s.name.toLowerCase() === n.toLowerCase());
          if (!c) throw new SqlError('binding', `Column '${n}' not found in sink '${sink.name}'`, stmt.sinkPos);
          return c;
        })
      : sink.columns;
    if (root.schema.length !== target.length) {
      throw new SqlError(
        'type',
        `The query returns ${root.schema.length} columns but sink '${sink.name}' has ${target.length} (${target.map((c) => c.name).join(', ')})`,
        stmt.query.pos,
      );
    }
    const exprs: BoundExpr[] = [];
    let needsCast = false;
    root.schema.forEach((c, i) => {
      const want = target[i]!;
      const input: BoundExpr = { kind: 'input', index: i, name: c.name, type: c.type };
      if (sameType(c.type, want.type)) exprs.push(input);
      else if (assignable(c.type, want.type)) {
        needsCast = true;
        exprs.push({ kind: 'cast', operand: input, safe: false, type: want.type });
      } else {
        const item = stmt.query.items[i];
        throw new SqlError('type', `Column ${i + 1} ('${c.name}') is ${typeToString(c.type)} but sink column '${want.name}' is ${typeToString(want.type)}`, item?.pos ?? stmt.query.pos);
      }
    });
    // Reorder/fill when the INSERT names a subset of the sink's columns.
    if (stmt.columns) {
      const full = sink.columns.map((sc): BoundExpr => {
        const k = target.indexOf(sc);
        return k >= 0 ? exprs[k]! : { kind: 'literal', value: null, type: sc.type };
      });
      return { kind: 'project', input: root, exprs: full, schema: sink.columns };
    }
    if (needsCast) root = { kind: 'project', input: root, exprs, schema: sink.columns };
    return root;
  }
}

/**
 * Where to point an error about a query being updating: the first GROUP BY (or aggregate) met from the
 * outside in. For an updating plan that is its non-windowed aggregate or an aggregate over one.
 */
export function updatingPos(q: Select): Pos | undefined {
  if (q.groupBy.length > 0) return q.groupBy[0]!.pos;
  if (q.items.some((it) => containsAggregate(it.expr))) return q.pos;
  for (const f of q.from) {
    if (f.kind === 'subquery') {
      const p = updatingPos(f.query);
      if (p) return p;
    }
  }
  return undefined;
}

/** Whether output column `index` of `n` is the window_start or window_end of a window TVF below it. */
function windowColumnOf(n: PlanNode, index: number): 'start' | 'end' | undefined {
  switch (n.kind) {
    case 'windowAssign': {
      const w = n.schema.length;
      return index === w - 3 ? 'start' : index === w - 2 ? 'end' : undefined;
    }
    case 'windowAggregate': {
      const k = n.keys[index];
      return k?.kind === 'windowStart' ? 'start' : k?.kind === 'windowEnd' ? 'end' : undefined;
    }
    case 'project': {
      const e = n.exprs[index];
      return e?.kind === 'input' ? windowColumnOf(n.input, e.index) : undefined;
    }
    case 'filter':
    case 'windowTopN':
      return windowColumnOf(n.input, index);
    case 'unnest':
      return index < n.input.schema.length ? windowColumnOf(n.input, index) : undefined;
    case 'source':
    case 'groupAggregate':
      return undefined;
    default: {
      const never: never = n;
      return never;
    }
  }
}

/**
 * The Top-N bound in an outer WHERE: a conjunct `rownum <= N`, `rownum < N`, `rownum = 1`, `N >= rownum`,
 * `N > rownum` or `rownum BETWEEN 1 AND N` on the ranking column; the other conjuncts are the rest.
 */
function rankLimit(where: Expr | undefined, alias: string, qualifier: string | undefined): { limit: number; rest: Expr | undefined } | undefined {
  if (!where) return undefined;
  const conjuncts: Expr[] = [];
  const split = (e: Expr): void => {
    if (e.kind === 'binary' && e.op === 'AND') {
      split(e.left);
      split(e.right);
    } else conjuncts.push(e);
  };
  split(where);
  const isRank = (e: Expr): boolean => e.kind === 'column' && e.name.toLowerCase() === alias.toLowerCase() && (!e.table || e.table.toLowerCase() === qualifier?.toLowerCase());
  const int = (e: Expr): number | undefined => (e.kind === 'literal' && typeof e.value === 'number' && Number.isInteger(e.value) ? e.value : undefined);
  const flip: Record<string, string> = { '<=': '>=', '<': '>', '>=': '<=', '>': '<', '=': '=' };
  for (let i = 0; i < conjuncts.length; i++) {
    const c = conjuncts[i]!;
    let limit: number | undefined;
    if (c.kind === 'binary' && (isRank(c.left) || isRank(c.right))) {
      const op = isRank(c.left) ? c.op : flip[c.op];
      const n = int(isRank(c.left) ? c.right : c.left);
      if (n !== undefined) limit = op === '<=' ? n : op === '<' ? n - 1 : op === '=' && n === 1 ? 1 : undefined;
    } else if (c.kind === 'between' && !c.negated && isRank(c.operand) && int(c.low) === 1) {
      limit = int(c.high);
    }
    if (limit === undefined) continue;
    if (limit < 1) throw new SqlError('binding', `The Top-N bound keeps no row (${alias} < 1)`, c.pos);
    const others = conjuncts.filter((_, k) => k !== i);
    const rest = others.reduce<Expr | undefined>((acc, e) => (acc ? { kind: 'binary', op: 'AND', left: acc, right: e, pos: acc.pos } : e), undefined);
    return { limit, rest };
  }
  return undefined;
}

function containsOver(e: Expr): boolean {
  let found = false;
  walk(e, (x) => {
    if (x.kind === 'over') found = true;
  });
  return found;
}

function rewireFilter(filter: Extract<PlanNode, { kind: 'filter' }>, assign: Extract<PlanNode, { kind: 'windowAssign' }>): PlanNode {
  // The filter's predicate may read window columns; the window aggregate computes those itself, so
  // keep the filter below the aggregate only when it reads input columns alone.
  const width = assign.input.schema.length;
  if (maxInput(filter.predicate) >= width) {
    throw new SqlError('unsupported', 'WHERE on window_start/window_end before aggregation is not supported; use HAVING', { line: 1, column: 1, offset: 0 });
  }
  return { kind: 'filter', input: assign.input, predicate: filter.predicate, schema: assign.input.schema };
}

function maxInput(e: BoundExpr): number {
  switch (e.kind) {
    case 'input':
      return e.index;
    case 'literal':
      return -1;
    case 'call':
      return Math.max(-1, ...e.args.map(maxInput));
    case 'cast':
      return maxInput(e.operand);
    case 'case':
      return Math.max(-1, ...e.whens.flatMap((w) => [maxInput(w.when), maxInput(w.then)]), e.else ? maxInput(e.else) : -1);
    default: {
      const never: never = e;
      return never;
    }
  }
}


function bindAgg(e: Extract<Expr, { kind: 'call' }>, scope: Scope): AggCall {
  const name = e.name as 'COUNT' | 'SUM' | 'MIN' | 'MAX' | 'AVG';
  if (e.star) {
    if (name !== 'COUNT') throw new SqlError('binding', `${name}(*) is not valid; only COUNT(*)`, e.pos);
    return { fn: 'COUNT_STAR', arg: undefined, distinct: false, type: T.bigint, text: 'COUNT(*)' };
  }
  if (e.args.length !== 1) throw new SqlError('binding', `${name} takes exactly one argument`, e.pos);
  const argExpr = e.args[0]!;
  if (containsAggregate(argExpr)) throw new SqlError('binding', 'Aggregate functions cannot be nested', argExpr.pos);
  const arg = bindExpr(argExpr, scope);
  let type: SqlType;
  switch (name) {
    case 'COUNT':
      type = T.bigint;
      break;
    case 'SUM':
    case 'AVG':
      if (!isNumeric(arg.type)) throw new SqlError('type', `${name} needs a numeric argument, not ${typeToString(arg.type)}`, argExpr.pos);
      type = arg.type.kind === 'DECIMAL' && name === 'SUM' ? T.decimal(38, arg.type.scale) : arg.type;
      break;
    case 'MIN':
    case 'MAX':
      if (arg.type.kind === 'ARRAY' || arg.type.kind === 'ROW') throw new SqlError('type', `${name} cannot compare ${typeToString(arg.type)}`, argExpr.pos);
      type = arg.type;
      break;
    default:
      throw new SqlError('unsupported', `Aggregate function ${name} is not supported`, e.pos);
  }
  const fn: AggFn = name;
  return { fn, arg, distinct: e.distinct, type, text: `${name}(${e.distinct ? 'DISTINCT ' : ''}${exprText(argExpr)})` };
}

function exprText(e: Expr): string {
  return e.kind === 'column' ? (e.table ? `${e.table}.${e.name}` : e.name) : '...';
}

const rejectAggregates = (e: Expr): BoundExpr | undefined => {
  if (e.kind === 'call' && AGGS.has(e.name)) throw new SqlError('binding', `Aggregate function ${e.name} is not allowed here`, e.pos);
  return undefined;
};

function containsAggregate(e: Expr): boolean {
  let found = false;
  walk(e, (x) => {
    if (x.kind === 'call' && AGGS.has(x.name)) found = true;
  });
  return found;
}

function walk(e: Expr, f: (e: Expr) => void): void {
  f(e);
  for (const v of Object.values(e)) {
    if (v && typeof v === 'object') {
      if (Array.isArray(v)) {
        for (const x of v) {
          if (x && typeof x === 'object' && 'kind' in x) walk(x as Expr, f);
          else if (x && typeof x === 'object') for (const y of Object.values(x)) if (y && typeof y === 'object' && 'kind' in y) walk(y as Expr, f);
        }
      } else if ('kind' in v && 'pos' in v) walk(v as Expr, f);
    }
  }
}

/** A position-free canonical form of an expression, to match SELECT items with GROUP BY keys. */
function shapeOf(e: Expr): string {
  return JSON.stringify(e, (k, v) => (k === 'pos' ? undefined : k === 'name' || k === 'table' ? (typeof v === 'string' ? v.toLowerCase() : v) : v));
}

function intervalMillis(e: Expr): number {
  if (e.kind !== 'interval') throw new SqlError('binding', `Expected an INTERVAL like INTERVAL '1' MINUTE`, e.pos);
  return e.millis;
}

function requireBoolean(e: BoundExpr, pos: Pos, where: string): void {
  if (e.type.kind !== 'BOOLEAN' && e.type.kind !== 'NULL') throw new SqlError('type', `${where} needs a BOOLEAN condition, not ${typeToString(e.type)}`, pos);
}

function outputName(it: SelectItem, i: number): string {
  if (it.alias) return it.alias;
  if (it.expr.kind === 'column') return it.expr.name;
  if (it.expr.kind === 'field') return it.expr.name;
  return `EXPR$${i}`;
}

function uniqueNames(cols: Column[], pos: Pos): Column[] {
  const seen = new Set<string>();
  for (const c of cols) {
    const k = c.name.toLowerCase();
    if (seen.has(k)) throw new SqlError('binding', `Duplicate output column '${c.name}'; give it an alias with AS`, pos);
    seen.add(k);
  }
  return cols;
}

function assignable(from: SqlType, to: SqlType): boolean {
  if (from.kind === 'NULL') return true;
  if (isNumeric(from) && isNumeric(to)) return true;
  if ((from.kind === 'TIMESTAMP' || from.kind === 'TIMESTAMP_LTZ') && (to.kind === 'TIMESTAMP' || to.kind === 'TIMESTAMP_LTZ')) return true;
  if (to.kind === 'STRING') return from.kind !== 'ARRAY' && from.kind !== 'ROW';
  return false;
}

export { WINDOW_COLS };

import type { BinaryOp, Expr, FromItem, OrderItem, Select, SelectItem, TimeUnit, WindowKind } from './ast.ts';
import { SqlError, posAt } from './errors.ts';
import type { Pos } from './errors.ts';
import { CAST_FN, CEIL_FN, FLOOR_FN, TRY_CAST_FN, UNNEST_FN } from './rewrite.ts';
import type { Rewritten } from './rewrite.ts';

/* node-sql-parser's tree is untyped JSON for our purposes; this module is the only place that reads it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type N = any;

const UNIT_MS: Record<string, number> = {
  MILLISECOND: 1,
  SECOND: 1000,
  MINUTE: 60_000,
  HOUR: 3_600_000,
  DAY: 86_400_000,
  WEEK: 7 * 86_400_000,
};

const WINDOWS: readonly WindowKind[] = ['TUMBLE', 'HOP', 'SESSION', 'CUMULATE'];

export class Converter {
  constructor(
    readonly text: string,
    readonly side: Rewritten,
    /** node-sql-parser trims leading whitespace; its offsets are relative to the trimmed text. */
    readonly shift: number,
  ) {}

  private pos(n: N, fallback: Pos): Pos {
    const off = n?.loc?.start?.offset;
    return typeof off === 'number' ? posAt(this.text, off + this.shift) : fallback;
  }

  private unsupported(what: string, pos: Pos): SqlError {
    return new SqlError('unsupported', `${what} is not supported`, pos);
  }

  select(n: N, fallback: Pos): Select {
    const pos = this.pos(n, fallback);
    if (n.type !== 'select') throw this.unsupported(`Statement type '${n.type}'`, pos);
    if (n.with) throw this.unsupported('WITH (common table expressions)', pos);
    if (n._next || n.set_op) throw this.unsupported('UNION/INTERSECT/EXCEPT', pos);
    const items: SelectItem[] = (n.columns as N[]).map((col) => {
      const p = this.pos(col, pos);
      if (col.expr?.type === 'column_ref' && col.expr.column === '*') {
        const table = ident(col.expr.table);
        return { expr: { kind: 'star', table, pos: p }, pos: p };
      }
      const alias = typeof col.as === 'string' ? col.as : col.as ? ident(col.as) : undefined;
      return { expr: this.expr(col.expr, p), alias, pos: p };
    });
    const from: FromItem[] = [];
    for (const f of (n.from ?? []) as N[]) {
      // An UNNEST item is a lateral join with the item before it.
      if (f.expr?.type === 'function' && fnName(f.expr).toUpperCase().startsWith(UNNEST_FN)) {
        const prev = from.pop();
        const upos = this.pos(f.expr, pos);
        if (f.join) throw this.unsupported(`${f.join} UNNEST (use CROSS JOIN UNNEST)`, upos);
        if (!prev) throw this.unsupported('UNNEST without a table before it (write FROM t CROSS JOIN UNNEST(...) AS u(col))', upos);
        from.push(this.unnest(f, prev, upos));
        continue;
      }
      from.push(this.from(f, pos));
    }
    const groupBy = (n.groupby?.columns ?? []).map((g: N) => this.expr(g, pos));
    const orderBy = this.orderItems(n.orderby, pos);
    let limit: number | undefined;
    const lv = n.limit?.value as N[] | undefined;
    if (lv && lv.length > 0) {
      if (lv.length > 1) throw this.unsupported('LIMIT with OFFSET', pos);
      limit = Number(lv[0].value);
    }
    return {
      kind: 'select',
      distinct: n.distinct?.type === 'DISTINCT',
      items,
      from,
      where: n.where ? this.expr(n.where, pos) : undefined,
      groupBy,
      having: n.having ? this.expr(n.having, pos) : undefined,
      orderBy,
      limit,
      pos,
    };
  }

  private unnest(f: N, input: FromItem, pos: Pos): FromItem {
    const side = this.side.unnests[Number(fnName(f.expr).slice(UNNEST_FN.length))]!;
    const args: N[] = f.expr.args?.value ?? [];
    if (args.length !== 1) throw this.unsupported('UNNEST of several arrays', pos);
    if (side.columns.length !== 1) {
      throw new SqlError('binding', side.columns.length === 0 ? 'UNNEST needs a name for its column: UNNEST(...) AS t(name)' : 'UNNEST of an array gives one column; name exactly one: AS t(name)', pos);
    }
    return { kind: 'unnest', input, array: this.expr(args[0], pos), alias: side.alias, column: side.columns[0]!, pos };
  }

  private from(f: N, parent: Pos): FromItem {
    const pos = this.pos(f, parent);
    if (f.join) throw this.unsupported(`${f.join}`, pos);
    const alias = f.as ? (typeof f.as === 'string' ? f.as : ident(f.as)) : undefined;
    if (f.expr?.ast) return { kind: 'subquery', query: this.select(f.expr.ast, pos), alias, pos };
    if (f.expr?.type === 'function') {
      const name = fnName(f.expr).toUpperCase() as WindowKind;
      const fpos = this.pos(f.expr, pos);
      if (!WINDOWS.includes(name)) throw this.unsupported(`Table function ${name}`, fpos);
      const args: N[] = f.expr.args?.value ?? [];
      if (args.length < 3) throw new SqlError('binding', `${name} needs a table, DESCRIPTOR(time column) and interval arguments`, fpos);
      const t = args[0];
      if (t.type !== 'column_ref') throw new SqlError('binding', `The first argument of ${name} must be TABLE name`, this.pos(t, fpos));
      const table: FromItem = { kind: 'table', name: colName(t), pos: this.pos(t, fpos) };
      return { kind: 'window', window: name, table, timeCol: this.expr(args[1], fpos), args: args.slice(2).map((a) => this.expr(a, fpos)), alias, pos: fpos };
    }
    if (typeof f.table === 'string') return { kind: 'table', name: f.table, alias, pos };
    throw this.unsupported('This FROM item', pos);
  }

  expr(n: N, parent: Pos): Expr {
    const pos = this.pos(n, parent);
    let e = this.exprInner(n, pos);
    for (const idx of n?.array_index ?? []) e = { kind: 'index', operand: e, index: this.expr(idx.index, pos), pos };
    return e;
  }

  private exprInner(n: N, pos: Pos): Expr {
    switch (n.type) {
      case 'bigint':
      case 'number': {
        const v = typeof n.value === 'number' ? n.value : Number(n.value);
        return { kind: 'literal', value: v, pos };
      }
      case 'single_quote_string':
      case 'string':
        return { kind: 'literal', value: String(n.value).replace(/''/g, "'"), pos };
      case 'bool':
        return { kind: 'literal', value: Boolean(n.value), pos };
      case 'null':
        return { kind: 'literal', value: null, pos };
      case 'timestamp':
      case 'datetime':
        return { kind: 'timestampLiteral', text: String(n.value), type: 'TIMESTAMP', pos };
      case 'date':
        return { kind: 'timestampLiteral', text: String(n.value), type: 'DATE', pos };
      case 'interval': {
        const unit = String(n.unit ?? '').toUpperCase().replace(/S$/, '');
        const ms = UNIT_MS[unit];
        const raw = String(n.expr?.value ?? '');
        const amount = Number(raw);
        if (ms === undefined) throw this.unsupported(`INTERVAL unit '${n.unit}'`, pos);
        if (!Number.isFinite(amount)) throw new SqlError('syntax', `Invalid interval '${raw}'`, pos);
        return { kind: 'interval', millis: amount * ms, text: `INTERVAL '${raw}' ${unit}`, pos };
      }
      case 'column_ref': {
        if (n.column === '*') return { kind: 'star', table: ident(n.table), pos };
        if (n.schema) {
          // a.b.c: table a, column b, field c
          const base: Expr = { kind: 'column', table: ident(n.schema), name: ident(n.table)!, pos };
          return { kind: 'field', operand: base, name: colName(n), pos };
        }
        return { kind: 'column', table: ident(n.table), name: colName(n), pos };
      }
      case 'star':
        return { kind: 'star', pos };
      case 'binary_expr':
        return this.binary(n, pos);
      case 'unary_expr': {
        const op = String(n.operator).toUpperCase();
        const operand = this.expr(n.expr, pos);
        if (op === 'NOT' || op === '!') return { kind: 'unary', op: 'NOT', operand, pos };
        if (op === '-' || op === '+') return { kind: 'unary', op, operand, pos };
        throw this.unsupported(`Operator ${op}`, pos);
      }
      case 'case': {
        const args: N[] = n.args ?? [];
        const whens = args.filter((a) => a.type === 'when').map((a) => ({ when: this.expr(a.cond, pos), then: this.expr(a.result, pos) }));
        const el = args.find((a) => a.type === 'else');
        return { kind: 'case', operand: n.expr ? this.expr(n.expr, pos) : undefined, whens, else: el ? this.expr(el.result, pos) : undefined, pos };
      }
      case 'aggr_func': {
        const name = String(n.name).toUpperCase();
        if (n.over) throw this.unsupported('OVER windows', pos);
        const a = n.args ?? {};
        const star = a.expr?.type === 'star';
        const args = star || !a.expr ? [] : [this.expr(a.expr, pos)];
        return { kind: 'call', name, args, distinct: !!a.distinct, star, pos };
      }
      case 'function':
        return this.call(n, pos);
      case 'cast':
        throw this.unsupported('This form of CAST', pos);
      case 'expr_list':
        if (Array.isArray(n.value) && n.value.length === 1) return this.expr(n.value[0], pos);
        throw this.unsupported('A list of values here', pos);
      default:
        if (n.ast) throw this.unsupported('Subqueries in expressions', pos);
        throw this.unsupported(`Expression of type '${n.type}'`, pos);
    }
  }

  private orderItems(items: N[] | null | undefined, pos: Pos): OrderItem[] {
    return (items ?? []).map((o: N) => {
      const nulls = typeof o.nulls === 'string' ? o.nulls.toUpperCase() : '';
      const item: OrderItem = { expr: this.expr(o.expr, pos), desc: o.type === 'DESC' };
      return nulls.includes('FIRST') ? { ...item, nullsFirst: true } : nulls.includes('LAST') ? { ...item, nullsFirst: false } : item;
    });
  }

  /** `fn(...) OVER (PARTITION BY ... ORDER BY ...)`; a named window or a frame clause is not supported. */
  private over(n: N, name: string, args: Expr[], pos: Pos): Expr {
    const spec: N = n.over?.as_window_specification?.window_specification;
    if (!spec || typeof n.over.as_window_specification === 'string') throw this.unsupported('A named window in OVER', pos);
    if (spec.window_frame_clause) throw this.unsupported('A window frame (ROWS/RANGE) in OVER', pos);
    const partitionBy: Expr[] = (spec.partitionby ?? []).map((p: N) => this.expr(p.expr ?? p, pos));
    return { kind: 'over', fn: name, args, partitionBy, orderBy: this.orderItems(spec.orderby, pos), pos };
  }

  private call(n: N, pos: Pos): Expr {
    const name = fnName(n).toUpperCase();
    const rawArgs: N[] = n.args?.value ?? (n.args ? [n.args] : []);
    const args = rawArgs.filter((a) => a && a.type !== undefined).map((a) => this.expr(a, pos));
    if (n.over) return this.over(n, name, args, pos);
    if (name === CAST_FN || name === TRY_CAST_FN) {
      const idx = Number((args[1] as { value: number }).value);
      return { kind: 'cast', operand: args[0]!, type: this.side.castTypes[idx]!, safe: name === TRY_CAST_FN, pos };
    }
    if (name === FLOOR_FN || name === CEIL_FN) {
      const idx = Number((args[1] as { value: number }).value);
      return { kind: 'floorCeil', fn: name === FLOOR_FN ? 'FLOOR' : 'CEIL', operand: args[0]!, unit: this.side.units[idx] as TimeUnit, pos };
    }
    if (name.startsWith(UNNEST_FN)) throw this.unsupported('UNNEST in an expression (it goes in FROM: FROM t CROSS JOIN UNNEST(...) AS u(col))', pos);
    const distinct = !!n.args?.distinct;
    return { kind: 'call', name, args, distinct, star: false, pos };
  }

  private binary(n: N, pos: Pos): Expr {
    const op = String(n.operator).toUpperCase();
    const left = this.expr(n.left, pos);
    switch (op) {
      case 'IS':
      case 'IS NOT': {
        const negated = op === 'IS NOT';
        if (n.right?.type === 'null') return { kind: 'isNull', operand: left, negated, pos };
        if (n.right?.type === 'bool') return { kind: 'isBool', operand: left, value: !!n.right.value, negated, pos };
        throw this.unsupported(`IS ${n.right?.type}`, pos);
      }
      case 'IN':
      case 'NOT IN': {
        if (n.right?.ast || n.right?.value?.[0]?.ast) throw this.unsupported('IN (subquery)', pos);
        const list = (n.right?.value ?? []).map((v: N) => this.expr(v, pos));
        return { kind: 'in', operand: left, list, negated: op === 'NOT IN', pos };
      }
      case 'BETWEEN':
      case 'NOT BETWEEN': {
        const [low, high] = n.right.value;
        return { kind: 'between', operand: left, low: this.expr(low, pos), high: this.expr(high, pos), negated: op === 'NOT BETWEEN', pos };
      }
      case 'LIKE':
      case 'NOT LIKE': {
        let pattern = n.right;
        let escape: Expr | undefined;
        if (pattern?.type === 'expr_list' && Array.isArray(pattern.value)) pattern = pattern.value[0];
        const esc = n.escape ?? pattern?.escape;
        if (esc) escape = this.expr(esc.value ?? esc, pos);
        return { kind: 'like', operand: left, pattern: this.expr(pattern, pos), escape, negated: op === 'NOT LIKE', pos };
      }
    }
    const right = this.expr(n.right, pos);
    const map: Record<string, BinaryOp> = {
      '+': '+', '-': '-', '*': '*', '/': '/', '%': '%', '=': '=', '==': '=', '<>': '<>', '!=': '<>',
      '<': '<', '<=': '<=', '>': '>', '>=': '>=', AND: 'AND', '&&': 'AND', OR: 'OR', '||': '||',
    };
    const bop = map[op];
    if (!bop) throw this.unsupported(`Operator ${op}`, pos);
    return { kind: 'binary', op: bop, left, right, pos };
  }
}

function ident(x: N): string | undefined {
  if (x === null || x === undefined) return undefined;
  if (typeof x === 'string') return x;
  if (typeof x.value === 'string') return x.value;
  if (x.expr) return ident(x.expr);
  return undefined;
}

function colName(n: N): string {
  const c = n.column;
  if (typeof c === 'string') return c;
  return ident(c) ?? String(c);
}

function fnName(n: N): string {
  const nm = n.name;
  if (typeof nm === 'string') return nm;
  const parts: N[] = nm?.name ?? [];
  return parts.map((p) => p.value).join('.');
}

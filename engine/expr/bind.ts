/**
 * Binding: our syntactic Expr (engine/sql/ast.ts) to a typed BoundExpr. Resolves columns against the
 * scope (case-insensitively; `t.c` by qualifier; `r.f` as a field of ROW column r), maps every operator
 * and function to a canonical registry name, and type checks with Flink's rules. Every mistake is a
 * SqlError at the position of the offending node.
 */
import { T } from '../plan/types.ts';
import type { SqlType } from '../plan/types.ts';
import type { BinaryOp, Expr } from '../sql/ast.ts';
import { SqlError } from '../sql/errors.ts';
import type { Pos } from '../sql/errors.ts';
import type { BoundExpr, Scope, ScopeColumn } from './bound.ts';
import { CAST_FAIL, castConverter, castProblem } from './cast.ts';
import { AGGREGATE_FUNCTIONS, convertTo, lookupCallable, lookupFunction } from './functions.ts';
import type { CheckContext, FunctionDef } from './functions.ts';
import { MS_DAY, parseTimestampMs } from './time.ts';
import { getZone } from './tz.ts';
import { commonTypeAll, show } from './typing.ts';

const BINARY_FN: Record<BinaryOp, string> = {
  '+': '+',
  '-': '-',
  '*': '*',
  '/': '/',
  '%': '%',
  '=': '=',
  '<>': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  AND: 'AND',
  OR: 'OR',
  '||': '||',
};

/** SQL-standard functions written without parentheses, which the parser hands over as column names. */
const NILADIC = new Set(['CURRENT_TIMESTAMP', 'LOCALTIMESTAMP', 'CURRENT_DATE']);

/** Binds and type checks `expr` against `scope`; see the module comment. */
export function bindExpr(expr: Expr, scope: Scope): BoundExpr {
  const hit = scope.intercept?.(expr);
  if (hit !== undefined) return hit;
  switch (expr.kind) {
    case 'literal':
      return bindLiteral(expr.value);
    case 'interval':
      return { kind: 'literal', value: expr.millis, type: T.interval };
    case 'timestampLiteral':
      return bindTimestampLiteral(expr.text, expr.type, expr.pos);
    case 'column':
      return resolveColumn(expr, scope);
    case 'star':
      throw new SqlError('binding', `'${expr.table ? expr.table + '.' : ''}*' is not allowed here`, expr.pos);
    case 'binary':
      return call(BINARY_FN[expr.op], expr.op, [bindExpr(expr.left, scope), bindExpr(expr.right, scope)], [expr.left.pos, expr.right.pos], expr.pos, scope);
    case 'unary': {
      const operand = bindExpr(expr.operand, scope);
      if (expr.op === 'NOT') return call('NOT', 'NOT', [operand], [expr.operand.pos], expr.pos, scope);
      if (expr.op === '+') {
        if (operand.type.kind !== 'NULL' && !isNumberLike(operand.type)) throw new SqlError('type', `Cannot apply unary '+' to ${show(operand.type)}`, expr.pos);
        return operand;
      }
      if (operand.kind === 'literal' && typeof operand.value === 'number') return negateLiteral(operand.value, operand.type);
      return call('NEGATE', '-', [operand], [expr.operand.pos], expr.pos, scope);
    }
    case 'isNull':
      return call(expr.negated ? 'IS NOT NULL' : 'IS NULL', 'IS NULL', [bindExpr(expr.operand, scope)], [expr.operand.pos], expr.pos, scope);
    case 'isBool': {
      const name = `IS ${expr.negated ? 'NOT ' : ''}${expr.value ? 'TRUE' : 'FALSE'}`;
      return call(name, name, [bindExpr(expr.operand, scope)], [expr.operand.pos], expr.pos, scope);
    }
    case 'in': {
      const args = [bindExpr(expr.operand, scope), ...expr.list.map((e) => bindExpr(e, scope))];
      const b = call('IN', 'IN', args, [expr.operand.pos, ...expr.list.map((e) => e.pos)], expr.pos, scope);
      return expr.negated ? not(b) : b;
    }
    case 'between': {
      const b = call(
        'BETWEEN',
        'BETWEEN',
        [bindExpr(expr.operand, scope), bindExpr(expr.low, scope), bindExpr(expr.high, scope)],
        [expr.operand.pos, expr.low.pos, expr.high.pos],
        expr.pos,
        scope,
      );
      return expr.negated ? not(b) : b;
    }
    case 'like': {
      const args = [bindExpr(expr.operand, scope), bindExpr(expr.pattern, scope)];
      const pos = [expr.operand.pos, expr.pattern.pos];
      if (expr.escape) {
        args.push(bindExpr(expr.escape, scope));
        pos.push(expr.escape.pos);
      }
      const b = call('LIKE', 'LIKE', args, pos, expr.pos, scope);
      return expr.negated ? not(b) : b;
    }
    case 'case':
      return bindCase(expr, scope);
    case 'cast':
      return bindCast(expr, scope);
    case 'call':
      return bindCall(expr, scope);
    case 'field': {
      const operand = bindExpr(expr.operand, scope);
      return fieldAccess(operand, expr.name, expr.pos);
    }
    case 'index':
      return call('ITEM', '[]', [bindExpr(expr.operand, scope), bindExpr(expr.index, scope)], [expr.operand.pos, expr.index.pos], expr.pos, scope);
    case 'floorCeil': {
      const operand = bindExpr(expr.operand, scope);
      if (!expr.unit) return call(expr.fn, expr.fn, [operand], [expr.operand.pos], expr.pos, scope);
      return call(expr.fn, expr.fn, [operand, { kind: 'literal', value: expr.unit, type: T.string }], [expr.operand.pos, expr.pos], expr.pos, scope);
    }
    case 'over':
      // The planner takes ROW_NUMBER() OVER out of a Window Top-N query before binding; anywhere else it is refused here.
      throw new SqlError(
        'unsupported',
        `${expr.fn}() OVER is supported only as a Window Top-N: SELECT ... FROM (SELECT ..., ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY ...) AS rownum FROM <windowed query>) WHERE rownum <= N`,
        expr.pos,
      );
    default: {
      const never: never = expr;
      throw new SqlError('unsupported', `Expression ${(never as { kind: string }).kind} is not supported`, (never as { pos?: Pos }).pos);
    }
  }
}

function isNumberLike(t: SqlType): boolean {
  return t.kind === 'INT' || t.kind === 'BIGINT' || t.kind === 'DOUBLE' || t.kind === 'DECIMAL' || t.kind === 'INTERVAL';
}

function not(b: BoundExpr): BoundExpr {
  return { kind: 'call', fn: 'NOT', args: [b], type: T.boolean };
}

// ---------------------------------------------------------------------------------------------
// Literals

/**
 * Literal types: integers are INT (BIGINT beyond 32 bits), other numbers DECIMAL(p, s) from their digits
 * (DOUBLE when written with an exponent that leaves no plain digits), strings STRING, NULL the NULL type.
 */
export function bindLiteral(value: null | boolean | number | string): BoundExpr {
  if (value === null || value === undefined) return { kind: 'literal', value: null, type: T.null };
  if (typeof value === 'boolean') return { kind: 'literal', value, type: T.boolean };
  if (typeof value === 'string') return { kind: 'literal', value, type: T.string };
  return { kind: 'literal', value, type: numberLiteralType(value) };
}

function numberLiteralType(v: number): SqlType {
  if (!Number.isFinite(v)) return T.double;
  if (Number.isInteger(v)) return Math.abs(v) <= 2147483647 || v === -2147483648 ? T.int : T.bigint;
  const s = String(Math.abs(v));
  if (s.includes('e')) return T.double;
  const [ip, fp = ''] = s.split('.');
  const intDigits = ip === '0' ? 0 : ip!.length;
  return T.decimal(Math.max(1, intDigits + fp.length), fp.length);
}

function negateLiteral(v: number, t: SqlType): BoundExpr {
  const n = v === 0 ? 0 : -v;
  if (t.kind === 'BIGINT' && n === -2147483648) return { kind: 'literal', value: n, type: T.int };
  return { kind: 'literal', value: n, type: t };
}

function bindTimestampLiteral(text: string, type: 'TIMESTAMP' | 'DATE', pos: Pos): BoundExpr {
  const v = parseTimestampMs(text);
  if (Number.isNaN(v)) {
    const expect = type === 'DATE' ? "'yyyy-MM-dd'" : "'yyyy-MM-dd HH:mm:ss[.SSS]'";
    throw new SqlError('type', `Invalid ${type} literal '${text}'; expected ${expect}`, pos);
  }
  if (type === 'DATE') return { kind: 'literal', value: Math.floor(v / MS_DAY) * MS_DAY, type: T.date };
  const frac = /[.,](\d+)/.exec(text.split(/[ T]/)[1] ?? '');
  const precision = frac ? Math.min(9, frac[1]!.length) : 0;
  return { kind: 'literal', value: v, type: { kind: 'TIMESTAMP', precision } };
}

// ---------------------------------------------------------------------------------------------
// Columns and fields

function lower(s: string): string {
  return s.toLowerCase();
}

function available(scope: Scope): string {
  const names = scope.columns.map((c) => c.name);
  const shown = names.slice(0, 40).join(', ');
  return names.length === 0 ? '(none)' : names.length > 40 ? `${shown}, ... (${names.length} columns)` : shown;
}

function input(scope: Scope, i: number): BoundExpr {
  const c = scope.columns[i]!;
  return { kind: 'input', index: i, name: c.name, type: c.type };
}

function qualified(c: ScopeColumn): string {
  return c.tables.length > 0 ? `${c.tables[0]}.${c.name}` : c.name;
}

function resolveColumn(e: Extract<Expr, { kind: 'column' }>, scope: Scope): BoundExpr {
  const name = lower(e.name);
  const cols = scope.columns;
  if (e.table !== undefined) {
    const t = lower(e.table);
    const hits: number[] = [];
    for (let i = 0; i < cols.length; i++) {
      if (lower(cols[i]!.name) === name && cols[i]!.tables.some((q) => lower(q) === t)) hits.push(i);
    }
    if (hits.length === 1) return input(scope, hits[0]!);
    if (hits.length > 1) throw new SqlError('binding', `Column '${e.table}.${e.name}' is ambiguous`, e.pos);
    // `r.f` where r is a ROW column and no table is called r
    const known = cols.some((c) => c.tables.some((q) => lower(q) === t));
    if (!known) {
      const rows: number[] = [];
      for (let i = 0; i < cols.length; i++) if (lower(cols[i]!.name) === t && cols[i]!.type.kind === 'ROW') rows.push(i);
      if (rows.length === 1) return fieldAccess(input(scope, rows[0]!), e.name, e.pos);
    }
    throw new SqlError('binding', `Column '${e.table}.${e.name}' not found; available: ${available(scope)}`, e.pos);
  }
  const hits: number[] = [];
  for (let i = 0; i < cols.length; i++) if (lower(cols[i]!.name) === name) hits.push(i);
  if (hits.length === 1) return input(scope, hits[0]!);
  if (hits.length > 1) {
    const options = hits.map((i) => qualified(cols[i]!)).join(', ');
    throw new SqlError('binding', `Column '${e.name}' is ambiguous; it could be ${options}. Qualify it with a table name or alias`, e.pos);
  }
  const upper = e.name.toUpperCase();
  if (NILADIC.has(upper)) return call(upper, upper, [], [], e.pos, scope);
  throw new SqlError('binding', `Column '${e.name}' not found; available: ${available(scope)}`, e.pos);
}

function fieldAccess(operand: BoundExpr, name: string, pos: Pos): BoundExpr {
  const t = operand.type;
  if (t.kind !== 'ROW') throw new SqlError('type', `Cannot access field '${name}' of a value of type ${show(t)}`, pos);
  let f = t.fields.find((x) => x.name === name);
  if (!f) {
    const ci = t.fields.filter((x) => lower(x.name) === lower(name));
    if (ci.length === 1) f = ci[0];
    else if (ci.length > 1) throw new SqlError('binding', `Field '${name}' is ambiguous in ${show(t)}`, pos);
  }
  if (!f) throw new SqlError('binding', `Field '${name}' not found; available: ${t.fields.map((x) => x.name).join(', ')}`, pos);
  return { kind: 'call', fn: 'FIELD', args: [operand, { kind: 'literal', value: f.name, type: T.string }], type: f.type };
}

// ---------------------------------------------------------------------------------------------
// Calls

function call(fn: string, written: string, args: BoundExpr[], argPos: readonly (Pos | undefined)[], pos: Pos, scope: Scope): BoundExpr {
  const def = lookupFunction(fn);
  if (!def) throw new SqlError('unsupported', `Unknown function '${written}'`, pos);
  return apply(def, written, args, argPos, pos, scope);
}

function arityText(def: FunctionDef): string {
  if (def.minArgs === def.maxArgs) return `${def.minArgs} argument${def.minArgs === 1 ? '' : 's'}`;
  if (def.maxArgs === Infinity) return `at least ${def.minArgs} argument${def.minArgs === 1 ? '' : 's'}`;
  return `${def.minArgs} to ${def.maxArgs} arguments`;
}

function apply(def: FunctionDef, written: string, args: BoundExpr[], argPos: readonly (Pos | undefined)[], pos: Pos, scope: Scope): BoundExpr {
  if (args.length < def.minArgs || args.length > def.maxArgs) {
    throw new SqlError('binding', `Function ${written} takes ${arityText(def)} but got ${args.length}`, pos);
  }
  const ctx: CheckContext = { name: def.name, written, pos, argPos, timeZone: scope.timeZone };
  const r = def.check(args, ctx);
  return { kind: 'call', fn: def.name, args: r.args ?? args, type: r.type };
}

function bindCall(e: Extract<Expr, { kind: 'call' }>, scope: Scope): BoundExpr {
  const name = e.name.toUpperCase();
  if (AGGREGATE_FUNCTIONS.has(name)) throw new SqlError('binding', `Aggregate function ${name} is not allowed here`, e.pos);
  if (e.star) throw new SqlError('binding', `${name}(*) is not valid; only COUNT(*) takes '*'`, e.pos);
  if (e.distinct) throw new SqlError('binding', `DISTINCT is only allowed in aggregate functions, not in ${name}`, e.pos);
  if (name === 'IF') return bindIf(e, scope);
  const def = lookupCallable(name);
  if (!def) throw new SqlError('binding', `Unknown function '${e.name}'`, e.pos);
  if ((def.name === 'FLOOR' || def.name === 'CEIL') && e.args.length !== 1) {
    throw new SqlError('binding', `Function ${name} takes 1 argument (or the form ${name}(ts TO unit)) but got ${e.args.length}`, e.pos);
  }
  const args = e.args.map((a) => bindExpr(a, scope));
  return apply(def, name, args, e.args.map((a) => a.pos), e.pos, scope);
}

function requireBoolean(b: BoundExpr, what: string, pos: Pos): void {
  if (b.type.kind !== 'BOOLEAN' && b.type.kind !== 'NULL') throw new SqlError('type', `${what} must be BOOLEAN but is ${show(b.type)}`, pos);
}

function branches(types: readonly { e: BoundExpr; pos: Pos }[], what: string, pos: Pos): SqlType {
  const t = commonTypeAll(types.map((x) => x.e.type));
  if (!t) throw new SqlError('type', `${what} branches have incompatible types: ${types.map((x) => show(x.e.type)).join(', ')}`, pos);
  return t;
}

function bindIf(e: Extract<Expr, { kind: 'call' }>, scope: Scope): BoundExpr {
  if (e.args.length !== 3) throw new SqlError('binding', `Function IF takes 3 arguments but got ${e.args.length}`, e.pos);
  const [c, a, b] = e.args.map((x) => bindExpr(x, scope)) as [BoundExpr, BoundExpr, BoundExpr];
  requireBoolean(c, 'The condition of IF', e.args[0]!.pos);
  const t = branches([{ e: a, pos: e.args[1]!.pos }, { e: b, pos: e.args[2]!.pos }], 'IF', e.pos);
  return { kind: 'case', whens: [{ when: c, then: convertTo(a, t) }], else: convertTo(b, t), type: t };
}

function bindCase(e: Extract<Expr, { kind: 'case' }>, scope: Scope): BoundExpr {
  const operand = e.operand ? bindExpr(e.operand, scope) : undefined;
  const whens = e.whens.map((w) => {
    const value = bindExpr(w.when, scope);
    let cond: BoundExpr;
    if (operand) {
      cond = call('=', '=', [operand, value], [e.operand!.pos, w.when.pos], w.when.pos, scope);
    } else {
      requireBoolean(value, 'A CASE WHEN condition', w.when.pos);
      cond = value;
    }
    return { when: cond, then: bindExpr(w.then, scope), pos: w.then.pos };
  });
  const els = e.else ? bindExpr(e.else, scope) : undefined;
  const t = branches([...whens.map((w) => ({ e: w.then, pos: w.pos })), ...(els ? [{ e: els, pos: e.else!.pos }] : [])], 'CASE', e.pos);
  return {
    kind: 'case',
    whens: whens.map((w) => ({ when: w.when, then: convertTo(w.then, t) })),
    else: els ? convertTo(els, t) : undefined,
    type: t,
  };
}

function bindCast(e: Extract<Expr, { kind: 'cast' }>, scope: Scope): BoundExpr {
  const operand = bindExpr(e.operand, scope);
  const problem = castProblem(operand.type, e.type);
  if (problem) throw new SqlError('type', problem, e.pos);
  // A literal that cannot be converted is the user's mistake, reported now rather than per row.
  if (!e.safe && operand.kind === 'literal' && operand.value !== null) {
    let zone;
    try {
      zone = getZone(scope.timeZone);
    } catch {
      zone = getZone('UTC');
    }
    const conv = castConverter(operand.type, e.type, zone);
    if (conv && conv(operand.value) === CAST_FAIL) {
      throw new SqlError('type', `Cannot cast ${typeof operand.value === 'string' ? `'${operand.value}'` : String(operand.value)} to ${show(e.type)}`, e.pos);
    }
  }
  return { kind: 'cast', operand, safe: e.safe, type: e.type };
}

/**
 * The registry of scalar functions and operators: for each, in one place, its arity, its type rule
 * (check) and its code generator (gen). bind.ts maps every operator and call to a canonical name
 * found here; compile.ts asks the entry to emit code.
 */
import type { SqlType } from '../plan/types.ts';
import { T } from '../plan/types.ts';
import { SqlError } from '../sql/errors.ts';
import type { Pos } from '../sql/errors.ts';
import type { BoundExpr } from './bound.ts';
import { CAST_FAIL, castConverter } from './cast.ts';
import type { Gen, Val } from './compile.ts';
import { DataError } from './errors.ts';
import * as L from './lib.ts';
import {
  MS_DAY,
  PARSED,
  ceilTo,
  compilePattern,
  extractField,
  floorTo,
  formatPattern,
  parsePattern,
  parseTimestampMs,
  patternFormatter,
} from './time.ts';
import type { Field, PatternToken, Unit } from './time.ts';
import { getZone } from './tz.ts';
import type { Zone } from './tz.ts';
import {
  addType,
  commonType,
  commonTypeAll,
  decimal,
  decimalOf,
  divType,
  isIntegral,
  isNumericKind,
  isTemporalKind,
  isTimestampKind,
  modType,
  mulType,
  orderComparable,
  show,
} from './typing.ts';
import { parseNumberText, roundHalfUp } from './values.ts';

export type CallNode = Extract<BoundExpr, { kind: 'call' }>;

export interface CheckContext {
  /** Canonical function name. */
  readonly name: string;
  /** The name as the user wrote it (for messages). */
  readonly written: string;
  readonly pos: Pos;
  /** Position of each argument (falls back to pos). */
  readonly argPos: readonly (Pos | undefined)[];
  /** Session time zone, for converting literals of TIMESTAMP_LTZ comparisons. */
  readonly timeZone: string;
}

export interface CheckResult {
  readonly type: SqlType;
  /** Arguments with implicit conversions applied (replaces the bound arguments). */
  readonly args?: readonly BoundExpr[];
}

export interface FunctionDef {
  readonly name: string;
  readonly minArgs: number;
  readonly maxArgs: number;
  /** Not folded at compile time, evaluated per row (CURRENT_TIMESTAMP, RAND, UUID). */
  readonly volatile?: boolean;
  /** An operator (not callable by name). */
  readonly operator?: boolean;
  /** Signature for documentation. */
  readonly signature: string;
  check(args: readonly BoundExpr[], c: CheckContext): CheckResult;
  gen(g: Gen, call: CallNode): Val;
}

const REGISTRY = new Map<string, FunctionDef>();
const ALIASES = new Map<string, string>();

function def(d: FunctionDef, ...aliases: string[]): void {
  REGISTRY.set(d.name, d);
  for (const a of aliases) ALIASES.set(a, d.name);
}

/** The entry for a canonical name or alias (upper case). */
export function lookupFunction(name: string): FunctionDef | undefined {
  return REGISTRY.get(name) ?? (ALIASES.has(name) ? REGISTRY.get(ALIASES.get(name)!) : undefined);
}

/** The entry for a name callable as a function (not an operator symbol; aliases such as MOD are). */
export function lookupCallable(name: string): FunctionDef | undefined {
  const d = REGISTRY.get(name);
  if (d) return d.operator ? undefined : d;
  const target = ALIASES.get(name);
  return target === undefined ? undefined : REGISTRY.get(target);
}

/** Names callable as functions (with aliases), sorted. */
export function functionNames(): string[] {
  const names: string[] = ['IF'];
  for (const d of REGISTRY.values()) if (!d.operator) names.push(d.name);
  for (const [a, target] of ALIASES) if (!REGISTRY.get(target)?.operator || /^[A-Z_]+$/.test(a)) names.push(a);
  return [...new Set(names)].sort();
}

/** Operator names (canonical `fn` of their bound calls), sorted. */
export function operatorNames(): string[] {
  return [...REGISTRY.values()].filter((d) => d.operator).map((d) => d.name).sort();
}

/** Signatures of every function and operator, for documentation. */
export function functionSignatures(): { name: string; signature: string; operator: boolean }[] {
  return [...REGISTRY.values()].map((d) => ({ name: d.name, signature: d.signature, operator: !!d.operator })).sort((a, b) => a.name.localeCompare(b.name));
}

export const AGGREGATE_FUNCTIONS: ReadonlySet<string> = new Set([
  'COUNT', 'SUM', 'SUM0', 'MIN', 'MAX', 'AVG', 'STDDEV', 'STDDEV_POP', 'STDDEV_SAMP', 'VARIANCE', 'VAR_POP', 'VAR_SAMP',
  'COLLECT', 'LISTAGG', 'FIRST_VALUE', 'LAST_VALUE', 'ARRAY_AGG', 'BOOL_AND', 'BOOL_OR', 'EVERY', 'SOME', 'ANY_VALUE',
  'APPROX_COUNT_DISTINCT', 'JSON_ARRAYAGG', 'JSON_OBJECTAGG', 'ROW_NUMBER', 'RANK', 'DENSE_RANK', 'PERCENT_RANK',
  'CUME_DIST', 'NTILE', 'LEAD', 'LAG',
]);

export function isAggregateFunction(name: string): boolean {
  return AGGREGATE_FUNCTIONS.has(name.toUpperCase());
}

// ---------------------------------------------------------------------------------------------
// Checking helpers

export function typeError(c: CheckContext, message: string, arg?: number): never {
  throw new SqlError('type', message, (arg !== undefined ? c.argPos[arg] : undefined) ?? c.pos);
}

type ArgKind = 'string' | 'integer' | 'numeric' | 'boolean' | 'timestamp' | 'temporal' | 'array' | 'any' | 'scalar' | 'stringOrTemporal' | 'stringOrNumeric';

const KIND_OK: Record<ArgKind, (t: SqlType) => boolean> = {
  string: (t) => t.kind === 'STRING',
  integer: isIntegral,
  numeric: isNumericKind,
  boolean: (t) => t.kind === 'BOOLEAN',
  timestamp: isTimestampKind,
  temporal: isTemporalKind,
  array: (t) => t.kind === 'ARRAY',
  any: () => true,
  scalar: (t) => t.kind !== 'ARRAY' && t.kind !== 'ROW',
  stringOrTemporal: (t) => t.kind === 'STRING' || isTemporalKind(t),
  stringOrNumeric: (t) => t.kind === 'STRING' || isNumericKind(t),
};

const KIND_LABEL: Record<ArgKind, string> = {
  string: 'STRING',
  integer: 'an integer (INT or BIGINT)',
  numeric: 'a number',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP or TIMESTAMP_LTZ',
  temporal: 'TIMESTAMP, TIMESTAMP_LTZ or DATE',
  array: 'an ARRAY',
  any: 'a value',
  scalar: 'a scalar value',
  stringOrTemporal: 'STRING or a timestamp',
  stringOrNumeric: 'STRING or a number',
};

function checkArgs(args: readonly BoundExpr[], c: CheckContext, kinds: readonly ArgKind[]): void {
  for (let i = 0; i < args.length; i++) {
    const k = kinds[Math.min(i, kinds.length - 1)]!;
    const t = args[i]!.type;
    if (t.kind !== 'NULL' && !KIND_OK[k](t)) {
      typeError(c, `${c.written} expects ${KIND_LABEL[k]} as argument ${i + 1} but got ${show(t)}`, i);
    }
  }
}

function isLit(e: BoundExpr | undefined): e is Extract<BoundExpr, { kind: 'literal' }> {
  return e !== undefined && e.kind === 'literal';
}

function litString(e: BoundExpr | undefined): string | undefined {
  return isLit(e) && typeof e.value === 'string' ? e.value : undefined;
}

function litNumber(e: BoundExpr | undefined): number | undefined {
  return isLit(e) && typeof e.value === 'number' ? e.value : undefined;
}

function isNullLit(e: BoundExpr | undefined): boolean {
  return isLit(e) && (e.value === null || e.value === undefined);
}

/** A STRING literal compared with (or listed with) a value of type `target` becomes a literal of that type. */
function coerceLiteral(e: BoundExpr, target: SqlType, c: CheckContext, arg: number): BoundExpr {
  if (!isLit(e) || typeof e.value !== 'string') return e;
  if (isTemporalKind(target) || target.kind === 'BOOLEAN') {
    let zone: Zone;
    try {
      zone = getZone(c.timeZone);
    } catch {
      zone = getZone('UTC');
    }
    const conv = castConverter(T.string, target, zone);
    const v = conv ? conv(e.value) : e.value;
    if (v === CAST_FAIL || v === null) typeError(c, `Cannot convert '${e.value}' to ${show(target)}`, arg);
    return { kind: 'literal', value: v, type: target };
  }
  if (isNumericKind(target)) {
    const n = parseNumberText(e.value);
    if (Number.isNaN(n)) typeError(c, `Cannot convert '${e.value}' to ${show(target)}`, arg);
    return { kind: 'literal', value: n, type: Number.isInteger(n) ? (Math.abs(n) <= 2147483647 ? T.int : T.bigint) : T.double };
  }
  return e;
}

/** Converts `e` to `target` where the runtime representation differs (TIMESTAMP/DATE -> TIMESTAMP_LTZ). */
export function convertTo(e: BoundExpr, target: SqlType): BoundExpr {
  if (e.type.kind === 'NULL') return e;
  if (target.kind === 'TIMESTAMP_LTZ' && (e.type.kind === 'TIMESTAMP' || e.type.kind === 'DATE')) {
    return { kind: 'cast', operand: e, safe: false, type: target };
  }
  return e;
}

/** The common type of `args` (after literal coercion) or a type error naming them. */
function unify(args: readonly BoundExpr[], c: CheckContext, what: string, offset = 0): { type: SqlType; args: BoundExpr[] } {
  let list = args.slice();
  const firstTyped = list.find((a) => a.type.kind !== 'NULL' && !(isLit(a) && typeof a.value === 'string'));
  if (firstTyped) list = list.map((a, i) => (a.type.kind === 'STRING' ? coerceLiteral(a, firstTyped.type, c, i + offset) : a));
  const t = commonTypeAll(list.map((a) => a.type));
  if (!t) typeError(c, `${what} needs compatible types but got ${list.map((a) => show(a.type)).join(', ')}`);
  return { type: t, args: list.map((a) => convertTo(a, t)) };
}

function argTypeForCode(call: CallNode): SqlType {
  let t: SqlType = T.null;
  for (const a of call.args) t = commonType(t, a.type) ?? t;
  return t;
}

// ---------------------------------------------------------------------------------------------
// Definition helpers

interface SimpleOptions {
  /** Can return NULL for non-NULL arguments. */
  nullable?: boolean;
  volatile?: boolean;
  aliases?: string[];
}

type ResultRule = SqlType | ((args: readonly BoundExpr[], c: CheckContext) => SqlType);

/** A NULL-propagating function computed by a runtime helper. */
function fn(
  name: string,
  signature: string,
  arity: [number, number],
  kinds: readonly ArgKind[],
  result: ResultRule,
  impl: (...args: never[]) => unknown,
  opts: SimpleOptions = {},
): void {
  def(
    {
      name,
      signature,
      minArgs: arity[0],
      maxArgs: arity[1],
      volatile: opts.volatile,
      check: (args, c) => {
        checkArgs(args, c, kinds);
        return { type: typeof result === 'function' ? result(args, c) : result };
      },
      gen: (g, call) => g.strict(call.args, (x) => `${g.k(impl)}(${x.join(', ')})`, opts.nullable ?? false),
    },
    ...(opts.aliases ?? []),
  );
}

/** A NULL-propagating function written as an inline JS expression over its argument codes. */
function inline(
  name: string,
  signature: string,
  arity: [number, number],
  kinds: readonly ArgKind[],
  result: ResultRule,
  template: (x: string[], g: Gen, call: CallNode) => string,
  opts: SimpleOptions = {},
): void {
  def(
    {
      name,
      signature,
      minArgs: arity[0],
      maxArgs: arity[1],
      volatile: opts.volatile,
      check: (args, c) => {
        checkArgs(args, c, kinds);
        return { type: typeof result === 'function' ? result(args, c) : result };
      },
      gen: (g, call) => g.strict(call.args, (x) => template(x, g, call), opts.nullable ?? false),
    },
    ...(opts.aliases ?? []),
  );
}

const sameAsFirst: ResultRule = (args) => (args[0]!.type.kind === 'NULL' ? T.int : args[0]!.type);

// ---------------------------------------------------------------------------------------------
// Arithmetic

type ArithOp = '+' | '-' | '*' | '/' | '%';

function arithType(op: ArithOp, args: readonly BoundExpr[], c: CheckContext): SqlType {
  const a = args[0]!.type;
  const b = args[1]!.type;
  const ta = a.kind === 'NULL' ? b : a;
  const tb = b.kind === 'NULL' ? a : b;
  if (ta.kind === 'NULL') return T.null;
  if (isNumericKind(ta) && isNumericKind(tb)) {
    if (op === '+' || op === '-') return addType(ta, tb);
    if (op === '*') return mulType(ta, tb);
    if (op === '/') return divType(ta, tb);
    return modType(ta, tb);
  }
  if (op === '+' || op === '-') {
    if (isTemporalKind(ta) && tb.kind === 'INTERVAL') return ta;
    if (op === '+' && ta.kind === 'INTERVAL' && isTemporalKind(tb)) return tb;
    if (ta.kind === 'INTERVAL' && tb.kind === 'INTERVAL') return T.interval;
  }
  if (op === '*' && ((ta.kind === 'INTERVAL' && isNumericKind(tb)) || (isNumericKind(ta) && tb.kind === 'INTERVAL'))) return T.interval;
  if (op === '/' && ta.kind === 'INTERVAL' && isNumericKind(tb)) return T.interval;
  let hint = '';
  if (op === '-' && isTemporalKind(ta) && isTemporalKind(tb)) hint = '; subtracting timestamps is not supported (compare them, or subtract UNIX_TIMESTAMP values)';
  if (op === '+' && (ta.kind === 'STRING' || tb.kind === 'STRING')) hint = "; use || or CONCAT to join strings";
  return typeError(c, `Cannot apply '${op}' to arguments of type ${show(a)} and ${show(b)}${hint}`);
}

function floorDay(v: number): number {
  return Math.floor(v / MS_DAY) * MS_DAY;
}

function arithGen(op: ArithOp) {
  return (g: Gen, call: CallNode): Val => {
    const t = call.type;
    if (t.kind === 'NULL') return g.lit(null);
    const R = (expr: string) => `${g.k(roundHalfUp)}(${expr}, ${(t as { scale: number }).scale})`;
    switch (op) {
      case '+':
      case '-':
        return g.strict(call.args, ([x, y]) => {
          const e = `${x} ${op} ${y}`;
          switch (t.kind) {
            case 'INT':
              return `(${e}) | 0`;
            case 'DECIMAL':
              return R(e);
            case 'DATE':
              return `${g.k(floorDay)}(${e})`;
            default:
              return e;
          }
        });
      case '*':
        return g.strict(call.args, ([x, y]) => {
          switch (t.kind) {
            case 'INT':
              return `Math.imul(${x}, ${y})`;
            case 'DECIMAL':
              return R(`${x} * ${y}`);
            case 'INTERVAL':
              return `Math.trunc(${x} * ${y})`;
            default:
              return `${x} * ${y}`;
          }
        });
      case '/':
        if (t.kind === 'DOUBLE') return g.strict(call.args, ([x, y]) => `${x} / ${y}`);
        return g.strict(
          call.args,
          ([x, y]) => {
            const body = t.kind === 'INT' ? `(${x} / ${y}) | 0` : t.kind === 'DECIMAL' ? R(`${x} / ${y}`) : `Math.trunc(${x} / ${y})`;
            return `${y} === 0 ? null : ${body}`;
          },
          true,
        );
      case '%':
        if (t.kind === 'DOUBLE') return g.strict(call.args, ([x, y]) => `${x} % ${y}`);
        return g.strict(
          call.args,
          ([x, y]) => {
            const body = t.kind === 'INT' ? `(${x} % ${y}) | 0` : t.kind === 'DECIMAL' ? R(`${x} % ${y}`) : `(${x} % ${y}) + 0`;
            return `${y} === 0 ? null : ${body}`;
          },
          true,
        );
      default:
        throw new Error(op);
    }
  };
}

for (const op of ['+', '-', '*', '/', '%'] as const) {
  def(
    {
      name: op,
      signature: `a ${op} b`,
      minArgs: 2,
      maxArgs: 2,
      operator: true,
      check: (args, c) => ({ type: arithType(op, args, c) }),
      gen: arithGen(op),
    },
    ...(op === '%' ? ['MOD'] : []),
  );
}

def({
  name: 'NEGATE',
  signature: '-a',
  minArgs: 1,
  maxArgs: 1,
  operator: true,
  check: (args, c) => {
    const t = args[0]!.type;
    if (t.kind !== 'NULL' && !isNumericKind(t) && t.kind !== 'INTERVAL') typeError(c, `Cannot negate a value of type ${show(t)}`);
    return { type: t.kind === 'NULL' ? T.int : t };
  },
  gen: (g, call) => g.strict(call.args, ([x]) => (call.type.kind === 'INT' ? `(0 - ${x}) | 0` : `0 - ${x}`)),
});

// ---------------------------------------------------------------------------------------------
// Comparison

type CmpOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

function compareArgs(args: readonly BoundExpr[], c: CheckContext, op: string): { t: SqlType; args: BoundExpr[] } {
  let a = args[0]!;
  let b = args[1]!;
  if (b.type.kind !== 'STRING' && b.type.kind !== 'NULL') a = coerceLiteral(a, b.type, c, 0);
  if (a.type.kind !== 'STRING' && a.type.kind !== 'NULL') b = coerceLiteral(b, a.type, c, 1);
  const t = commonType(a.type, b.type);
  const ordered = op !== '=' && op !== '<>';
  if (!t || (ordered && !orderComparable(a.type, b.type))) {
    typeError(c, `Cannot compare ${show(a.type)} with ${show(b.type)} using '${op}'`);
  }
  return { t, args: [convertTo(a, t), convertTo(b, t)] };
}

function cmpCode(op: CmpOp, t: SqlType, x: string, y: string, g: Gen): string {
  if (t.kind === 'ARRAY' || t.kind === 'ROW') {
    const eq = `${g.k(L.deepEqual)}(${x}, ${y})`;
    return op === '=' ? eq : `!${eq}`;
  }
  switch (op) {
    case '=':
      return `${x} === ${y}`;
    case '<>':
      return `${x} !== ${y}`;
    default:
      return `${x} ${op} ${y}`;
  }
}

for (const op of ['=', '<>', '<', '<=', '>', '>='] as const) {
  def({
    name: op,
    signature: `a ${op} b`,
    minArgs: 2,
    maxArgs: 2,
    operator: true,
    check: (args, c) => {
      const r = compareArgs(args, c, op);
      return { type: T.boolean, args: r.args };
    },
    gen: (g, call) => {
      const t = argTypeForCode(call);
      return g.strict(call.args, ([x, y]) => cmpCode(op, t, x!, y!, g));
    },
  });
}

def({
  name: 'BETWEEN',
  signature: 'a BETWEEN low AND high',
  minArgs: 3,
  maxArgs: 3,
  operator: true,
  check: (args, c) => {
    const r = unify(args, c, 'BETWEEN');
    if (!orderComparable(r.type, r.type)) typeError(c, `BETWEEN cannot order values of type ${show(r.type)}`);
    return { type: T.boolean, args: r.args };
  },
  gen: (g, call) => {
    // a >= low AND a <= high, three-valued
    const [a, lo, hi] = call.args;
    return g.strictBlock([a!], ([x], out) => {
      const l = g.emit(lo!);
      const h = g.emit(hi!);
      const c1 = l.nullable ? `(${l.code} == null ? null : ${x} >= ${l.code})` : `${x} >= ${l.code}`;
      const c2 = h.nullable ? `(${h.code} == null ? null : ${x} <= ${h.code})` : `${x} <= ${h.code}`;
      const t1 = g.tmp();
      const t2 = g.tmp();
      g.line(`${t1} = ${c1};`);
      g.line(`${t2} = ${c2};`);
      g.line(`${out} = ${t1} === false || ${t2} === false ? false : ${t1} === null || ${t2} === null ? null : true;`);
    }, true);
  },
});

def({
  name: 'IN',
  signature: 'a IN (v1, v2, ...)',
  minArgs: 2,
  maxArgs: Infinity,
  operator: true,
  check: (args, c) => {
    const r = unify(args, c, 'IN');
    return { type: T.boolean, args: r.args };
  },
  gen: (g, call) => {
    const [operand, ...list] = call.args;
    const t = argTypeForCode(call);
    const deep = t.kind === 'ARRAY' || t.kind === 'ROW';
    const allLit = list.every((e) => isLit(e));
    if (allLit && !deep) {
      const values = list.map((e) => (e as { value: unknown }).value);
      const hasNull = values.some((v) => v === null || v === undefined);
      const set = new Set(values.filter((v) => v !== null && v !== undefined));
      const sk = g.k(set);
      return g.strict([operand!], ([x]) => (hasNull ? `${sk}.has(${x}) ? true : null` : `${sk}.has(${x})`), hasNull);
    }
    return g.strictBlock([operand!], ([x], out) => {
      g.line(`${out} = false;`);
      let opened = 0;
      list.forEach((e, i) => {
        if (i > 0) {
          g.open(`if (${out} !== true)`);
          opened++;
        }
        const v = g.emit(e);
        const eq = deep ? `${g.k(L.deepEqual)}(${x}, ${v.code})` : `${x} === ${v.code}`;
        if (v.nullable) g.line(`if (${v.code} == null) ${out} = null; else if (${eq}) ${out} = true;`);
        else g.line(`if (${eq}) ${out} = true;`);
      });
      while (opened-- > 0) g.close();
    }, true);
  },
});

// ---------------------------------------------------------------------------------------------
// Logic and NULL tests

function boolArgs(args: readonly BoundExpr[], c: CheckContext): void {
  args.forEach((a, i) => {
    if (a.type.kind !== 'BOOLEAN' && a.type.kind !== 'NULL') typeError(c, `${c.written} expects BOOLEAN operands but argument ${i + 1} is ${show(a.type)}`, i);
  });
}

/**
 * AND and OR over any number of operands with SQL's three-valued logic, short-circuiting: evaluation stops
 * at the first operand equal to `decisive` (false for AND, true for OR), which is then the result; NULL
 * otherwise if any operand was NULL.
 */
function shortCircuit(name: 'AND' | 'OR', decisive: boolean): void {
  def({
    name,
    signature: `a ${name} b`,
    minArgs: 2,
    maxArgs: Infinity,
    operator: true,
    check: (args, c) => {
      boolArgs(args, c);
      return { type: T.boolean };
    },
    gen: (g, call) => {
      const out = g.tmp();
      const first = g.emit(call.args[0]!);
      g.line(`${out} = ${first.code};`);
      let nullable = first.nullable;
      let opened = 0;
      for (const arg of call.args.slice(1)) {
        g.open(`if (${out} !== ${decisive})`);
        opened++;
        const v = g.emit(arg);
        nullable ||= v.nullable;
        g.line(`if (${v.code} === ${decisive}) ${out} = ${decisive}; else if (${out} == null || ${v.code} == null) ${out} = null;`);
      }
      while (opened-- > 0) g.close();
      return { code: out, nullable };
    },
  });
}

shortCircuit('AND', false);
shortCircuit('OR', true);

def({
  name: 'NOT',
  signature: 'NOT a',
  minArgs: 1,
  maxArgs: 1,
  operator: true,
  check: (args, c) => {
    boolArgs(args, c);
    return { type: T.boolean };
  },
  gen: (g, call) => g.strict(call.args, ([x]) => `!${x}`),
});

const NULL_TESTS: [string, (x: string) => string, boolean][] = [
  ['IS NULL', (x) => `${x} == null`, false],
  ['IS NOT NULL', (x) => `${x} != null`, false],
  ['IS TRUE', (x) => `${x} === true`, true],
  ['IS NOT TRUE', (x) => `${x} !== true`, true],
  ['IS FALSE', (x) => `${x} === false`, true],
  ['IS NOT FALSE', (x) => `${x} !== false`, true],
];
for (const [name, code, needsBool] of NULL_TESTS) {
  def({
    name,
    signature: `a ${name}`,
    minArgs: 1,
    maxArgs: 1,
    operator: true,
    check: (args, c) => {
      if (needsBool) boolArgs(args, c);
      return { type: T.boolean };
    },
    gen: (g, call) => {
      const v = g.emit(call.args[0]!);
      const out = g.tmp();
      if (!v.nullable && (name === 'IS NULL' || name === 'IS NOT NULL')) g.line(`${out} = ${name === 'IS NOT NULL'};`);
      else g.line(`${out} = ${code(v.code)};`);
      return { code: out, nullable: false };
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Conditional

function coalesceGen(g: Gen, call: CallNode): Val {
  const out = g.tmp();
  let opened = 0;
  let nullable = true;
  for (let i = 0; i < call.args.length; i++) {
    const v = g.emit(call.args[i]!);
    g.line(`${out} = ${v.code};`);
    if (!v.nullable) {
      nullable = false;
      break;
    }
    if (i < call.args.length - 1) {
      g.open(`if (${out} == null)`);
      opened++;
    }
  }
  while (opened-- > 0) g.close();
  return { code: out, nullable };
}

def({
  name: 'COALESCE',
  signature: 'COALESCE(a, b, ...)',
  minArgs: 1,
  maxArgs: Infinity,
  check: (args, c) => unify(args, c, 'COALESCE'),
  gen: coalesceGen,
});

def({
  name: 'IFNULL',
  signature: 'IFNULL(a, b)',
  minArgs: 2,
  maxArgs: 2,
  check: (args, c) => unify(args, c, 'IFNULL'),
  gen: coalesceGen,
});

def({
  name: 'NULLIF',
  signature: 'NULLIF(a, b)',
  minArgs: 2,
  maxArgs: 2,
  check: (args, c) => {
    const r = compareArgs(args, c, '=');
    return { type: r.t, args: r.args };
  },
  gen: (g, call) => {
    const t = argTypeForCode(call);
    return g.strictBlock([call.args[0]!], ([x], out) => {
      const y = g.emit(call.args[1]!);
      const eq = cmpCode('=', t, x!, y.code, g);
      g.line(y.nullable ? `${out} = ${y.code} != null && ${eq} ? null : ${x};` : `${out} = ${eq} ? null : ${x};`);
    }, true);
  },
});

for (const name of ['GREATEST', 'LEAST'] as const) {
  def({
    name,
    signature: `${name}(a, b, ...)`,
    minArgs: 1,
    maxArgs: Infinity,
    check: (args, c) => {
      const r = unify(args, c, name);
      if (!orderComparable(r.type, r.type)) typeError(c, `${name} cannot order values of type ${show(r.type)}`);
      return r;
    },
    gen: (g, call) =>
      g.strictBlock(call.args, (x, out) => {
        g.line(`${out} = ${x[0]};`);
        for (const y of x.slice(1)) g.line(`if (${y} ${name === 'GREATEST' ? '>' : '<'} ${out}) ${out} = ${y};`);
      }),
  });
}

// ---------------------------------------------------------------------------------------------
// Strings

/** Arguments of CONCAT and ||: any scalar, converted to STRING (a superset of Flink, which wants strings). */
function stringArgs(args: readonly BoundExpr[], c: CheckContext): BoundExpr[] {
  return args.map((a, i) => {
    if (a.type.kind === 'STRING' || a.type.kind === 'NULL') return a;
    if (a.type.kind === 'ROW') typeError(c, `${c.written} cannot take a ${show(a.type)} argument`, i);
    return { kind: 'cast', operand: a, safe: false, type: T.string };
  });
}

def({
  name: '||',
  signature: 'a || b',
  minArgs: 2,
  maxArgs: 2,
  operator: true,
  check: (args, c) => ({ type: T.string, args: stringArgs(args, c) }),
  gen: (g, call) => g.strict(call.args, (x) => x.join(' + ')),
});

def({
  name: 'CONCAT',
  signature: 'CONCAT(s1, s2, ...) -- NULL if any argument is NULL',
  minArgs: 1,
  maxArgs: Infinity,
  check: (args, c) => ({ type: T.string, args: stringArgs(args, c) }),
  gen: (g, call) => g.strict(call.args, (x) => (x.length === 1 ? x[0]! : `"" + ${x.join(' + ')}`)),
});

def({
  name: 'CONCAT_WS',
  signature: 'CONCAT_WS(sep, s1, s2, ...) -- skips NULL arguments; NULL if sep is NULL',
  minArgs: 2,
  maxArgs: Infinity,
  check: (args, c) => ({ type: T.string, args: stringArgs(args, c) }),
  gen: (g, call) =>
    g.strictBlock([call.args[0]!], ([sep], out) => {
      const acc = g.tmp();
      g.line(`${acc} = null;`);
      for (const a of call.args.slice(1)) {
        const v = g.emit(a);
        const add = `${acc} = ${acc} === null ? ${v.code} : ${acc} + ${sep} + ${v.code};`;
        g.line(v.nullable ? `if (${v.code} != null) ${add}` : add);
      }
      g.line(`${out} = ${acc} === null ? "" : ${acc};`);
    }),
});

inline('UPPER', 'UPPER(s)', [1, 1], ['string'], T.string, ([x]) => `${x}.toUpperCase()`, { aliases: ['UCASE'] });
inline('LOWER', 'LOWER(s)', [1, 1], ['string'], T.string, ([x]) => `${x}.toLowerCase()`, { aliases: ['LCASE'] });
fn('TRIM', 'TRIM(s) -- removes leading and trailing spaces', [1, 2], ['string'], T.string, L.trimBoth, { aliases: ['BTRIM'] });
fn('LTRIM', 'LTRIM(s)', [1, 2], ['string'], T.string, L.trimLeft);
fn('RTRIM', 'RTRIM(s)', [1, 2], ['string'], T.string, L.trimRight);
inline('CHAR_LENGTH', 'CHAR_LENGTH(s) -- characters (code points)', [1, 1], ['string'], T.int, ([x], g) => `${g.k(L.SURROGATE)}.test(${x}) ? ${g.k(L.charLength)}(${x}) : ${x}.length`, {
  aliases: ['CHARACTER_LENGTH', 'LENGTH'],
});
fn('SUBSTRING', 'SUBSTRING(s, pos [, len]) / SUBSTRING(s FROM pos [FOR len]) -- 1-based', [2, 3], ['string', 'integer'], T.string, L.substring, {
  nullable: true,
  aliases: ['SUBSTR'],
});
fn('REPLACE', 'REPLACE(s, search, replacement)', [3, 3], ['string'], T.string, L.replaceAll);
fn('SPLIT_INDEX', 'SPLIT_INDEX(s, sep, index) -- 0-based; NULL when out of range', [3, 3], ['string', 'string', 'integer'], T.string, L.splitIndex, { nullable: true });
fn('POSITION', 'POSITION(needle, s) -- 1-based, 0 when absent', [2, 2], ['string'], T.int, L.position);
fn('LOCATE', 'LOCATE(needle, s [, from])', [2, 3], ['string', 'string', 'integer'], T.int, L.position);
inline('INSTR', 'INSTR(s, needle)', [2, 2], ['string'], T.int, ([s, n], g) => `${g.k(L.position)}(${n}, ${s})`);
fn('LPAD', 'LPAD(s, len, pad)', [3, 3], ['string', 'integer', 'string'], T.string, L.lpad, { nullable: true });
fn('RPAD', 'RPAD(s, len, pad)', [3, 3], ['string', 'integer', 'string'], T.string, L.rpad, { nullable: true });
fn('REPEAT', 'REPEAT(s, n)', [2, 2], ['string', 'integer'], T.string, L.repeat);
fn('REVERSE', 'REVERSE(s)', [1, 1], ['string'], T.string, L.reverse);
fn('INITCAP', 'INITCAP(s)', [1, 1], ['string'], T.string, L.initcap);
fn('LEFT', 'LEFT(s, n)', [2, 2], ['string', 'integer'], T.string, L.left);
fn('RIGHT', 'RIGHT(s, n)', [2, 2], ['string', 'integer'], T.string, L.right);
fn('ASCII', 'ASCII(s)', [1, 1], ['string'], T.int, L.ascii);
fn('CHR', 'CHR(n)', [1, 1], ['integer'], T.string, L.chr);
fn('TO_BASE64', 'TO_BASE64(s)', [1, 1], ['string'], T.string, L.toBase64);
fn('FROM_BASE64', 'FROM_BASE64(s)', [1, 1], ['string'], T.string, L.fromBase64);
fn('MD5', 'MD5(s)', [1, 1], ['string'], T.string, L.hash('md5'));
fn('SHA1', 'SHA1(s)', [1, 1], ['string'], T.string, L.hash('sha1'));
fn('SHA256', 'SHA256(s)', [1, 1], ['string'], T.string, L.hash('sha256'));
fn('UUID', 'UUID()', [0, 0], [], T.string, L.uuid, { volatile: true });
const DIGITS_RE = /^[0-9]+$/;
const ALPHA_RE = /^\p{L}+$/u;
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
inline('IS_DIGIT', 'IS_DIGIT(s)', [1, 1], ['string'], T.boolean, ([x], g) => `${g.k(DIGITS_RE)}.test(${x})`);
inline('IS_ALPHA', 'IS_ALPHA(s)', [1, 1], ['string'], T.boolean, ([x], g) => `${g.k(ALPHA_RE)}.test(${x})`);
inline('IS_DECIMAL', 'IS_DECIMAL(s)', [1, 1], ['string'], T.boolean, ([x], g) => `${g.k(DECIMAL_RE)}.test(${x})`);

def({
  name: 'LIKE',
  signature: "s LIKE pattern [ESCAPE 'c'] -- % any sequence, _ one character",
  minArgs: 2,
  maxArgs: 3,
  operator: true,
  check: (args, c) => {
    checkArgs(args, c, ['string']);
    const p = litString(args[1]);
    const esc = args[2] === undefined ? undefined : litString(args[2]);
    if (p !== undefined && (args[2] === undefined || esc !== undefined)) {
      try {
        L.planLike(p, esc);
      } catch (e) {
        typeError(c, (e as Error).message, 1);
      }
    }
    return { type: T.boolean };
  },
  gen: (g, call) => {
    const [s, p, esc] = call.args;
    const pat = litString(p);
    const escLit = esc === undefined ? undefined : litString(esc);
    if (pat !== undefined && (esc === undefined || escLit !== undefined)) {
      const plan = L.planLike(pat, escLit);
      return g.strict([s!], ([x]) => {
        switch (plan.kind) {
          case 'eq':
            return `${x} === ${JSON.stringify(plan.text)}`;
          case 'prefix':
            return `${x}.startsWith(${JSON.stringify(plan.text)})`;
          case 'suffix':
            return `${x}.endsWith(${JSON.stringify(plan.text)})`;
          case 'contains':
            return `${x}.includes(${JSON.stringify(plan.text)})`;
          case 'all':
            return 'true';
          default:
            return `${g.k(plan.re)}.test(${x})`;
        }
      });
    }
    const dyn = L.dynamicLike();
    return g.strict(call.args, (x) => `${g.k(dyn)}(${x.join(', ')})`, true);
  },
});

// Regular expressions: a literal pattern is compiled once (and checked when binding).

function regexArg(args: readonly BoundExpr[], c: CheckContext, i: number, global: boolean): RegExp | undefined {
  const src = litString(args[i]);
  if (src === undefined) return undefined;
  try {
    return L.compileRegex(src, global);
  } catch (e) {
    return typeError(c, (e as Error).message, i);
  }
}

function regexCode(g: Gen, arg: BoundExpr, code: string, global: boolean): string {
  const src = litString(arg);
  if (src !== undefined) return g.k(L.compileRegex(src, global));
  return `${g.k(L.regexCache(global))}(${code})`;
}

/** Generates a call `impl(s, re, ...rest)`: NULL when a run-time pattern is invalid. */
function regexGen(impl: (...a: never[]) => unknown, global: boolean, defaults: readonly string[] = []) {
  return (g: Gen, call: CallNode): Val =>
    g.strictBlock(call.args, (x, out) => {
      const re = regexCode(g, call.args[1]!, x[1]!, global);
      const rest = x.slice(2);
      for (let i = x.length; i < defaults.length; i++) rest.push(defaults[i]!);
      if (litString(call.args[1]) !== undefined) {
        g.line(`${out} = ${g.k(impl)}(${x[0]}, ${re}${rest.map((r) => ', ' + r).join('')});`);
      } else {
        const t = g.tmp();
        g.line(`${t} = ${re};`);
        g.line(`${out} = ${t} === null ? null : ${g.k(impl)}(${x[0]}, ${t}${rest.map((r) => ', ' + r).join('')});`);
      }
    }, true);
}

function checkGroup(args: readonly BoundExpr[], c: CheckContext, re: RegExp | undefined, dflt: number): void {
  const idx = args[2] === undefined ? dflt : litNumber(args[2]);
  if (re && idx !== undefined) {
    const groups = L.groupCount(re);
    if (idx < 0 || idx > groups) typeError(c, `Regular expression group index ${idx} is out of range [0, ${groups}]`, args[2] ? 2 : 1);
  }
}

def({
  name: 'REGEXP_EXTRACT',
  signature: 'REGEXP_EXTRACT(s, regex [, group]) -- group defaults to 0 (the whole match); NULL when no match',
  minArgs: 2,
  maxArgs: 3,
  check: (args, c) => {
    checkArgs(args, c, ['string', 'string', 'integer']);
    checkGroup(args, c, regexArg(args, c, 1, false), 0);
    return { type: T.string };
  },
  gen: regexGen(L.regexpExtract, false, ['', '', '0']),
});

def({
  name: 'REGEXP_EXTRACT_ALL',
  signature: 'REGEXP_EXTRACT_ALL(s, regex [, group]) -- ARRAY<STRING> of every match; group defaults to 1',
  minArgs: 2,
  maxArgs: 3,
  check: (args, c) => {
    checkArgs(args, c, ['string', 'string', 'integer']);
    const re = regexArg(args, c, 1, true);
    if (re && args[2] === undefined && L.groupCount(re) === 0) {
      // Flink's default group 1 needs a group; a pattern without one extracts whole matches.
      return { type: T.array(T.string) };
    }
    checkGroup(args, c, re, 1);
    return { type: T.array(T.string) };
  },
  gen: (g, call) => {
    if (call.args.length === 2) {
      const src = litString(call.args[1]);
      const dflt = src !== undefined && L.groupCount(L.compileRegex(src)) === 0 ? '0' : '1';
      return regexGen(L.regexpExtractAll, true, ['', '', dflt])(g, call);
    }
    return regexGen(L.regexpExtractAll, true)(g, call);
  },
});

def({
  name: 'REGEXP_REPLACE',
  signature: 'REGEXP_REPLACE(s, regex, replacement) -- replacement taken literally',
  minArgs: 3,
  maxArgs: 3,
  check: (args, c) => {
    checkArgs(args, c, ['string']);
    regexArg(args, c, 1, true);
    return { type: T.string };
  },
  gen: regexGen(L.regexpReplace, true),
});

def({
  name: 'REGEXP',
  signature: 'REGEXP(s, regex) -- TRUE when a substring matches',
  minArgs: 2,
  maxArgs: 2,
  check: (args, c) => {
    checkArgs(args, c, ['string']);
    regexArg(args, c, 1, false);
    return { type: T.boolean };
  },
  gen: regexGen(L.regexpTest, false),
});

// JSON

function jsonDef(name: string, signature: string, type: SqlType, impl: (json: string, path: L.JsonPath) => unknown): void {
  const dynamic = (json: string, path: string): unknown => {
    let p: L.JsonPath;
    try {
      p = L.compileJsonPath(path);
    } catch {
      return null;
    }
    return impl(json, p);
  };
  def({
    name,
    signature,
    minArgs: 2,
    maxArgs: 2,
    check: (args, c) => {
      checkArgs(args, c, ['string']);
      const p = litString(args[1]);
      if (p !== undefined) {
        try {
          L.compileJsonPath(p);
        } catch (e) {
          typeError(c, (e as Error).message, 1);
        }
      }
      return { type };
    },
    gen: (g, call) => {
      const p = litString(call.args[1]);
      if (p !== undefined) {
        const path = L.compileJsonPath(p);
        return g.strict([call.args[0]!], ([x]) => `${g.k(impl)}(${x}, ${g.k(path)})`, true);
      }
      return g.strict(call.args, (x) => `${g.k(dynamic)}(${x.join(', ')})`, true);
    },
  });
}

jsonDef('JSON_VALUE', "JSON_VALUE(json, '$.path') -- scalar at path as STRING", T.string, L.jsonValue);
jsonDef('JSON_QUERY', "JSON_QUERY(json, '$.path') -- object/array at path as JSON text", T.string, L.jsonQuery);
jsonDef('JSON_EXISTS', "JSON_EXISTS(json, '$.path')", T.boolean, L.jsonExists);

// ---------------------------------------------------------------------------------------------
// Numbers

inline('ABS', 'ABS(n)', [1, 1], ['numeric'], sameAsFirst, ([x], _g, call) => (call.type.kind === 'INT' ? `Math.abs(${x}) | 0` : `Math.abs(${x})`));
inline('SIGN', 'SIGN(n)', [1, 1], ['numeric'], sameAsFirst, ([x]) => `Math.sign(${x}) + 0`);

function roundType(args: readonly BoundExpr[]): SqlType {
  const t = args[0]!.type;
  if (t.kind === 'NULL') return T.int;
  if (t.kind !== 'DECIMAL') return t;
  const d = args[1] === undefined ? 0 : litNumber(args[1]);
  if (d === undefined) return t;
  const s = Math.max(0, Math.min(t.scale, d));
  return decimal(t.precision - t.scale + s + (s < t.scale ? 1 : 0), s);
}

function truncateTo(v: number, d: number): number {
  if (d >= 0) {
    if (d > 22) return v;
    const f = Math.pow(10, d);
    return Math.trunc(v * f) / f;
  }
  const f = Math.pow(10, -d);
  return Math.trunc(v / f) * f;
}

inline('ROUND', 'ROUND(n [, digits]) -- half away from zero', [1, 2], ['numeric', 'integer'], roundType, ([x, d], g, call) => {
  const digits = d ?? '0';
  if (isIntegral(call.type) && d === undefined) return x!;
  const r = `${g.k(roundHalfUp)}(${x}, ${digits})`;
  return call.type.kind === 'INT' ? `${r} | 0` : r;
});
inline('TRUNCATE', 'TRUNCATE(n [, digits])', [1, 2], ['numeric', 'integer'], roundType, ([x, d], g, call) => {
  if (isIntegral(call.type) && d === undefined) return x!;
  const r = `${g.k(truncateTo)}(${x}, ${d ?? '0'})`;
  return call.type.kind === 'INT' ? `${r} | 0` : r;
});

function floorCeilType(args: readonly BoundExpr[], c: CheckContext): SqlType {
  const t = args[0]!.type;
  if (args.length === 2) {
    const unit = litString(args[1]);
    if (t.kind !== 'NULL' && !isTemporalKind(t)) typeError(c, `${c.written}(... TO ${unit}) expects a TIMESTAMP, TIMESTAMP_LTZ or DATE but got ${show(t)}`, 0);
    return t.kind === 'NULL' ? T.timestamp : t;
  }
  if (t.kind === 'NULL') return T.int;
  if (!isNumericKind(t)) {
    typeError(c, `${c.written} expects a number but got ${show(t)}${isTemporalKind(t) ? `; use ${c.written}(ts TO unit)` : ''}`, 0);
  }
  if (t.kind === 'DECIMAL') {
    const d = decimalOf(t);
    return decimal(d.p - d.s + (d.s > 0 ? 1 : 0), 0);
  }
  return t;
}

function floorCeilGen(isFloor: boolean) {
  return (g: Gen, call: CallNode): Val => {
    if (call.args.length === 2) {
      const unit = litString(call.args[1]) as Unit;
      const t = call.type;
      const f = isFloor ? floorTo : ceilTo;
      if (t.kind === 'TIMESTAMP_LTZ' && !g.zone.isUtc) {
        const z = g.zone;
        const impl = (v: number) => z.fromWall(f(z.toWall(v), unit));
        return g.strict([call.args[0]!], ([x]) => `${g.k(impl)}(${x})`);
      }
      const fixed = FIXED_UNIT_MS[unit];
      if (fixed !== undefined && t.kind !== 'TIMESTAMP_LTZ') {
        // exact for epoch millis: x / unit is correctly rounded and never crosses an integer wrongly
        const fl = (x: string) => `Math.floor(${x} / ${fixed}) * ${fixed}`;
        if (isFloor) return g.strict([call.args[0]!], ([x]) => fl(x!));
        return g.strictBlock([call.args[0]!], ([x], out) => {
          g.line(`${out} = ${fl(x!)};`);
          g.line(`if (${out} !== ${x}) ${out} += ${fixed};`);
        });
      }
      return g.strict([call.args[0]!], ([x]) => `${g.k(f)}(${x}, ${JSON.stringify(unit)})`);
    }
    if (isIntegral(call.type)) return g.strict(call.args, ([x]) => x!);
    return g.strict(call.args, ([x]) => `Math.${isFloor ? 'floor' : 'ceil'}(${x}) + 0`);
  };
}

const FIXED_UNIT_MS: Partial<Record<Unit, number>> = { MILLISECOND: 1, SECOND: 1000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 };

const UNITS = new Set(['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY', 'WEEK', 'MONTH', 'QUARTER', 'YEAR']);

for (const name of ['FLOOR', 'CEIL'] as const) {
  def(
    {
      name,
      signature: `${name}(n) / ${name}(ts TO unit)`,
      minArgs: 1,
      maxArgs: 2,
      check: (args, c) => {
        if (args.length === 2) {
          const u = litString(args[1]);
          if (u === undefined || !UNITS.has(u)) typeError(c, `${c.written} expects a time unit (SECOND, MINUTE, HOUR, DAY, WEEK, MONTH, QUARTER, YEAR) after TO`, 1);
        }
        return { type: floorCeilType(args, c) };
      },
      gen: floorCeilGen(name === 'FLOOR'),
    },
    ...(name === 'CEIL' ? ['CEILING'] : []),
  );
}

const D = T.double;
inline('POWER', 'POWER(a, b)', [2, 2], ['numeric'], D, ([a, b]) => `Math.pow(${a}, ${b})`, { aliases: ['POW'] });
inline('SQRT', 'SQRT(n)', [1, 1], ['numeric'], D, ([x]) => `Math.sqrt(${x})`);
inline('EXP', 'EXP(n)', [1, 1], ['numeric'], D, ([x]) => `Math.exp(${x})`);
inline('LN', 'LN(n)', [1, 1], ['numeric'], D, ([x]) => `Math.log(${x})`);
inline('LOG10', 'LOG10(n)', [1, 1], ['numeric'], D, ([x]) => `Math.log10(${x})`);
inline('LOG2', 'LOG2(n)', [1, 1], ['numeric'], D, ([x]) => `Math.log2(${x})`);
inline('LOG', 'LOG(n) / LOG(base, n)', [1, 2], ['numeric'], D, ([a, b]) => (b === undefined ? `Math.log(${a})` : `Math.log(${b}) / Math.log(${a})`));
for (const f of ['SIN', 'COS', 'TAN', 'ASIN', 'ACOS', 'ATAN', 'SINH', 'COSH', 'TANH']) {
  inline(f, `${f}(n)`, [1, 1], ['numeric'], D, ([x]) => `Math.${f.toLowerCase()}(${x})`);
}
inline('ATAN2', 'ATAN2(y, x)', [2, 2], ['numeric'], D, ([y, x]) => `Math.atan2(${y}, ${x})`);
inline('COT', 'COT(n)', [1, 1], ['numeric'], D, ([x]) => `1 / Math.tan(${x})`);
inline('DEGREES', 'DEGREES(n)', [1, 1], ['numeric'], D, ([x]) => `${x} * 180 / Math.PI`);
inline('RADIANS', 'RADIANS(n)', [1, 1], ['numeric'], D, ([x]) => `${x} * Math.PI / 180`);
inline('PI', 'PI()', [0, 0], [], D, () => 'Math.PI');
inline('E', 'E()', [0, 0], [], D, () => 'Math.E');
inline('RAND', 'RAND([seed]) -- seed ignored', [0, 1], ['integer'], D, () => 'Math.random()', { volatile: true });
inline('RAND_INTEGER', 'RAND_INTEGER([seed,] bound)', [1, 2], ['integer'], T.int, (x) => `Math.floor(Math.random() * ${x[x.length - 1]})`, { volatile: true });
fn('BIN', 'BIN(n)', [1, 1], ['integer'], T.string, (n: number) => (n >= 0 ? n.toString(2) : BigInt.asUintN(64, BigInt(Math.trunc(n))).toString(2)));

// ---------------------------------------------------------------------------------------------
// Time

/** Compiled date patterns for formats known only at run time, cached per call site. */
function patternCache(): (fmt: string) => PatternToken[] | null {
  const cache = new Map<string, PatternToken[] | null>();
  return (fmt) => {
    let p = cache.get(fmt);
    if (p === undefined) {
      try {
        p = compilePattern(fmt);
      } catch {
        p = null;
      }
      if (cache.size > 256) cache.clear();
      cache.set(fmt, p);
    }
    return p;
  };
}

function checkPatternArg(args: readonly BoundExpr[], c: CheckContext, i: number): void {
  const p = litString(args[i]);
  if (p === undefined) return;
  try {
    compilePattern(p);
  } catch (e) {
    typeError(c, (e as Error).message, i);
  }
}

/** Emits code producing a compiled pattern for argument `i` (or the default), or null when invalid. */
function patternCode(g: Gen, call: CallNode, codes: string[], i: number, dflt: string): string {
  const arg = call.args[i];
  const lit = arg === undefined ? dflt : litString(arg);
  if (lit !== undefined) return g.k(compilePattern(lit));
  return `${g.k(patternCache())}(${codes[i]})`;
}

const DEFAULT_FORMAT = 'yyyy-MM-dd HH:mm:ss';

/** Wall clock (UTC millis) of a temporal or STRING value, or NaN. */
function wallOf(type: SqlType, zone: Zone): (v: unknown) => number {
  switch (type.kind) {
    case 'TIMESTAMP_LTZ':
      return (v) => zone.toWall(v as number);
    case 'STRING':
      return (v) => {
        const n = parseTimestampMs(v as string);
        return PARSED.hadZone ? zone.toWall(n) : n;
      };
    default:
      return (v) => v as number;
  }
}

def({
  name: 'DATE_FORMAT',
  signature: "DATE_FORMAT(ts, 'yyyy-MM-dd HH:mm:ss') -- Java DateTimeFormatter letters",
  minArgs: 2,
  maxArgs: 2,
  check: (args, c) => {
    checkArgs(args, c, ['stringOrTemporal', 'string']);
    checkPatternArg(args, c, 1);
    return { type: T.string };
  },
  gen: (g, call) => {
    const z = g.zone;
    const wall = wallOf(call.args[0]!.type, z);
    const zoneId = call.args[0]!.type.kind === 'TIMESTAMP_LTZ' ? z.id : 'UTC';
    const ltz = call.args[0]!.type.kind === 'TIMESTAMP_LTZ';
    const lit = litString(call.args[1]);
    if (lit !== undefined) {
      const format = patternFormatter(compilePattern(lit));
      const impl = ltz
        ? (v: number): string => format(z.toWall(v), z.offset(v), zoneId)
        : (v: unknown): string | null => {
            const w = wall(v);
            return Number.isNaN(w) ? null : format(w, 0, zoneId);
          };
      return g.strict([call.args[0]!], ([x]) => `${g.k(impl)}(${x})`, !ltz);
    }
    const fmt = (v: unknown, p: PatternToken[] | null): string | null => {
      if (p === null) return null;
      const w = wall(v);
      if (Number.isNaN(w)) return null;
      return formatPattern(p, w, ltz ? z.offset(v as number) : 0, zoneId);
    };
    return g.strict(call.args, (x) => `${g.k(fmt)}(${x[0]}, ${patternCode(g, call, x, 1, DEFAULT_FORMAT)})`, true);
  },
});

/** Parses text with an optional pattern; wall clock millis or NaN. */
function parseWith(s: string, p: PatternToken[] | null | undefined): number {
  if (p === null) return Number.NaN;
  return p === undefined ? parseTimestampMs(s) : parsePattern(p, s);
}

def({
  name: 'TO_TIMESTAMP',
  signature: "TO_TIMESTAMP(s [, format]) -- TIMESTAMP(3); NULL when s does not parse",
  minArgs: 1,
  maxArgs: 2,
  check: (args, c) => {
    checkArgs(args, c, ['string']);
    checkPatternArg(args, c, 1);
    return { type: T.timestamp };
  },
  gen: (g, call) => {
    const impl = (s: string, p?: PatternToken[] | null): number | null => {
      const v = parseWith(s, p);
      return Number.isNaN(v) ? null : v;
    };
    return g.strict(call.args, (x) => `${g.k(impl)}(${x[0]}${x.length > 1 ? ', ' + patternCode(g, call, x, 1, DEFAULT_FORMAT) : ''})`, true);
  },
});

def({
  name: 'TO_DATE',
  signature: "TO_DATE(s [, format]) -- DATE; NULL when s does not parse",
  minArgs: 1,
  maxArgs: 2,
  check: (args, c) => {
    checkArgs(args, c, ['string']);
    checkPatternArg(args, c, 1);
    return { type: T.date };
  },
  gen: (g, call) => {
    const impl = (s: string, p?: PatternToken[] | null): number | null => {
      const v = parseWith(s, p);
      return Number.isNaN(v) ? null : Math.floor(v / MS_DAY) * MS_DAY;
    };
    return g.strict(call.args, (x) => `${g.k(impl)}(${x[0]}${x.length > 1 ? ', ' + patternCode(g, call, x, 1, 'yyyy-MM-dd') : ''})`, true);
  },
});

def({
  name: 'TO_TIMESTAMP_LTZ',
  signature: 'TO_TIMESTAMP_LTZ(epoch, 0|3) -- seconds (0) or millis (3); TO_TIMESTAMP_LTZ(s [, format]) in the session zone',
  minArgs: 1,
  maxArgs: 2,
  check: (args, c) => {
    const t = args[0]!.type;
    if (t.kind === 'STRING') {
      checkArgs(args, c, ['string']);
      checkPatternArg(args, c, 1);
    } else {
      checkArgs(args, c, ['numeric', 'integer']);
      const p = litNumber(args[1]);
      if (p !== undefined && p !== 0 && p !== 3) typeError(c, `TO_TIMESTAMP_LTZ precision must be 0 (seconds) or 3 (milliseconds) but got ${p}`, 1);
    }
    return { type: T.timestampLtz };
  },
  gen: (g, call) => {
    if (call.args[0]!.type.kind === 'STRING') {
      const z = g.zone;
      const impl = (s: string, p?: PatternToken[] | null): number | null => {
        const v = parseWith(s, p);
        if (Number.isNaN(v)) return null;
        return PARSED.hadZone ? v : z.fromWall(v);
      };
      return g.strict(call.args, (x) => `${g.k(impl)}(${x[0]}${x.length > 1 ? ', ' + patternCode(g, call, x, 1, DEFAULT_FORMAT) : ''})`, true);
    }
    const p = call.args.length > 1 ? litNumber(call.args[1]) : 3;
    if (p === 3) return g.strict([call.args[0]!], ([x]) => `Math.floor(${x})`);
    if (p === 0) return g.strict([call.args[0]!], ([x]) => `Math.floor(${x} * 1000)`);
    return g.strict(call.args, ([x, q]) => `${q} === 0 ? Math.floor(${x} * 1000) : ${q} === 3 ? Math.floor(${x}) : null`, true);
  },
});

def({
  name: 'UNIX_TIMESTAMP',
  signature: 'UNIX_TIMESTAMP() / UNIX_TIMESTAMP(s [, format]) -- epoch seconds; s read in the session zone',
  minArgs: 0,
  maxArgs: 2,
  volatile: true,
  check: (args, c) => {
    checkArgs(args, c, ['string']);
    checkPatternArg(args, c, 1);
    return { type: T.bigint };
  },
  gen: (g, call) => {
    if (call.args.length === 0) return { code: 'Math.floor(Date.now() / 1000)', nullable: false };
    const z = g.zone;
    const impl = (s: string, p?: PatternToken[] | null): number | null => {
      const v = parseWith(s, p);
      if (Number.isNaN(v)) return null;
      return Math.floor((PARSED.hadZone ? v : z.fromWall(v)) / 1000);
    };
    return g.strict(call.args, (x) => `${g.k(impl)}(${x[0]}${x.length > 1 ? ', ' + patternCode(g, call, x, 1, DEFAULT_FORMAT) : ''})`, true);
  },
});

def({
  name: 'FROM_UNIXTIME',
  signature: "FROM_UNIXTIME(seconds [, format]) -- STRING in the session zone, default 'yyyy-MM-dd HH:mm:ss'",
  minArgs: 1,
  maxArgs: 2,
  check: (args, c) => {
    checkArgs(args, c, ['numeric', 'string']);
    checkPatternArg(args, c, 1);
    return { type: T.string };
  },
  gen: (g, call) => {
    const z = g.zone;
    const impl = (sec: number, p: PatternToken[] | null): string | null => {
      if (p === null) return null;
      const ms = Math.floor(sec * 1000);
      const off = z.offset(ms);
      return formatPattern(p, ms + off, off, z.id);
    };
    return g.strict(call.args, (x) => `${g.k(impl)}(${x[0]}, ${patternCode(g, call, x, 1, DEFAULT_FORMAT)})`, true);
  },
});

def({
  name: 'CONVERT_TZ',
  signature: "CONVERT_TZ(s, fromZone, toZone) -- 'yyyy-MM-dd HH:mm:ss' text moved between zones",
  minArgs: 3,
  maxArgs: 3,
  check: (args, c) => {
    checkArgs(args, c, ['string']);
    for (const i of [1, 2]) {
      const z = litString(args[i]);
      if (z !== undefined) {
        try {
          getZone(z);
        } catch {
          typeError(c, `Unknown time zone '${z}'`, i);
        }
      }
    }
    return { type: T.string };
  },
  gen: (g, call) => {
    const pattern = compilePattern(DEFAULT_FORMAT);
    const impl = (s: string, from: string, to: string): string | null => {
      const w = parseTimestampMs(s);
      if (Number.isNaN(w)) return null;
      let zf: Zone;
      let zt: Zone;
      try {
        zf = getZone(from);
        zt = getZone(to);
      } catch {
        return null;
      }
      const instant = PARSED.hadZone ? w : zf.fromWall(w);
      const off = zt.offset(instant);
      return formatPattern(pattern, instant + off, off, zt.id);
    };
    return g.strict(call.args, (x) => `${g.k(impl)}(${x.join(', ')})`, true);
  },
});

// Processing time. PROCTIME() is usually a planner attribute; evaluated here it is the current time.
for (const [name, type, sig] of [
  ['CURRENT_TIMESTAMP', T.timestampLtz, 'CURRENT_TIMESTAMP -- TIMESTAMP_LTZ(3), per row'],
  ['NOW', T.timestampLtz, 'NOW()'],
  ['CURRENT_ROW_TIMESTAMP', T.timestampLtz, 'CURRENT_ROW_TIMESTAMP()'],
  ['PROCTIME', T.timestampLtz, 'PROCTIME()'],
  ['LOCALTIMESTAMP', T.timestamp, 'LOCALTIMESTAMP -- TIMESTAMP(3) wall clock in the session zone'],
  ['CURRENT_DATE', T.date, 'CURRENT_DATE -- DATE in the session zone'],
] as const) {
  def({
    name,
    signature: sig,
    minArgs: 0,
    maxArgs: 0,
    volatile: true,
    check: () => ({ type }),
    gen: (g) => {
      if (type.kind === 'TIMESTAMP_LTZ') return { code: 'Date.now()', nullable: false };
      const z = g.zone;
      const impl = type.kind === 'DATE' ? () => Math.floor(z.toWall(Date.now()) / MS_DAY) * MS_DAY : () => z.toWall(Date.now());
      const out = g.tmp();
      g.line(`${out} = ${g.k(impl)}();`);
      return { code: out, nullable: false };
    },
  });
}

const FIELDS: [string, Field][] = [
  ['YEAR', 'YEAR'],
  ['QUARTER', 'QUARTER'],
  ['MONTH', 'MONTH'],
  ['WEEK', 'WEEK'],
  ['DAYOFYEAR', 'DAYOFYEAR'],
  ['DAYOFMONTH', 'DAYOFMONTH'],
  ['DAYOFWEEK', 'DAYOFWEEK'],
  ['HOUR', 'HOUR'],
  ['MINUTE', 'MINUTE'],
  ['SECOND', 'SECOND'],
];
for (const [name, field] of FIELDS) {
  def({
    name,
    signature: `${name}(ts) -- BIGINT`,
    minArgs: 1,
    maxArgs: 1,
    check: (args, c) => {
      checkArgs(args, c, ['temporal']);
      return { type: T.bigint };
    },
    gen: (g, call) => {
      if (call.args[0]!.type.kind === 'TIMESTAMP_LTZ' && !g.zone.isUtc) {
        const z = g.zone;
        const impl = (v: number) => extractField(z.toWall(v), field);
        return g.strict(call.args, ([x]) => `${g.k(impl)}(${x})`);
      }
      return g.strict(call.args, ([x]) => `${g.k(extractField)}(${x}, ${JSON.stringify(field)})`);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// Arrays and rows

def({
  name: 'ITEM',
  signature: 'arr[i] -- 1-based; NULL when out of range',
  minArgs: 2,
  maxArgs: 2,
  operator: true,
  check: (args, c) => {
    const t = args[0]!.type;
    if (t.kind !== 'ARRAY' && t.kind !== 'NULL') typeError(c, `Cannot index a value of type ${show(t)}; [] applies to ARRAY values`, 0);
    const it = args[1]!.type;
    if (it.kind !== 'NULL' && !isIntegral(it)) typeError(c, `An array index must be an integer (INT or BIGINT) but got ${show(it)}`, 1);
    return { type: t.kind === 'ARRAY' ? t.element : T.null };
  },
  gen: (g, call) => g.strict(call.args, ([a, i]) => `${g.k(L.item)}(${a}, ${i})`, true),
});

def({
  name: 'FIELD',
  signature: 'row.field',
  minArgs: 2,
  maxArgs: 2,
  operator: true,
  check: (args, c) => {
    const t = args[0]!.type;
    const name = litString(args[1]);
    if (t.kind !== 'ROW' || name === undefined) return typeError(c, `Cannot access field '${name}' of a value of type ${show(t)}`);
    const f = t.fields.find((x) => x.name === name);
    if (!f) return typeError(c, `Field '${name}' not found in ${show(t)}`);
    return { type: f.type };
  },
  gen: (g, call) => g.strict([call.args[0]!], ([x]) => `${x}[${JSON.stringify(litString(call.args[1]))}] ?? null`, true),
});

inline('CARDINALITY', 'CARDINALITY(arr)', [1, 1], ['array'], T.int, ([x]) => `${x}.length`);

def({
  name: 'ARRAY',
  signature: 'ARRAY(v1, v2, ...)',
  minArgs: 1,
  maxArgs: Infinity,
  check: (args, c) => {
    const r = unify(args, c, 'ARRAY');
    return { type: T.array(r.type.kind === 'NULL' ? T.string : r.type), args: r.args };
  },
  gen: (g, call) => {
    const codes = call.args.map((a) => {
      const v = g.emit(a);
      return v.nullable ? `${v.code} ?? null` : v.code;
    });
    const out = g.tmp();
    g.line(`${out} = [${codes.join(', ')}];`);
    return { code: out, nullable: false };
  },
});

def({
  name: 'ROW',
  signature: 'ROW(v1, v2, ...) -- fields EXPR$0, EXPR$1, ...',
  minArgs: 1,
  maxArgs: Infinity,
  check: (args) => ({ type: { kind: 'ROW', fields: args.map((a, i) => ({ name: `EXPR$${i}`, type: a.type })) } }),
  gen: (g, call) => {
    const codes = call.args.map((a, i) => {
      const v = g.emit(a);
      return `${JSON.stringify(`EXPR$${i}`)}: ${v.nullable ? `${v.code} ?? null` : v.code}`;
    });
    const out = g.tmp();
    g.line(`${out} = {${codes.join(', ')}};`);
    return { code: out, nullable: false };
  },
});

def({
  name: 'ARRAY_CONTAINS',
  signature: 'ARRAY_CONTAINS(arr, v)',
  minArgs: 2,
  maxArgs: 2,
  check: (args, c) => {
    const t = args[0]!.type;
    if (t.kind !== 'ARRAY' && t.kind !== 'NULL') typeError(c, `ARRAY_CONTAINS expects an ARRAY as argument 1 but got ${show(t)}`, 0);
    let v = args[1]!;
    if (t.kind === 'ARRAY') {
      v = coerceLiteral(v, t.element, c, 1);
      if (!commonType(t.element, v.type)) typeError(c, `ARRAY_CONTAINS cannot look for ${show(v.type)} in ${show(t)}`, 1);
    }
    return { type: T.boolean, args: [args[0]!, v] };
  },
  gen: (g, call) => g.strict(call.args, ([a, v]) => `${g.k(L.arrayContains)}(${a}, ${v})`, true),
});

fn('ARRAY_JOIN', 'ARRAY_JOIN(arr, sep [, nullReplacement])', [2, 3], ['array', 'string'], T.string, L.arrayJoin);

def({
  name: 'ELEMENT',
  signature: 'ELEMENT(arr) -- the only element; NULL when empty',
  minArgs: 1,
  maxArgs: 1,
  check: (args, c) => {
    const t = args[0]!.type;
    if (t.kind !== 'ARRAY' && t.kind !== 'NULL') typeError(c, `ELEMENT expects an ARRAY but got ${show(t)}`, 0);
    return { type: t.kind === 'ARRAY' ? t.element : T.null };
  },
  gen: (g, call) => {
    const impl = (a: readonly unknown[]): unknown => {
      if (a.length > 1) throw new DataError(`ELEMENT of an array with ${a.length} elements`);
      return a.length === 0 ? null : (a[0] ?? null);
    };
    return g.strict(call.args, ([x]) => `${g.k(impl)}(${x})`, true);
  },
});

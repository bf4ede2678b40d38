/**
 * A tiny builder of syntactic Expr trees, for tests and for planners that synthesize expressions.
 * Positions default to 1:1 unless given with `at(line, column)`.
 */
import type { SqlType } from '../plan/types.ts';
import type { BinaryOp, Expr, TimeUnit } from '../sql/ast.ts';
import type { Pos } from '../sql/errors.ts';

export function at(line: number, column: number, offset = 0): Pos {
  return { line, column, offset };
}

const P0: Pos = at(1, 1);

export const E = {
  lit: (value: null | boolean | number | string, pos: Pos = P0): Expr => ({ kind: 'literal', value, pos }),
  col: (name: string, table?: string, pos: Pos = P0): Expr => ({ kind: 'column', name, table, pos }),
  star: (table?: string, pos: Pos = P0): Expr => ({ kind: 'star', table, pos }),
  interval: (millis: number, pos: Pos = P0): Expr => ({ kind: 'interval', millis, text: `INTERVAL '${millis}' MILLISECOND`, pos }),
  ts: (text: string, pos: Pos = P0): Expr => ({ kind: 'timestampLiteral', text, type: 'TIMESTAMP', pos }),
  date: (text: string, pos: Pos = P0): Expr => ({ kind: 'timestampLiteral', text, type: 'DATE', pos }),
  bin: (op: BinaryOp, left: Expr, right: Expr, pos: Pos = P0): Expr => ({ kind: 'binary', op, left, right, pos }),
  and: (left: Expr, right: Expr, pos: Pos = P0): Expr => ({ kind: 'binary', op: 'AND', left, right, pos }),
  or: (left: Expr, right: Expr, pos: Pos = P0): Expr => ({ kind: 'binary', op: 'OR', left, right, pos }),
  not: (operand: Expr, pos: Pos = P0): Expr => ({ kind: 'unary', op: 'NOT', operand, pos }),
  neg: (operand: Expr, pos: Pos = P0): Expr => ({ kind: 'unary', op: '-', operand, pos }),
  isNull: (operand: Expr, negated = false, pos: Pos = P0): Expr => ({ kind: 'isNull', operand, negated, pos }),
  isBool: (operand: Expr, value: boolean, negated = false, pos: Pos = P0): Expr => ({ kind: 'isBool', operand, value, negated, pos }),
  in: (operand: Expr, list: readonly Expr[], negated = false, pos: Pos = P0): Expr => ({ kind: 'in', operand, list, negated, pos }),
  between: (operand: Expr, low: Expr, high: Expr, negated = false, pos: Pos = P0): Expr => ({ kind: 'between', operand, low, high, negated, pos }),
  like: (operand: Expr, pattern: Expr, opts: { escape?: Expr; negated?: boolean } = {}, pos: Pos = P0): Expr => ({
    kind: 'like',
    operand,
    pattern,
    escape: opts.escape,
    negated: opts.negated ?? false,
    pos,
  }),
  case: (whens: readonly [Expr, Expr][], els?: Expr, operand?: Expr, pos: Pos = P0): Expr => ({
    kind: 'case',
    operand,
    whens: whens.map(([when, then]) => ({ when, then })),
    else: els,
    pos,
  }),
  cast: (operand: Expr, type: SqlType, safe = false, pos: Pos = P0): Expr => ({ kind: 'cast', operand, type, safe, pos }),
  call: (name: string, ...args: Expr[]): Expr => ({ kind: 'call', name, args, distinct: false, star: false, pos: P0 }),
  callAt: (pos: Pos, name: string, ...args: Expr[]): Expr => ({ kind: 'call', name, args, distinct: false, star: false, pos }),
  countStar: (pos: Pos = P0): Expr => ({ kind: 'call', name: 'COUNT', args: [], distinct: false, star: true, pos }),
  field: (operand: Expr, name: string, pos: Pos = P0): Expr => ({ kind: 'field', operand, name, pos }),
  index: (operand: Expr, index: Expr, pos: Pos = P0): Expr => ({ kind: 'index', operand, index, pos }),
  floor: (operand: Expr, unit?: TimeUnit, pos: Pos = P0): Expr => ({ kind: 'floorCeil', fn: 'FLOOR', operand, unit, pos }),
  ceil: (operand: Expr, unit?: TimeUnit, pos: Pos = P0): Expr => ({ kind: 'floorCeil', fn: 'CEIL', operand, unit, pos }),
};

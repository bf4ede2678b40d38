import type { SqlType } from '../plan/types.ts';
import type { Pos } from './errors.ts';

/**
 * Our own syntax tree for query expressions: plain readonly data with the source position of each
 * node. node-sql-parser's tree is converted into this once (engine/sql/convert.ts), so nothing after
 * the parser depends on that library's shapes.
 */
export type Expr =
  | { readonly kind: 'literal'; readonly value: null | boolean | number | string; readonly pos: Pos }
  | { readonly kind: 'interval'; readonly millis: number; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'timestampLiteral'; readonly text: string; readonly type: 'TIMESTAMP' | 'DATE'; readonly pos: Pos }
  | { readonly kind: 'column'; readonly table?: string; readonly name: string; readonly pos: Pos }
  | { readonly kind: 'star'; readonly table?: string; readonly pos: Pos }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr; readonly pos: Pos }
  | { readonly kind: 'unary'; readonly op: 'NOT' | '-' | '+'; readonly operand: Expr; readonly pos: Pos }
  | { readonly kind: 'isNull'; readonly operand: Expr; readonly negated: boolean; readonly pos: Pos }
  | { readonly kind: 'isBool'; readonly operand: Expr; readonly value: boolean; readonly negated: boolean; readonly pos: Pos }
  | { readonly kind: 'in'; readonly operand: Expr; readonly list: readonly Expr[]; readonly negated: boolean; readonly pos: Pos }
  | { readonly kind: 'between'; readonly operand: Expr; readonly low: Expr; readonly high: Expr; readonly negated: boolean; readonly pos: Pos }
  | { readonly kind: 'like'; readonly operand: Expr; readonly pattern: Expr; readonly escape?: Expr; readonly negated: boolean; readonly pos: Pos }
  | { readonly kind: 'case'; readonly operand?: Expr; readonly whens: readonly { readonly when: Expr; readonly then: Expr }[]; readonly else?: Expr; readonly pos: Pos }
  | { readonly kind: 'cast'; readonly operand: Expr; readonly type: SqlType; readonly safe: boolean; readonly pos: Pos }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[]; readonly distinct: boolean; readonly star: boolean; readonly pos: Pos }
  | { readonly kind: 'field'; readonly operand: Expr; readonly name: string; readonly pos: Pos }
  | { readonly kind: 'index'; readonly operand: Expr; readonly index: Expr; readonly pos: Pos }
  | { readonly kind: 'floorCeil'; readonly fn: 'FLOOR' | 'CEIL'; readonly operand: Expr; readonly unit?: TimeUnit; readonly pos: Pos }
  /** A ranking function over a window: `ROW_NUMBER() OVER (PARTITION BY ... ORDER BY ...)`. Only Window Top-N plans it. */
  | { readonly kind: 'over'; readonly fn: string; readonly args: readonly Expr[]; readonly partitionBy: readonly Expr[]; readonly orderBy: readonly OrderItem[]; readonly pos: Pos };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'AND' | 'OR' | '||';

export type TimeUnit = 'MILLISECOND' | 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'WEEK' | 'MONTH' | 'QUARTER' | 'YEAR';

export interface SelectItem {
  readonly expr: Expr;
  readonly alias?: string;
  readonly pos: Pos;
}

export type WindowKind = 'TUMBLE' | 'HOP' | 'SESSION' | 'CUMULATE';

export type FromItem =
  | { readonly kind: 'table'; readonly name: string; readonly alias?: string; readonly pos: Pos }
  | { readonly kind: 'subquery'; readonly query: Select; readonly alias?: string; readonly pos: Pos }
  | {
      readonly kind: 'window';
      readonly window: WindowKind;
      readonly table: FromItem;
      readonly timeCol: Expr;
      /** Interval arguments in the order Flink takes them (HOP: slide, size). */
      readonly args: readonly Expr[];
      readonly alias?: string;
      readonly pos: Pos;
    }
  /** `input CROSS JOIN UNNEST(array) AS alias(column)` (or `input, UNNEST(...)`): one row per element. */
  | { readonly kind: 'unnest'; readonly input: FromItem; readonly array: Expr; readonly alias?: string; readonly column: string; readonly pos: Pos };

export interface OrderItem {
  readonly expr: Expr;
  readonly desc: boolean;
  /** NULLS FIRST / NULLS LAST when written; otherwise NULL sorts as the smallest value (as Flink). */
  readonly nullsFirst?: boolean;
}

export interface Select {
  readonly kind: 'select';
  readonly distinct: boolean;
  readonly items: readonly SelectItem[];
  readonly from: readonly FromItem[];
  readonly where?: Expr;
  readonly groupBy: readonly Expr[];
  readonly having?: Expr;
  readonly orderBy: readonly OrderItem[];
  readonly limit?: number;
  readonly pos: Pos;
}

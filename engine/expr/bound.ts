import type { Expr } from '../sql/ast.ts';
import type { SqlType } from '../plan/types.ts';
import type { Pos } from '../sql/errors.ts';

/**
 * An expression after name resolution and type checking: plain data (it is stored in plans and
 * EXPLAIN output), compiled once per job into a JavaScript function by compile.ts.
 * Rows at run time are arrays; `input` reads position `index` of the operator's input row.
 */
export type BoundExpr =
  | { readonly kind: 'literal'; readonly value: unknown; readonly type: SqlType }
  | { readonly kind: 'input'; readonly index: number; readonly name: string; readonly type: SqlType }
  /** Every operator and scalar function, by its canonical upper-case name (e.g. '+', 'AND', 'LIKE', 'UPPER'). */
  | { readonly kind: 'call'; readonly fn: string; readonly args: readonly BoundExpr[]; readonly type: SqlType }
  | { readonly kind: 'cast'; readonly operand: BoundExpr; readonly safe: boolean; readonly type: SqlType }
  | {
      readonly kind: 'case';
      readonly whens: readonly { readonly when: BoundExpr; readonly then: BoundExpr }[];
      readonly else: BoundExpr | undefined;
      readonly type: SqlType;
    };

/** What an expression can see: the columns of the operator input it will run on. */
export interface ScopeColumn {
  readonly name: string;
  /** Qualifiers under which the column can be referenced (table name, alias). */
  readonly tables: readonly string[];
  readonly type: SqlType;
}

export interface Scope {
  readonly columns: readonly ScopeColumn[];
  /** Time zone for TIMESTAMP_LTZ conversions and DATE_FORMAT of LTZ values (table.local-time-zone). */
  readonly timeZone: string;
  /**
   * Lets the planner replace a sub-expression before ordinary binding: aggregate calls and GROUP BY
   * expressions become input references of the aggregate's output. Return undefined to bind normally.
   */
  readonly intercept?: (expr: Expr) => BoundExpr | undefined;
}

export interface CompiledExpr {
  (row: readonly unknown[]): unknown;
}

export type { Pos };

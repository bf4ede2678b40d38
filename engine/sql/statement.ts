import type { SqlType } from '../plan/types.ts';
import type { Expr, Select } from './ast.ts';
import type { Pos } from './errors.ts';

export type ColumnDef =
  | { readonly kind: 'physical'; readonly name: string; readonly type: SqlType; readonly pos: Pos }
  | { readonly kind: 'computed'; readonly name: string; readonly expr: Expr; readonly exprText: string; readonly pos: Pos }
  | { readonly kind: 'metadata'; readonly name: string; readonly type: SqlType; readonly key: string; readonly pos: Pos };

export interface WatermarkDef {
  readonly column: string;
  readonly expr: Expr;
  readonly exprText: string;
  readonly pos: Pos;
}

/** One parsed statement. `text` is the statement's own source text; `pos` where it starts. */
export type Statement =
  | {
      readonly kind: 'createTable';
      readonly name: string;
      readonly ifNotExists: boolean;
      readonly columns: readonly ColumnDef[];
      readonly watermark?: WatermarkDef;
      readonly primaryKey?: readonly string[];
      readonly partitionedBy: readonly string[];
      readonly options: Readonly<Record<string, string>>;
      readonly optionPos: Readonly<Record<string, Pos>>;
      readonly text: string;
      readonly pos: Pos;
    }
  | { readonly kind: 'createView'; readonly name: string; readonly orReplace: boolean; readonly ifNotExists: boolean; readonly query: Select; readonly queryText: string; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'createMaterializedView'; readonly name: string; readonly ifNotExists: boolean; readonly query: Select; readonly queryText: string; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'drop'; readonly what: 'TABLE' | 'VIEW' | 'MATERIALIZED VIEW'; readonly name: string; readonly ifExists: boolean; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'show'; readonly what: 'TABLES' | 'VIEWS' | 'JOBS'; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'describe'; readonly name: string; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'explain'; readonly format: 'TEXT' | 'JSON'; readonly target: Statement; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'set'; readonly key?: string; readonly value?: string; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'reset'; readonly key?: string; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'insert'; readonly sink: string; readonly sinkPos: Pos; readonly columns?: readonly string[]; readonly query: Select; readonly queryText: string; readonly text: string; readonly pos: Pos }
  | { readonly kind: 'query'; readonly query: Select; readonly text: string; readonly pos: Pos };

export type StatementKind = Statement['kind'];

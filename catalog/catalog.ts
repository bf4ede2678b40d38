import type { Select } from '../engine/sql/ast.ts';
import { SqlError } from '../engine/sql/errors.ts';
import type { Statement } from '../engine/sql/statement.ts';
import type { SourceTable } from '../engine/plan/plan.ts';
import type { PlannerCatalog } from '../engine/plan/planner.ts';

type CreateTable = Extract<Statement, { kind: 'createTable' }>;

export interface TableEntry {
  readonly kind: 'table';
  readonly name: string;
  readonly stmt: CreateTable;
  readonly table: SourceTable;
  readonly sql: string;
  readonly createdAt: string;
}

export interface ViewEntry {
  readonly kind: 'view';
  readonly name: string;
  readonly query: Select;
  readonly sql: string;
  readonly createdAt: string;
}

/** A materialized view: a job keeps its query's results in a table of the view store (jobs/materialized-views.ts). */
export interface MaterializedViewEntry {
  readonly kind: 'materializedView';
  readonly name: string;
  readonly query: Select;
  readonly sql: string;
  readonly createdAt: string;
}

export type CatalogEntry = TableEntry | ViewEntry | MaterializedViewEntry;

/** Tables and views by name (case-insensitive, one namespace, as in Flink's default catalog). */
export class Catalog implements PlannerCatalog {
  private readonly entries = new Map<string, CatalogEntry>();

  table(name: string): SourceTable | undefined {
    const e = this.entries.get(name.toLowerCase());
    return e?.kind === 'table' ? e.table : undefined;
  }

  view(name: string): { readonly query: Select } | undefined {
    const e = this.entries.get(name.toLowerCase());
    return e?.kind === 'view' ? e : undefined;
  }

  get(name: string): CatalogEntry | undefined {
    return this.entries.get(name.toLowerCase());
  }

  list(): CatalogEntry[] {
    return [...this.entries.values()];
  }

  add(e: CatalogEntry): void {
    this.entries.set(e.name.toLowerCase(), e);
  }

  remove(name: string): void {
    this.entries.delete(name.toLowerCase());
  }

  /** Throws the 409 conflict a duplicate name deserves. */
  assertFree(name: string, pos: SqlError['pos']): void {
    const e = this.get(name);
    if (e) throw new SqlError('conflict', `A ${e.kind === 'materializedView' ? 'materialized view' : e.kind} named '${e.name}' already exists`, pos);
  }
}

// An independent batch oracle for streaming results: DuckDB in memory. Tests load the same valid input
// rows the stream read, write the equivalent batch SQL (adjusted to Flink's semantics where DuckDB's
// differ, e.g. AVG of INT truncated toward zero), and compare every output row as a multiset.
import { DuckDBInstance } from '@duckdb/node-api';
import type { DuckDBConnection } from '@duckdb/node-api';

export type OracleType = 'BIGINT' | 'INTEGER' | 'VARCHAR' | 'DOUBLE' | 'BOOLEAN';

export class Oracle {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
  ) {}

  static async create(): Promise<Oracle> {
    const instance = await DuckDBInstance.create(':memory:', { threads: '1' });
    const conn = await instance.connect();
    return new Oracle(instance, conn);
  }

  async run(sql: string): Promise<void> {
    await this.conn.run(sql);
  }

  /** Creates `table` with the columns and appends the rows (null → NULL). */
  async load(table: string, columns: readonly (readonly [name: string, type: OracleType])[], rows: readonly (readonly unknown[])[]): Promise<void> {
    await this.conn.run(`CREATE TABLE ${table} (${columns.map(([n, t]) => `"${n}" ${t}`).join(', ')})`);
    const app = await this.conn.createAppender(table);
    for (const r of rows) {
      columns.forEach(([, t], i) => {
        const v = r[i];
        if (v === null || v === undefined) return app.appendNull();
        switch (t) {
          case 'BIGINT':
            return app.appendBigInt(BigInt(v as number));
          case 'INTEGER':
            return app.appendInteger(v as number);
          case 'VARCHAR':
            return app.appendVarchar(String(v));
          case 'DOUBLE':
            return app.appendDouble(v as number);
          case 'BOOLEAN':
            return app.appendBoolean(v as boolean);
        }
      });
      app.endRow();
    }
    app.closeSync();
  }

  /** Rows as JSON-friendly objects (BIGINT/HUGEINT as strings, timestamps as text). */
  async query(sql: string): Promise<Record<string, unknown>[]> {
    const reader = await this.conn.runAndReadAll(sql);
    return reader.getRowObjectsJson() as Record<string, unknown>[];
  }

  close(): void {
    this.conn.closeSync();
    this.instance.closeSync();
  }
}

/** One row as a canonical text over `columns`: NULL for null, numbers without trailing zeros. */
export function canon(row: Record<string, unknown>, columns: readonly string[]): string {
  return columns
    .map((c) => {
      const v = row[c];
      if (v === null || v === undefined) return 'NULL';
      if (typeof v === 'number' || typeof v === 'bigint') return String(v);
      if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v)) return String(Number(v));
      return typeof v === 'string' ? v : JSON.stringify(v);
    })
    .join(' | ');
}

/** Multiset difference: what `expected` has that `actual` lacks (missing) and the other way round (extra). */
export function multisetDiff(actual: readonly string[], expected: readonly string[]): { missing: string[]; extra: string[] } {
  const counts = new Map<string, number>();
  for (const e of expected) counts.set(e, (counts.get(e) ?? 0) + 1);
  const extra: string[] = [];
  for (const a of actual) {
    const n = counts.get(a) ?? 0;
    if (n === 0) extra.push(a);
    else counts.set(a, n - 1);
  }
  const missing: string[] = [];
  for (const [k, n] of counts) for (let i = 0; i < n; i++) missing.push(k);
  return { missing: missing.sort(), extra: extra.sort() };
}

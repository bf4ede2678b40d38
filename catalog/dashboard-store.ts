import type { Database as Db } from 'better-sqlite3';
import type { Dashboard } from './dashboards.ts';

/**
 * Dashboards in the catalog's SQLite file: one row each, the checked dashboard as JSON. At most one is
 * the default, kept so by a partial unique index and by clearing the old default in the same transaction.
 */
export class DashboardStore {
  constructor(private readonly db: Db) {
    db.exec(`
      CREATE TABLE IF NOT EXISTS dashboards (
        name TEXT PRIMARY KEY COLLATE NOCASE, spec TEXT NOT NULL, is_default INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL, updated_at TEXT NOT NULL
      );
      CREATE UNIQUE INDEX IF NOT EXISTS dashboards_one_default ON dashboards (is_default) WHERE is_default = 1;
    `);
  }

  list(): Dashboard[] {
    const rows = this.db.prepare('SELECT spec, is_default FROM dashboards ORDER BY name COLLATE NOCASE').all() as { spec: string; is_default: number }[];
    return rows.map(fromRow);
  }

  get(name: string): Dashboard | undefined {
    const row = this.db.prepare('SELECT spec, is_default FROM dashboards WHERE name = ?').get(name) as { spec: string; is_default: number } | undefined;
    return row ? fromRow(row) : undefined;
  }

  /** Creates or replaces; true when it was created. A new default takes the flag from the old one. */
  put(d: Dashboard): boolean {
    const now = new Date().toISOString();
    const { default: isDefault, ...rest } = d;
    return this.db.transaction(() => {
      const existed = this.db.prepare('SELECT 1 FROM dashboards WHERE name = ?').get(d.name) !== undefined;
      if (isDefault) this.db.prepare('UPDATE dashboards SET is_default = 0 WHERE is_default = 1 AND name <> ?').run(d.name);
      this.db
        .prepare(
          `INSERT INTO dashboards (name, spec, is_default, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
           ON CONFLICT(name) DO UPDATE SET name = excluded.name, spec = excluded.spec, is_default = excluded.is_default, updated_at = excluded.updated_at`,
        )
        .run(d.name, JSON.stringify(rest), isDefault ? 1 : 0, now, now);
      return !existed;
    })();
  }

  delete(name: string): boolean {
    return this.db.prepare('DELETE FROM dashboards WHERE name = ?').run(name).changes > 0;
  }
}

function fromRow(r: { spec: string; is_default: number }): Dashboard {
  const spec = JSON.parse(r.spec) as Omit<Dashboard, 'default'>;
  return { ...spec, default: r.is_default === 1 };
}

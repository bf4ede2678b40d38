import Database from 'better-sqlite3';
import type { Database as Db } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DashboardStore } from './dashboard-store.ts';

export interface StoredObject {
  readonly name: string;
  readonly kind: 'table' | 'view' | 'materializedView';
  readonly sql: string;
  readonly createdAt: string;
}

export interface StoredJob {
  readonly id: string;
  readonly name: string;
  readonly sql: string;
  readonly state: string;
  readonly createdAt: string;
  readonly error: string | null;
  /** SET options in force when the job was submitted (JSON). */
  readonly settings: Record<string, string>;
  /**
   * Progress saved by versions before per-job checkpoint stores (jobs/checkpoint-store.ts), or null; a
   * job with no checkpoint of its own resumes from it once.
   */
  readonly checkpoint: unknown;
}

/**
 * The catalog's persistence: tables and views as their CREATE statements (the SQL is the source of
 * truth, re-planned on load), and jobs with their state. One SQLite file under the data dir, WAL mode.
 * Checkpoints live in a store per job (jobs/checkpoint-store.ts), not here.
 */
export class CatalogStore {
  private readonly db: Db;
  /** The console's dashboards (catalog/dashboard-store.ts), in the same file. */
  readonly dashboards: DashboardStore;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.db = new Database(join(dataDir, 'catalog.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS objects (
        name TEXT PRIMARY KEY COLLATE NOCASE, kind TEXT NOT NULL, sql TEXT NOT NULL, created_at TEXT NOT NULL, seq INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS jobs (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, sql TEXT NOT NULL, state TEXT NOT NULL, created_at TEXT NOT NULL,
        error TEXT, settings TEXT NOT NULL, checkpoint TEXT
      );
    `);
    this.dashboards = new DashboardStore(this.db);
  }

  objects(): StoredObject[] {
    return this.db
      .prepare('SELECT name, kind, sql, created_at AS createdAt FROM objects ORDER BY seq')
      .all() as StoredObject[];
  }

  putObject(o: StoredObject): void {
    this.db
      .prepare(
        `INSERT INTO objects (name, kind, sql, created_at, seq) VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM objects))
         ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, sql = excluded.sql`,
      )
      .run(o.name, o.kind, o.sql, o.createdAt);
  }

  deleteObject(name: string): void {
    this.db.prepare('DELETE FROM objects WHERE name = ?').run(name);
  }

  jobs(): StoredJob[] {
    const rows = this.db.prepare('SELECT * FROM jobs ORDER BY created_at').all() as Record<string, string | null>[];
    return rows.map((r) => ({
      id: r['id']!,
      name: r['name']!,
      sql: r['sql']!,
      state: r['state']!,
      createdAt: r['created_at']!,
      error: r['error'] ?? null,
      settings: JSON.parse(r['settings'] ?? '{}') as Record<string, string>,
      checkpoint: r['checkpoint'] ? (JSON.parse(r['checkpoint']) as unknown) : null,
    }));
  }

  putJob(j: StoredJob): void {
    this.db
      .prepare(
        `INSERT INTO jobs (id, name, sql, state, created_at, error, settings, checkpoint) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT(id) DO UPDATE SET state = excluded.state, error = excluded.error`,
      )
      .run(j.id, j.name, j.sql, j.state, j.createdAt, j.error, JSON.stringify(j.settings), j.checkpoint === null ? null : JSON.stringify(j.checkpoint));
  }

  setJobState(id: string, state: string, error: string | null): void {
    this.db.prepare('UPDATE jobs SET state = ?, error = ? WHERE id = ?').run(state, error, id);
  }

  /** A stopped job re-submitted under its name with a compatible plan keeps its id but runs the new statement. */
  replaceJobStatement(id: string, sql: string, settings: Record<string, string>): void {
    this.db.prepare('UPDATE jobs SET sql = ?, settings = ? WHERE id = ?').run(sql, JSON.stringify(settings), id);
  }

  close(): void {
    this.db.close();
  }
}

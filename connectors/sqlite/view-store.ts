import Database from 'better-sqlite3';
import type { Database as Db, Statement as DbStatement } from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { DEFAULT_SLICE_MS, inTransaction, runSliced, runToEnd } from './slices.ts';
import type { Steps } from './slices.ts';
import { offloadWalCheckpoints } from './wal-checkpointer.ts';
import { decodeValue, quoteIdent } from './values.ts';
import type { StoredValue } from './values.ts';

/** A column of a view as the store keeps it: its name, Weir type (as text) and SQLite type. */
export interface ViewColumn {
  readonly name: string;
  readonly type: string;
  readonly sqliteType: 'INTEGER' | 'REAL' | 'TEXT';
}

export interface ViewDef {
  readonly name: string;
  readonly jobId: string;
  readonly columns: readonly ViewColumn[];
  /** Key columns (upsert by key), or null: append-only with SQLite's rowid as the row id. */
  readonly key: readonly string[] | null;
}

export interface ViewMeta extends ViewDef {
  /** The newest checkpoint whose rows are in the view (undefined before the first commit). */
  readonly checkpointId: number | undefined;
  /** Wall time of the last commit (ISO-8601). */
  readonly committedAt: string | undefined;
  /** The job's event-time watermark at the last commit ('yyyy-MM-dd HH:mm:ss.SSS', or 'END'). */
  readonly watermark: string | undefined;
}

export type ChangeOp = '+I' | '-U' | '+U' | '-D';

/** One committed change of a view (DESIGN §7), the row keyed by column name with REST values. */
export interface ViewChange {
  readonly op: ChangeOp;
  readonly row: Readonly<Record<string, unknown>>;
}

/** One change of an updating query, its row encoded for SQLite in the view's column order. */
export interface StoredChange {
  readonly op: ChangeOp;
  readonly row: readonly StoredValue[];
}

export type ChangeListener = (changes: readonly ViewChange[]) => void;

/** Reserved table names: the store's own metadata and SQLite's. */
export const META_TABLE = '_weir_views';

export function isReservedViewName(name: string): boolean {
  const n = name.toLowerCase();
  return n.startsWith('_weir') || n.startsWith('sqlite_');
}

/**
 * The view store: one SQLite file (`<data dir>/views.db`, WAL) holding one table per materialized view
 * and a metadata table with each view's columns, key, job and last committed checkpoint. A view's rows and
 * its checkpoint id change together in one transaction (docs/checkpoints.md), so readers never see half a
 * batch and a restarted job can ask which checkpoint the view holds.
 *
 * One writer connection per file and process: the platform and the sinks of its jobs share it through
 * `ViewStore.open`, which also lets the server's change streams hear every commit in-process.
 */
export class ViewStore {
  private static readonly open_ = new Map<string, ViewStore>();
  private refs = 0;
  private readonly db: Db;
  private readonly listeners = new Map<string, Set<ChangeListener>>();
  private readonly metaCache = new Map<string, ViewMeta>();
  private readonly releaseWal: () => void;

  private constructor(readonly path: string) {
    mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    // FULL: a commit that recorded a checkpoint id must survive power loss like the checkpoint store does.
    this.db.pragma('synchronous = FULL');
    // WAL checkpoints in a worker thread, not in a COMMIT on this (the serving) thread.
    this.releaseWal = offloadWalCheckpoints(this.db, path);
    this.db.exec(`CREATE TABLE IF NOT EXISTS ${META_TABLE} (
      name TEXT PRIMARY KEY COLLATE NOCASE, job_id TEXT NOT NULL, columns TEXT NOT NULL, key TEXT,
      checkpoint_id INTEGER, committed_at TEXT, watermark TEXT, created_at TEXT NOT NULL
    )`);
  }

  /** Opens (or shares) the store at `path`; every open needs one close. */
  static open(path: string): ViewStore {
    const abs = resolve(path);
    let s = ViewStore.open_.get(abs);
    if (!s) {
      s = new ViewStore(abs);
      ViewStore.open_.set(abs, s);
    }
    s.refs++;
    return s;
  }

  close(): void {
    if (--this.refs > 0) return;
    ViewStore.open_.delete(this.path);
    this.finishPending();
    this.readConn?.close();
    this.releaseWal();
    this.db.close();
  }

  /**
   * Creates the view's table and metadata. A table left by an earlier view of the same name (dropped while
   * the server was down, or never cleaned up) is replaced: the catalog said the name was free.
   */
  create(def: ViewDef): void {
    this.finishPending();
    this.db.transaction(() => {
      this.dropInTx(def.name);
      const cols = def.columns.map((c) => `${quoteIdent(c.name)} ${c.sqliteType}`).join(', ');
      this.db.exec(`CREATE TABLE ${quoteIdent(def.name)} (${cols})`);
      if (def.key && def.key.length > 0) {
        // Unique where the key has no NULL; keys with NULLs are kept unique by upsert() comparing with IS.
        this.db.exec(`CREATE UNIQUE INDEX ${quoteIdent(`${def.name}__key`)} ON ${quoteIdent(def.name)} (${def.key.map(quoteIdent).join(', ')})`);
      }
      this.db
        .prepare(`INSERT INTO ${META_TABLE} (name, job_id, columns, key, created_at) VALUES (?, ?, ?, ?, ?)`)
        .run(def.name, def.jobId, JSON.stringify(def.columns), def.key ? JSON.stringify(def.key) : null, new Date().toISOString());
    })();
    this.metaCache.delete(def.name.toLowerCase());
  }

  drop(name: string): void {
    this.finishPending();
    this.db.transaction(() => this.dropInTx(name))();
    this.metaCache.delete(name.toLowerCase());
  }

  private dropInTx(name: string): void {
    this.db.exec(`DROP TABLE IF EXISTS ${quoteIdent(name)}`);
    this.db.prepare(`DELETE FROM ${META_TABLE} WHERE name = ?`).run(name);
  }

  meta(name: string): ViewMeta | undefined {
    const cached = this.metaCache.get(name.toLowerCase());
    if (cached) return cached;
    const r = this.db.prepare(`SELECT * FROM ${META_TABLE} WHERE name = ?`).get(name) as Record<string, string | number | null> | undefined;
    if (!r) return undefined;
    const m: ViewMeta = {
      name: r['name'] as string,
      jobId: r['job_id'] as string,
      columns: JSON.parse(r['columns'] as string) as ViewColumn[],
      key: r['key'] ? (JSON.parse(r['key'] as string) as string[]) : null,
      checkpointId: (r['checkpoint_id'] as number | null) ?? undefined,
      committedAt: (r['committed_at'] as string | null) ?? undefined,
      watermark: (r['watermark'] as string | null) ?? undefined,
    };
    this.metaCache.set(name.toLowerCase(), m);
    return m;
  }

  /** The newest checkpoint of `jobId` the view holds (recover() of the sink's committer). */
  lastCheckpoint(name: string, jobId: string): number | undefined {
    const m = this.meta(name);
    return m && m.jobId === jobId ? m.checkpointId : undefined;
  }

  /** Committed rows (a sliced commit in progress is not counted: it reads like the query pool does). */
  rowCount(name: string): number {
    return (this.reader().prepare(`SELECT COUNT(*) AS n FROM ${quoteIdent(name)}`).get() as { n: number }).n;
  }

  private readConn: Db | undefined;

  /** A read-only connection: sees the last committed state while the writer is inside a sliced commit. */
  private reader(): Db {
    this.readConn ??= new Database(this.path, { readonly: true, fileMustExist: true });
    return this.readConn;
  }

  /**
   * Commits one checkpoint's rows (already encoded, in the view's column order) and the checkpoint id in
   * ONE transaction, then tells the listeners what changed. Keyed views upsert: a key seen before is
   * updated in place (-U/+U; an identical row, as a replay may bring, changes nothing), a new key inserted
   * (+I). Keys compare with IS, so a NULL group is one row.
   */
  commit(name: string, jobId: string, checkpointId: number, rows: readonly StoredValue[][], watermark: string | undefined): void {
    this.commitChanges(name, jobId, checkpointId, rows.map((row) => ({ op: '+I', row })), watermark);
  }

  /**
   * Commits one checkpoint's changelog (an updating query's +I/-U/+U/-D, rows encoded in the view's column
   * order) and the checkpoint id in ONE transaction: readers see all of the checkpoint or none of it.
   * A keyed view applies the net change per key (the last change of a key within the checkpoint wins:
   * +I/+U upsert it, -D — or a -U with no +U after it — delete it); keys compare with IS, for deletes as
   * for upserts, so a NULL group key is one row. A view without a key inserts +I/+U rows and deletes one
   * row equal in every column for -U/-D. Listeners hear what the table actually went through.
   * `netted`: the caller has netted the changes already (a keyed view's sink: at most one change per key,
   * a -U standing for a delete), or they are inserts only (its rows, where a key's later row wins when
   * applied in order, as netting would make it), so they are applied in order as they are.
   */
  commitChanges(name: string, jobId: string, checkpointId: number, changes: readonly StoredChange[], watermark: string | undefined, netted = false): void {
    this.finishPending();
    runToEnd(this.commitSteps(name, jobId, checkpointId, changes, watermark, netted));
  }

  /**
   * commitChanges() in slices of `sliceMs` (slices.ts): still ONE transaction, so the query pool's readers
   * see the previous checkpoint until the COMMIT, but the thread serves HTTP between slices. Commits of
   * several views queue behind each other on the store's one writer connection; anything synchronous that
   * needs the connection meanwhile (create, drop, subscribe, a synchronous commit) first finishes the open
   * commit in one go (finishPending).
   */
  async commitChangesSliced(
    name: string,
    jobId: string,
    checkpointId: number,
    changes: readonly StoredChange[],
    watermark: string | undefined,
    sliceMs = ViewStore.sliceMs,
    netted = false,
  ): Promise<void> {
    const before = this.queue;
    let release!: () => void;
    this.queue = new Promise<void>((r) => (release = r));
    try {
      await before;
      const work = new PendingWork(this.commitSteps(name, jobId, checkpointId, changes, watermark, netted));
      this.pending = work;
      try {
        await runSliced(work.steps(), sliceMs);
      } finally {
        this.pending = undefined;
      }
      work.rethrow();
    } finally {
      release();
    }
  }

  /** How long one slice of commitChangesSliced() runs; Infinity commits in one go (benchmarks compare). */
  static sliceMs = DEFAULT_SLICE_MS;

  /** A sliced commit in progress: the writer connection is inside its transaction. */
  private pending: PendingWork | undefined;
  private queue: Promise<void> = Promise.resolve();

  /** Runs the open sliced commit, if any, to its end now (its own caller hears how it went). */
  private finishPending(): void {
    this.pending?.finish();
  }

  private *commitSteps(name: string, jobId: string, checkpointId: number, changes: readonly StoredChange[], watermark: string | undefined, netted: boolean): Steps<void> {
    const m = this.meta(name);
    if (!m) throw new Error(`materialized view '${name}' has no table in the view store (dropped?)`);
    if (m.jobId !== jobId) throw new Error(`materialized view '${name}' belongs to job ${m.jobId}, not ${jobId}`);
    const events: ViewChange[] = [];
    const listening = (this.listeners.get(name.toLowerCase())?.size ?? 0) > 0;
    const t = quoteIdent(m.name);
    const colList = m.columns.map((c) => quoteIdent(c.name)).join(', ');
    const insert = this.db.prepare(`INSERT INTO ${t} (${colList}) VALUES (${m.columns.map(() => '?').join(', ')})`);
    const toRow = (vals: readonly unknown[]): Record<string, unknown> => {
      const o: Record<string, unknown> = {};
      m.columns.forEach((c, i) => (o[c.name] = decodeValue(vals[i], c.type)));
      return o;
    };
    const self = this;
    yield* inTransaction(
      this.db,
      (function* () {
        if (m.key) yield* self.applyKeyed(m, m.key, changes, insert, listening ? events : undefined, toRow, netted);
        else yield* self.applyUnkeyed(m, changes, insert, listening ? events : undefined, toRow);
        self.db
          .prepare(`UPDATE ${META_TABLE} SET checkpoint_id = ?, committed_at = ?, watermark = ? WHERE name = ?`)
          .run(checkpointId, new Date().toISOString(), watermark ?? m.watermark ?? null, m.name);
      })(),
    );
    this.metaCache.delete(name.toLowerCase());
    if (events.length > 0) for (const l of this.listeners.get(name.toLowerCase()) ?? []) l(events);
  }

  private *applyKeyed(
    m: ViewMeta,
    key: readonly string[],
    changes: readonly StoredChange[],
    insert: DbStatement,
    events: ViewChange[] | undefined,
    toRow: (vals: readonly unknown[]) => Record<string, unknown>,
    netted: boolean,
  ): Steps<void> {
    const t = quoteIdent(m.name);
    const colList = m.columns.map((c) => quoteIdent(c.name)).join(', ');
    const keyIdx = key.map((k) => m.columns.findIndex((c) => c.name === k));
    // No key columns (an aggregate without GROUP BY): the view is one row.
    const where = key.length > 0 ? key.map((k) => `${quoteIdent(k)} IS ?`).join(' AND ') : '1';
    const find = this.db.prepare(`SELECT rowid AS _rid, ${colList} FROM ${t} WHERE ${where} LIMIT 1`).raw(true);
    const update = this.db.prepare(`UPDATE ${t} SET ${m.columns.map((c) => `${quoteIdent(c.name)} = ?`).join(', ')} WHERE rowid = ?`);
    const del = this.db.prepare(`DELETE FROM ${t} WHERE rowid = ?`);
    // Net change per key, in order of first appearance: the first change's row (its key values) and the row
    // the key ends with, or null (deleted). Changes the sink netted already (one per key) are their own.
    let net: Map<unknown, { first: readonly StoredValue[]; row: readonly StoredValue[] | null }> | undefined;
    if (!netted) {
      net = new Map();
      const one = keyIdx.length === 1 ? keyIdx[0]! : -1;
      for (let i = 0; i < changes.length; i++) {
        const c = changes[i]!;
        const k = one >= 0 ? netKey(c.row[one]) : JSON.stringify(keyIdx.map((j) => c.row[j]!));
        const row = c.op === '+I' || c.op === '+U' ? c.row : null;
        const e = net.get(k);
        if (e) e.row = row;
        else net.set(k, { first: c.row, row });
        if ((i & 255) === 255) yield;
      }
    }
    const nets = net ? [...net.values()] : undefined;
    const count = nets ? nets.length : changes.length;
    // Nobody listening needs the rows before: a key without NULLs is upserted or deleted in one statement
    // (the key's unique index finds it; an identical row is left alone), half the work of find-then-write.
    // Upserts of consecutive keys share a statement (one call into SQLite for many rows), written before
    // any other statement runs: the writes keep the net changes' order, so new rows get the rowids (the
    // table's row order) that one upsert per key gave them.
    const direct = !events && key.length > 0 ? this.directWriters(m, key) : undefined;
    const perStatement = Math.max(1, Math.floor(UPSERT_PARAMS / m.columns.length));
    // One parameter list for every full statement (SQLite binds the values when run() is called): a new
    // list per statement was ~1 KB of garbage per 85 rows, alive until its commit.
    const width = m.columns.length;
    const upserts: StoredValue[] = new Array<StoredValue>(perStatement * width).fill(null);
    let filled = 0;
    let upsertRows = 0;
    const flush = (): void => {
      if (upsertRows === 0) return;
      (upsertRows === 1 ? direct!.upsert : direct!.upsertMany(upsertRows)).run(upsertRows === perStatement ? upserts : upserts.slice(0, filled));
      filled = 0;
      upsertRows = 0;
    };
    for (let n = 1; n <= count; n++) {
      let first: readonly StoredValue[];
      let row: readonly StoredValue[] | null;
      if (nets) ({ first, row } = nets[n - 1]!);
      else {
        const c = changes[n - 1]!;
        first = c.row;
        row = c.op === '+I' || c.op === '+U' ? c.row : null;
      }
      let nullKey = false;
      for (let j = 0; j < keyIdx.length; j++) if (first[keyIdx[j]!] === null) nullKey = true;
      if (direct && !nullKey) {
        if (row === null) {
          flush();
          direct.del.run(...keyIdx.map((j) => first[j] as StoredValue));
        } else {
          // Rows share one parameter list: one of the wrong length would shift the others' values.
          if (row.length !== m.columns.length) throw new Error(`materialized view '${m.name}': a row of ${row.length} values for ${m.columns.length} columns`);
          for (let i = 0; i < row.length; i++) upserts[filled++] = row[i]!;
          if (++upsertRows === perStatement) {
            flush();
            yield;
          }
        }
        if ((n & 63) === 0) yield;
        continue;
      }
      const keyVals = keyIdx.map((j) => first[j] as StoredValue);
      flush();
      yield;
      const old = find.get(...keyVals) as unknown[] | undefined;
      const before = old?.slice(1);
      if (row === null) {
        if (!old) continue;
        del.run(old[0]);
        events?.push({ op: '-D', row: toRow(before!) });
      } else if (old) {
        if (before!.every((v, i) => v === row[i])) continue;
        update.run(...row, old[0]);
        events?.push({ op: '-U', row: toRow(before!) }, { op: '+U', row: toRow(row) });
      } else {
        insert.run(...row);
        events?.push({ op: '+I', row: toRow(row) });
      }
    }
    flush();
  }

  /**
   * Upsert and delete by a key without NULLs (keys with NULLs need IS, which the unique index does not
   * serve); upsertMany(n) upserts n keys in one statement (prepared once per size and commit).
   */
  private directWriters(m: ViewMeta, key: readonly string[]): { upsert: DbStatement; upsertMany: (n: number) => DbStatement; del: DbStatement } {
    const t = quoteIdent(m.name);
    const cols = m.columns.map((c) => quoteIdent(c.name));
    const rest = m.columns.filter((c) => !key.includes(c.name)).map((c) => quoteIdent(c.name));
    const keyCols = key.map(quoteIdent);
    const onConflict =
      rest.length === 0 ? 'DO NOTHING' : `DO UPDATE SET ${rest.map((c) => `${c} = excluded.${c}`).join(', ')} WHERE ${rest.map((c) => `${c} IS NOT excluded.${c}`).join(' OR ')}`;
    const tuple = `(${cols.map(() => '?').join(', ')})`;
    const upsertSql = (n: number): string => `INSERT INTO ${t} (${cols.join(', ')}) VALUES ${Array(n).fill(tuple).join(', ')} ON CONFLICT (${keyCols.join(', ')}) ${onConflict}`;
    const many = new Map<number, DbStatement>();
    return {
      upsert: this.db.prepare(upsertSql(1)),
      upsertMany: (n) => {
        let st = many.get(n);
        if (!st) many.set(n, (st = this.db.prepare(upsertSql(n))));
        return st;
      },
      del: this.db.prepare(`DELETE FROM ${t} WHERE ${keyCols.map((c) => `${c} = ?`).join(' AND ')}`),
    };
  }

  private *applyUnkeyed(m: ViewMeta, changes: readonly StoredChange[], insert: DbStatement, events: ViewChange[] | undefined, toRow: (vals: readonly unknown[]) => Record<string, unknown>): Steps<void> {
    let del: DbStatement | undefined;
    for (const c of changes) {
      yield;
      if (c.op === '+I' || c.op === '+U') {
        insert.run(...c.row);
        events?.push({ op: '+I', row: toRow(c.row) });
        continue;
      }
      const t = quoteIdent(m.name);
      del ??= this.db.prepare(`DELETE FROM ${t} WHERE rowid = (SELECT rowid FROM ${t} WHERE ${m.columns.map((col) => `${quoteIdent(col.name)} IS ?`).join(' AND ')} LIMIT 1)`);
      if (del.run(...c.row).changes > 0) events?.push({ op: '-D', row: toRow(c.row) });
    }
  }

  /**
   * The current rows and a subscription to every later commit, taken together: commits run synchronously
   * on this thread, so no commit falls between the snapshot and the subscription.
   */
  subscribe(name: string, listener: ChangeListener): { snapshot: Record<string, unknown>[]; unsubscribe: () => void } | undefined {
    // The snapshot and the subscription must fall between two commits, not inside one.
    this.finishPending();
    const m = this.meta(name);
    if (!m) return undefined;
    const rows = this.db.prepare(`SELECT ${m.columns.map((c) => quoteIdent(c.name)).join(', ')} FROM ${quoteIdent(m.name)} ORDER BY rowid`).raw(true).all() as unknown[][];
    const snapshot = rows.map((r) => {
      const o: Record<string, unknown> = {};
      m.columns.forEach((c, i) => (o[c.name] = decodeValue(r[i], c.type)));
      return o;
    });
    const key = name.toLowerCase();
    let set = this.listeners.get(key);
    if (!set) this.listeners.set(key, (set = new Set()));
    set.add(listener);
    return { snapshot, unsubscribe: () => void set.delete(listener) };
  }
}

/** Bound parameters per multi-row upsert statement (its rows: this over the view's column count). */
const UPSERT_PARAMS = 256;

/**
 * A single-column key's identity in a commit's net-change map, partitioning keys exactly as JSON text of
 * the value did (the map's former key): NULL and non-finite numbers (JSON null) are one key, -0 is 0
 * (a Map compares with SameValueZero), a number and a string never meet. A Map key of the value itself
 * skips building and hashing 100,000 strings per commit.
 */
function netKey(v: StoredValue | undefined): StoredValue {
  return v === undefined || (typeof v === 'number' && !Number.isFinite(v)) ? null : v;
}

/**
 * A sliced commit that its own runner drives slice by slice, unless a synchronous user of the connection
 * finishes it first (finish). Either way the runner learns how it ended (rethrow).
 */
class PendingWork {
  private done = false;
  private failed = false;
  private error: unknown;

  constructor(private readonly inner: Steps<void>) {}

  /** The work as steps for runSliced; over at once if finish() ran meanwhile. */
  *steps(): Steps<void> {
    for (;;) {
      this.step();
      if (this.done) return;
      yield;
    }
  }

  finish(): void {
    while (!this.done) this.step();
  }

  rethrow(): void {
    if (this.failed) throw this.error;
  }

  private step(): void {
    try {
      if (this.inner.next().done) this.done = true;
    } catch (e) {
      this.done = true;
      this.failed = true;
      this.error = e;
    }
  }
}

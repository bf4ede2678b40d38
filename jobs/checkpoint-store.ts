import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SLICE_MS, inTransaction, keyOrderSteps, runSliced, runToEnd } from '../connectors/sqlite/index.ts';
import type { Steps } from '../connectors/sqlite/index.ts';
import { offloadWalCheckpoints } from '../connectors/sqlite/wal-checkpointer.ts';
import { isKeyedChanges, keyedEntries } from '../engine/state/keyed.ts';
import type { KeyedChanges } from '../engine/state/keyed.ts';
import { decodeSnapshot, encodeSnapshot } from '../engine/state/snapshot-codec.ts';

/** Everything a job needs to resume: what one checkpoint holds. */
export interface CheckpointData {
  /** Next offset to read per source partition. */
  readonly offsets: Record<number, number>;
  /** End offsets of a bounded source (a restarted job ends at the same place); undefined when unbounded. */
  readonly endOffsets: Record<number, number> | undefined;
  /** Watermark per source partition. */
  readonly watermarks: Record<number, number>;
  /** The source's own state (Source.state), if it has one. */
  readonly source?: unknown;
  /**
   * One entry per operator of the pipeline, in pipeline order: null for stateless operators, a whole
   * snapshot, or (keyed operators, engine/state/keyed.ts) KeyedChanges when writing and KeyedEntries
   * when loaded.
   */
  readonly operators: unknown[];
}

/**
 * PENDING: written, but the sink's commit may not have happened (two-phase sinks only);
 * COMPLETED: a restart resumes from it; ABORTED: a PENDING one whose commit did not happen.
 */
export type CheckpointStatus = 'PENDING' | 'COMPLETED' | 'ABORTED';

export interface CheckpointInfo {
  readonly id: number;
  readonly status: CheckpointStatus;
  readonly createdAt: string;
}

/** How many completed checkpoints are kept (the newest, and one before it in case the newest is unreadable). */
const RETAINED = 2;

/**
 * A job's checkpoints, in one SQLite file of its own under the data dir (`checkpoints/<job id>.db`):
 * each checkpoint is written in one SQLite transaction (atomic, synchronous=FULL so a committed
 * checkpoint survives power loss, not only kill -9).
 *
 * Operator state is stored as versioned entries, (operator, key) → value valid from checkpoint
 * `from_id` up to, not including, `to_id` (NULL: still valid). A checkpoint writes only the entries
 * whose serialized value changed since the previous one, so state that did not change is not
 * rewritten; reading checkpoint C takes the entries with from_id <= C < to_id. An operator with a
 * whole snapshot is one entry (key '', skipped when its hash did not change); a keyed operator
 * (engine/state/keyed.ts) has one entry per key (stored key 'k' + its key) and hands over only the
 * keys that changed, so a checkpoint after few changes is small however large the state is. A
 * PENDING checkpoint's entries are versions of their own (from_id = its id): the previous checkpoint
 * still reads the versions it had, and abort() deletes them and reopens those.
 */
export class CheckpointStore {
  private readonly db: Db;
  private readonly releaseWal: () => void;
  /** Hash of each live entry's value (the newest non-aborted checkpoint's), to skip unchanged ones. */
  private live = new Map<string, string>();
  /** Serialized size of the live entries (for the whole-size metric without reading them). */
  private liveBytes = 0;
  /** What the last write() wrote: state rows inserted and their bytes (tests, benchmarks). */
  lastWrite: { readonly rows: number; readonly bytes: number } = { rows: 0, bytes: 0 };
  private readonly q: Record<'insertCp' | 'closeEntry' | 'closeOp' | 'opBytes' | 'insertEntry' | 'setStatus' | 'pruneSome', Statement>;

  private constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    // WAL checkpoints in a worker thread, not in a COMMIT on the job's (the serving) thread.
    this.releaseWal = offloadWalCheckpoints(this.db, file);
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS checkpoints (
        id INTEGER PRIMARY KEY, status TEXT NOT NULL, created_at TEXT NOT NULL,
        offsets TEXT NOT NULL, end_offsets TEXT, watermarks TEXT NOT NULL, operators INTEGER NOT NULL
      );
      CREATE TABLE IF NOT EXISTS state (
        op INTEGER NOT NULL, key TEXT NOT NULL, from_id INTEGER NOT NULL, to_id INTEGER, value TEXT NOT NULL,
        PRIMARY KEY (op, key, from_id)
      );
    `);
    // Closed versions only (what prune and abort look for): a live version, the one every checkpoint writes,
    // then costs no index entry until it is closed. Stores from before had all versions indexed.
    this.db.exec('DROP INDEX IF EXISTS state_to; CREATE INDEX IF NOT EXISTS state_closed ON state (to_id) WHERE to_id IS NOT NULL;');
    // Stores written before sources had a state of their own lack the column.
    const cols = this.db.prepare('PRAGMA table_info(checkpoints)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'source_state')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN source_state TEXT');
    this.q = {
      insertCp: this.db.prepare('INSERT INTO checkpoints (id, status, created_at, offsets, end_offsets, watermarks, operators, source_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      closeEntry: this.db.prepare('UPDATE state SET to_id = ? WHERE op = ? AND key = ? AND to_id IS NULL RETURNING length(CAST(value AS BLOB)) AS n'),
      closeOp: this.db.prepare('UPDATE state SET to_id = ? WHERE op = ? AND to_id IS NULL'),
      opBytes: this.db.prepare('SELECT COALESCE(SUM(length(CAST(value AS BLOB))), 0) AS n FROM state WHERE op = ? AND to_id IS NULL'),
      insertEntry: this.db.prepare('INSERT INTO state (op, key, from_id, to_id, value) VALUES (?, ?, ?, NULL, ?)'),
      setStatus: this.db.prepare('UPDATE checkpoints SET status = ? WHERE id = ?'),
      pruneSome: this.db.prepare(`DELETE FROM state WHERE rowid IN (SELECT rowid FROM state WHERE to_id IS NOT NULL AND to_id <= ? LIMIT ${PRUNE_ROWS_PER_STEP})`),
    };
    this.loadLive();
  }

  static open(dataDir: string, jobId: string): CheckpointStore {
    const dir = join(dataDir, 'checkpoints');
    mkdirSync(dir, { recursive: true });
    return new CheckpointStore(join(dir, `${jobId}.db`));
  }

  private loadLive(): void {
    this.live = new Map();
    const rows = this.db.prepare("SELECT op, key, value FROM state WHERE to_id IS NULL AND key = ''").all() as { op: number; key: string; value: string }[];
    for (const r of rows) this.live.set(entryId(r.op, r.key), hash(r.value));
    this.liveBytes = (this.db.prepare('SELECT COALESCE(SUM(length(CAST(value AS BLOB))), 0) AS n FROM state WHERE to_id IS NULL').get() as { n: number }).n;
  }

  /** Checkpoint ids only grow, also past aborted ones, so an id never names two different checkpoints. */
  nextId(): number {
    const r = this.db.prepare('SELECT MAX(id) AS m FROM checkpoints').get() as { m: number | null };
    return (r.m ?? 0) + 1;
  }

  /** The newest checkpoints: the newest COMPLETED one, and a PENDING one newer than it, if any. */
  latest(): { completed: CheckpointInfo | undefined; pending: CheckpointInfo | undefined } {
    const pick = (status: CheckpointStatus): CheckpointInfo | undefined => {
      const r = this.db.prepare('SELECT id, status, created_at AS createdAt FROM checkpoints WHERE status = ? ORDER BY id DESC LIMIT 1').get(status) as CheckpointInfo | undefined;
      return r;
    };
    const completed = pick('COMPLETED');
    const pending = pick('PENDING');
    return { completed, pending: pending && (!completed || pending.id > completed.id) ? pending : undefined };
  }

  list(): CheckpointInfo[] {
    return this.db.prepare('SELECT id, status, created_at AS createdAt FROM checkpoints ORDER BY id').all() as CheckpointInfo[];
  }

  /**
   * Writes checkpoint `id` atomically. `COMPLETED` for sinks without a second phase; `PENDING` before a
   * two-phase sink commits (then complete() or abort()). Only entries whose value changed are written:
   * whole snapshots whose hash changed, and the keys a keyed operator reports changed or deleted.
   * Returns the checkpoint's whole serialized size in bytes (metrics), unchanged entries included.
   */
  write(id: number, data: CheckpointData, status: 'PENDING' | 'COMPLETED'): number {
    return runToEnd(this.writeSteps(id, data, status));
  }

  /**
   * write() in slices of `sliceMs` (connectors/sqlite/slices.ts): the same ONE transaction, so a crash
   * half-way leaves nothing of it, but the job's thread serves other work (HTTP) between slices. Nothing
   * else may use this store until it resolves (the job awaits it).
   */
  writeSliced(id: number, data: CheckpointData, status: 'PENDING' | 'COMPLETED', sliceMs = CheckpointStore.sliceMs): Promise<number> {
    return runSliced(this.writeSteps(id, data, status), sliceMs);
  }

  /** How long one slice of writeSliced()/completeSliced() runs; Infinity writes in one go (benchmarks compare). */
  static sliceMs = DEFAULT_SLICE_MS;

  private *writeSteps(id: number, data: CheckpointData, status: 'PENDING' | 'COMPLETED'): Steps<number> {
    const next = new Map<string, { op: number; key: string; value: string; hash: string }>();
    const keyed: { op: number; changes: KeyedChanges }[] = [];
    data.operators.forEach((snap, op) => {
      if (snap === null || snap === undefined) return;
      if (isKeyedChanges(snap)) {
        keyed.push({ op, changes: snap });
        return;
      }
      const value = encodeSnapshot(snap);
      next.set(entryId(op, ''), { op, key: '', value, hash: hash(value) });
    });
    const offsets = JSON.stringify(data.offsets);
    const endOffsets = data.endOffsets ? JSON.stringify(data.endOffsets) : null;
    const watermarks = encodeSnapshot(data.watermarks);
    const sourceState = data.source === undefined ? null : encodeSnapshot(data.source);
    const changed = [...next.values()].filter((e) => this.live.get(entryId(e.op, e.key)) !== e.hash);
    const removed = [...this.live.keys()].filter((k) => !next.has(k)).map(splitEntryId);
    let liveBytes = this.liveBytes;
    let rows = 0;
    let written = 0;
    const close = (op: number, key: string): void => {
      const r = this.q.closeEntry.get(id, op, key) as { n: number } | undefined;
      if (r) liveBytes -= r.n;
    };
    const insert = (op: number, key: string, value: string): void => {
      this.q.insertEntry.run(op, key, id, value);
      const n = Buffer.byteLength(value);
      liveBytes += n;
      written += n;
      rows++;
    };
    // Entries `from`..`to` of `order` (indexes into keys/values), a statement for all of them.
    const closeMany = (op: number, keys: readonly string[], order: Int32Array, from: number, to: number): void => {
      const params: unknown[] = new Array(2 + to - from);
      params[0] = id;
      params[1] = op;
      for (let j = from; j < to; j++) params[2 + j - from] = keys[order[j]!];
      for (const n of this.statement('close', to - from).all(...params) as number[]) liveBytes -= n;
    };
    const insertMany = (op: number, keys: readonly string[], values: readonly string[], order: Int32Array, from: number, to: number): void => {
      const params: unknown[] = new Array(4 * (to - from));
      for (let j = from, p = 0; j < to; j++, p += 4) {
        const i = order[j]!;
        params[p] = op;
        params[p + 1] = keys[i];
        params[p + 2] = id;
        const value = values[i]!;
        params[p + 3] = value;
        const n = Buffer.byteLength(value);
        liveBytes += n;
        written += n;
      }
      rows += to - from;
      this.statement('insert', to - from).run(...params);
    };
    const self = this;
    yield* inTransaction(
      this.db,
      (function* () {
        self.q.insertCp.run(id, status, new Date().toISOString(), offsets, endOffsets, watermarks, data.operators.length, sourceState);
        for (const e of changed) {
          close(e.op, e.key);
          insert(e.op, e.key, e.value);
        }
        for (const r of removed) close(r.op, r.key);
        for (const { op, changes: k } of keyed) {
          if (k.full) {
            // Everything the store holds for this operator (keyed entries, or a whole snapshot of the older format) is replaced.
            liveBytes -= (self.q.opBytes.get(op) as { n: number }).n;
            self.q.closeOp.run(id, op);
          } else {
            const deletes = k.deletes.map((key) => KEYED_PREFIX + key);
            const order = yield* keyOrderSteps(deletes);
            for (let i = 0; i < deletes.length; i += ENTRIES_PER_STATEMENT) {
              closeMany(op, deletes, order, i, Math.min(deletes.length, i + ENTRIES_PER_STATEMENT));
              yield;
            }
          }
          // Serialized first, in the operator's order (its values lie in memory about that way: walking them
          // in key order misses the CPU caches, ~30 ms more for 100,000 groups), a chunk per step: serializing
          // 100,000 groups is a long stall if done in one go. Keys and values in two arrays, written in the
          // sorted order of the keys: no pair or chunk copied per entry (garbage that outlives the slices).
          const n = k.upserts.length;
          const keys: string[] = new Array(n);
          const values: string[] = new Array(n);
          for (let i = 0; i < n; i++) {
            const e = k.upserts[i]!;
            keys[i] = KEYED_PREFIX + e[0];
            values[i] = encodeEntry(e[1]);
            if (i % ENTRIES_PER_STATEMENT === ENTRIES_PER_STATEMENT - 1) yield;
          }
          // Written in key order: the entries then go into the primary key's B-tree one after the other
          // instead of at random places (page splits all over it). For 100,000 groups that is ~3x less SQLite
          // work (~200 ms), against ~15 ms of sorting.
          const order = yield* keyOrderSteps(keys);
          // A few entries per statement (fewer calls into SQLite), a chunk per step.
          for (let i = 0; i < n; i += ENTRIES_PER_STATEMENT) {
            const to = Math.min(n, i + ENTRIES_PER_STATEMENT);
            if (!k.full) closeMany(op, keys, order, i, to);
            insertMany(op, keys, values, order, i, to);
            yield;
          }
        }
        if (status === 'COMPLETED') yield* self.pruneSteps(id);
      })(),
    );
    this.live = new Map([...next].map(([k, e]) => [k, e.hash]));
    this.liveBytes = liveBytes;
    this.lastWrite = { rows, bytes: written };
    return Buffer.byteLength(offsets) + (endOffsets ? Buffer.byteLength(endOffsets) : 0) + Buffer.byteLength(watermarks) + (sourceState ? Buffer.byteLength(sourceState) : 0) + liveBytes;
  }

  private readonly multi = new Map<string, Statement>();

  /** Statements over `n` entries at once (closing live versions, inserting new ones), prepared once per size. */
  private statement(kind: 'close' | 'insert', n: number): Statement {
    const name = `${kind}${n}`;
    let st = this.multi.get(name);
    if (!st) {
      st =
        kind === 'close'
          ? // Plucked: the sizes as plain numbers, not an object per row (~15 ms less per 100,000 keys).
            this.db.prepare(`UPDATE state SET to_id = ? WHERE op = ? AND key IN (${Array(n).fill('?').join(', ')}) AND to_id IS NULL RETURNING length(CAST(value AS BLOB)) AS n`).pluck(true)
          : this.db.prepare(`INSERT INTO state (op, key, from_id, to_id, value) VALUES ${Array(n).fill('(?, ?, ?, NULL, ?)').join(', ')}`);
      this.multi.set(name, st);
    }
    return st;
  }

  /** Marks a PENDING checkpoint COMPLETED (its sink commit happened) and drops what is no longer needed. */
  complete(id: number): void {
    runToEnd(this.completeSteps(id));
  }

  /** complete() in slices (see writeSliced): pruning the versions an update of every key left is long too. */
  completeSliced(id: number, sliceMs = CheckpointStore.sliceMs): Promise<void> {
    return runSliced(this.completeSteps(id), sliceMs);
  }

  private *completeSteps(id: number): Steps<void> {
    const self = this;
    yield* inTransaction(
      this.db,
      (function* () {
        self.q.setStatus.run('COMPLETED', id);
        yield* self.pruneSteps(id);
      })(),
    );
  }

  /** A PENDING checkpoint whose sink commit did not happen: its entries go, the previous ones are live again. */
  abort(id: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM state WHERE from_id = ?').run(id);
      this.db.prepare('UPDATE state SET to_id = NULL WHERE to_id = ?').run(id);
      this.q.setStatus.run('ABORTED', id);
    })();
    this.loadLive();
  }

  /**
   * Keeps the RETAINED newest completed checkpoints (and anything newer); runs inside a transaction. The
   * old versions go a bounded number of rows per step: after a checkpoint that updated every key, there
   * is one old version per key.
   */
  private *pruneSteps(newestCompleted: number): Steps<void> {
    const keep = this.db.prepare(`SELECT id FROM checkpoints WHERE status = 'COMPLETED' AND id <= ? ORDER BY id DESC LIMIT 1 OFFSET ?`).get(newestCompleted, RETAINED - 1) as
      | { id: number }
      | undefined;
    if (!keep) return;
    // Entries that stopped being valid at or before the oldest kept checkpoint are visible in none of the kept ones.
    while (this.q.pruneSome.run(keep.id).changes > 0) yield;
    this.db.prepare('DELETE FROM checkpoints WHERE id < ?').run(keep.id);
  }

  /** Reads a checkpoint back, as the job restores it. */
  load(id: number): CheckpointData {
    const cp = this.db.prepare('SELECT * FROM checkpoints WHERE id = ?').get(id) as
      | { offsets: string; end_offsets: string | null; watermarks: string; operators: number; status: string; source_state: string | null }
      | undefined;
    if (!cp) throw new Error(`checkpoint ${id} not found`);
    const operators: unknown[] = new Array<unknown>(cp.operators).fill(null);
    const keyed = new Map<number, Map<string, unknown>>();
    const rows = this.db.prepare('SELECT op, key, value FROM state WHERE from_id <= ? AND (to_id IS NULL OR to_id > ?)').iterate(id, id) as IterableIterator<{ op: number; key: string; value: string }>;
    for (const r of rows) {
      if (r.op >= operators.length) continue;
      if (r.key === '') {
        if (keyed.has(r.op)) throw new Error(`checkpoint ${id}: operator ${r.op} has both a whole snapshot and keyed entries`);
        operators[r.op] = decodeSnapshot(r.value);
        continue;
      }
      if (!r.key.startsWith(KEYED_PREFIX)) throw new Error(`checkpoint ${id}: state entry '${r.key}' of operator ${r.op} is not readable by this version`);
      if (operators[r.op] !== null) throw new Error(`checkpoint ${id}: operator ${r.op} has both a whole snapshot and keyed entries`);
      let m = keyed.get(r.op);
      if (!m) keyed.set(r.op, (m = new Map()));
      m.set(r.key.slice(KEYED_PREFIX.length), decodeSnapshot(r.value));
    }
    for (const [op, m] of keyed) operators[op] = keyedEntries(m);
    return {
      offsets: JSON.parse(cp.offsets) as Record<number, number>,
      endOffsets: cp.end_offsets ? (JSON.parse(cp.end_offsets) as Record<number, number>) : undefined,
      watermarks: decodeSnapshot(cp.watermarks) as Record<number, number>,
      operators,
      ...(cp.source_state === null ? {} : { source: decodeSnapshot(cp.source_state) }),
    };
  }

  /** Rows of state entries (for tests and metrics: how much a checkpoint wrote). */
  entryVersions(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM state').get() as { n: number }).n;
  }

  close(): void {
    this.releaseWal();
    this.db.close();
  }
}

/**
 * An entry's value as encodeSnapshot writes it. encodeSnapshot's replacer only changes numbers that plain
 * JSON would lose (non-finite, -0); without any, its text is JSON.stringify's, which is ~3x faster than
 * calling the replacer on every value (100,000 entries per checkpoint: ~50 ms saved).
 */
function encodeEntry(v: unknown): string {
  return hasLossyNumber(v) ? encodeSnapshot(v) : JSON.stringify(v);
}

function hasLossyNumber(v: unknown): boolean {
  if (typeof v === 'number') return isLossy(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    // Numbers checked in the loop, not by a call each: state entries are mostly arrays of numbers.
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (typeof x === 'number' ? isLossy(x) : typeof x === 'object' && x !== null && hasLossyNumber(x)) return true;
    }
    return false;
  }
  // toJSON (e.g. a Date) decides its own text: leave such values to encodeSnapshot.
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return true;
  for (const k in v) if (hasLossyNumber((v as Record<string, unknown>)[k])) return true;
  return false;
}

/** Non-finite (x - x is NaN) or -0. */
const isLossy = (x: number): boolean => x - x !== 0 || (x === 0 && 1 / x < 0);

/** Keyed entries closed or inserted per SQLite statement (and per step of a sliced write). */
const ENTRIES_PER_STATEMENT = 64;

/** Old state versions deleted per step of a sliced prune (~1 ms of SQLite work). */
const PRUNE_ROWS_PER_STEP = 256;

/** Prefix of a keyed operator's entries in the state table (a whole snapshot's key is ''). */
const KEYED_PREFIX = 'k';

const entryId = (op: number, key: string): string => `${op}\u0000${key}`;

function splitEntryId(k: string): { op: number; key: string } {
  const i = k.indexOf('\u0000');
  return { op: Number(k.slice(0, i)), key: k.slice(i + 1) };
}

function hash(value: string): string {
  return createHash('sha1').update(value).digest('base64');
}

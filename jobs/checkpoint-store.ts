import Database from 'better-sqlite3';
import type { Database as Db, Statement } from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SLICE_MS, inTransaction, runSliced, runToEnd } from '../connectors/sqlite/index.ts';
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

/**
 * A job's checkpoints, in one SQLite file of its own under the data dir (`checkpoints/<job id>.db`):
 * each checkpoint is written in one SQLite transaction (atomic, synchronous=FULL so a committed
 * checkpoint survives power loss, not only kill -9).
 *
 * Operator state lives in rows of `entries`, each holding its two newest versions: `cur`, valid from
 * checkpoint `cur_id` on, and `prev`, valid from `prev_id` until `cur_id` (a NULL value: the row is
 * absent from then on). Reading checkpoint C takes `cur` if cur_id <= C, else `prev` if prev_id <= C. An
 * operator with a whole snapshot is one row (key ''), rewritten (cur moved to prev) only when its
 * serialized value changed.
 *
 * A keyed operator (engine/state/keyed.ts) hands over only the entries that changed since the last
 * checkpoint, and they are written as segments: rows of up to ENTRIES_PER_SEGMENT entries in one text
 * (upserts and deleted keys), keyed by the checkpoint's id and a sequence number, never rewritten. A full
 * change set writes base segments ('f...') and closes every older row of the operator; later checkpoints
 * add delta segments ('s...'); a load applies the base and then the deltas in order. One B-tree insert per
 * ~500 entries instead of one upsert per entry: a first checkpoint of 100,000 groups costs a fraction of
 * what it did (docs/checkpoints.md). Deltas pile up, so once they outweigh twice the base the store asks
 * for a full change set (wantsFull), which replaces them: a load reads at most a few times the state.
 * Stores of the older format hold one row per entry ('k' + key); they load as the base under any
 * segments written since, until the next full write closes them.
 *
 * Two versions per row make two checkpoints readable: the one written last and the newest COMPLETED one
 * before it. That is what a restart needs: the newest COMPLETED checkpoint, or a PENDING one newer than
 * it (two-phase sinks) together with that COMPLETED one, which abort() makes live again by moving each
 * `prev` back. Writing a checkpoint therefore drops every checkpoint older than the newest COMPLETED one.
 */
export class CheckpointStore {
  private readonly db: Db;
  private readonly releaseWal: () => void;
  /** Hash of each live whole-snapshot entry's value (the newest non-aborted checkpoint's), to skip unchanged ones. */
  private live = new Map<string, string>();
  /** Serialized size of the live entries (for the whole-size metric without reading them). */
  private liveBytes = 0;
  /** What the last write() wrote: state entries written with a value and their bytes (tests, benchmarks). */
  lastWrite: { readonly rows: number; readonly bytes: number } = { rows: 0, bytes: 0 };
  /**
   * Per keyed operator: bytes of its base (the segments of its last full write, or entries of the older
   * format) and of the delta segments written since; wantsFull() weighs them.
   */
  private opStats = new Map<number, { base: number; logged: number }>();
  private readonly q: Record<'insertCp' | 'insertSegment' | 'upsertWhole' | 'deleteOp' | 'opBytes' | 'setStatus' | 'pruneSome' | 'dropOlder' | 'pendingCp' | 'completedBefore', Statement>;

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
      CREATE TABLE IF NOT EXISTS entries (
        op INTEGER NOT NULL, key TEXT NOT NULL, cur_id INTEGER NOT NULL, cur TEXT, prev_id INTEGER, prev TEXT,
        PRIMARY KEY (op, key)
      );
      CREATE INDEX IF NOT EXISTS entries_deleted ON entries (cur_id) WHERE cur IS NULL;
    `);
    // Stores written before sources had a state of their own lack the column.
    const cols = this.db.prepare('PRAGMA table_info(checkpoints)').all() as { name: string }[];
    if (!cols.some((c) => c.name === 'source_state')) this.db.exec('ALTER TABLE checkpoints ADD COLUMN source_state TEXT');
    if (this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'state'").get()) this.migrateVersionRows();
    this.q = {
      insertCp: this.db.prepare('INSERT INTO checkpoints (id, status, created_at, offsets, end_offsets, watermarks, operators, source_state) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      // A segment's key is new (its checkpoint's id is): a conflict would be a bug, so it fails the write.
      insertSegment: this.db.prepare('INSERT INTO entries (op, key, cur_id, cur) VALUES (?, ?, ?, ?)'),
      // Returns the byte size of the value it replaced (NULL where there was none), for the live size.
      upsertWhole: this.db
        .prepare(
          `INSERT INTO entries (op, key, cur_id, cur) VALUES (?, ?, ?, ?)
           ON CONFLICT (op, key) DO UPDATE SET prev_id = cur_id, prev = cur, cur_id = excluded.cur_id, cur = excluded.cur
           RETURNING length(CAST(prev AS BLOB))`,
        )
        .pluck(true),
      // A full write: every entry of the operator the write did not give a value is absent from it on.
      deleteOp: this.db.prepare('UPDATE entries SET prev_id = cur_id, prev = cur, cur_id = ?, cur = NULL WHERE op = ? AND cur_id < ? AND cur IS NOT NULL'),
      opBytes: this.db.prepare('SELECT COALESCE(SUM(length(CAST(cur AS BLOB))), 0) AS n FROM entries WHERE op = ? AND cur IS NOT NULL'),
      setStatus: this.db.prepare('UPDATE checkpoints SET status = ? WHERE id = ?'),
      // Keys absent from both readable checkpoints.
      pruneSome: this.db.prepare(`DELETE FROM entries WHERE rowid IN (SELECT rowid FROM entries WHERE cur IS NULL AND cur_id <= ? LIMIT ${PRUNE_ROWS_PER_STEP})`),
      dropOlder: this.db.prepare('DELETE FROM checkpoints WHERE id < ?'),
      pendingCp: this.db.prepare("SELECT id FROM checkpoints WHERE status = 'PENDING' AND id > COALESCE((SELECT MAX(id) FROM checkpoints WHERE status = 'COMPLETED'), 0)").pluck(true),
      completedBefore: this.db.prepare("SELECT MAX(id) FROM checkpoints WHERE status = 'COMPLETED' AND id < ?").pluck(true),
    };
    this.loadLive();
  }

  static open(dataDir: string, jobId: string): CheckpointStore {
    const dir = join(dataDir, 'checkpoints');
    mkdirSync(dir, { recursive: true });
    return new CheckpointStore(join(dir, `${jobId}.db`));
  }

  /**
   * A store of the format before 2026-11-26 (a row per version, `state(op, key, from_id, to_id, value)`)
   * becomes the two-version format, keeping what a restart reads: the newest COMPLETED checkpoint and a
   * PENDING one newer than it. Older checkpoints go. One transaction: a crash leaves the old format whole.
   */
  private migrateVersionRows(): void {
    this.db.transaction(() => {
      const completed = (this.db.prepare("SELECT MAX(id) FROM checkpoints WHERE status = 'COMPLETED'").pluck(true).get() as number | null) ?? 0;
      const pending = this.db.prepare("SELECT MAX(id) FROM checkpoints WHERE status = 'PENDING' AND id > ?").pluck(true).get(completed) as number | null;
      this.db.prepare('INSERT INTO entries (op, key, cur_id, cur) SELECT op, key, from_id, value FROM state WHERE from_id <= ? AND (to_id IS NULL OR to_id > ?)').run(completed, completed);
      if (pending !== null) {
        // The versions the PENDING checkpoint wrote, then the keys it deleted (closed at it, nothing new).
        this.db
          .prepare('INSERT INTO entries (op, key, cur_id, cur) SELECT op, key, from_id, value FROM state WHERE from_id = ? ON CONFLICT (op, key) DO UPDATE SET prev_id = cur_id, prev = cur, cur_id = excluded.cur_id, cur = excluded.cur')
          .run(pending);
        this.db
          .prepare('UPDATE entries SET prev_id = cur_id, prev = cur, cur_id = ?, cur = NULL WHERE cur_id < ? AND EXISTS (SELECT 1 FROM state s WHERE s.op = entries.op AND s.key = entries.key AND s.to_id = ?)')
          .run(pending, pending, pending);
      }
      this.db.exec('DROP TABLE state');
      if (completed > 0) this.db.prepare('DELETE FROM checkpoints WHERE id < ?').run(completed);
    })();
  }

  private loadLive(): void {
    this.live = new Map();
    const rows = this.db.prepare("SELECT op, key, cur FROM entries WHERE key = '' AND cur IS NOT NULL").all() as { op: number; key: string; cur: string }[];
    for (const r of rows) this.live.set(entryId(r.op, r.key), hash(r.cur));
    this.liveBytes = (this.db.prepare('SELECT COALESCE(SUM(length(CAST(cur AS BLOB))), 0) AS n FROM entries WHERE cur IS NOT NULL').get() as { n: number }).n;
    this.opStats = new Map();
    const sizes = this.db
      .prepare("SELECT op, substr(key, 1, 1) AS kind, SUM(length(CAST(cur AS BLOB))) AS n FROM entries WHERE key <> '' AND cur IS NOT NULL GROUP BY op, kind")
      .all() as { op: number; kind: string; n: number }[];
    for (const r of sizes) {
      const st = this.opStats.get(r.op) ?? { base: 0, logged: 0 };
      if (r.kind === DELTA_SEGMENT) st.logged += r.n;
      else st.base += r.n;
      this.opStats.set(r.op, st);
    }
  }

  /**
   * Whether operator `op`'s next checkpoint should hand over every entry (KeyedState.keyedChanges(true)):
   * once the delta segments written since its last full write outweigh twice that base, a full write
   * replaces them all, so what a restore reads and what the store keeps stay within a few times the state.
   */
  wantsFull(op: number): boolean {
    const st = this.opStats.get(op);
    return st !== undefined && st.logged > 2 * st.base + CheckpointStore.compactAfterBytes;
  }

  /** Delta segments below this size never ask for a full write, whatever the base (a small state churning). */
  static compactAfterBytes = 1 << 20;

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
   * two-phase sink commits (then complete() or abort(), before the next write). Only entries whose value
   * changed are written: whole snapshots whose hash changed, and the keys a keyed operator reports changed
   * or deleted (in segments). Returns the bytes the store holds for the checkpoint (metrics): offsets,
   * watermarks and all live state rows, unchanged ones included (a keyed operator's base and deltas).
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
    // A whole snapshot's entry (value null: the operator has none any more) replacing what the store holds.
    const upsertWhole = (op: number, key: string, value: string | null): void => {
      if (value !== null) {
        const n = Buffer.byteLength(value);
        liveBytes += n;
        written += n;
        rows++;
      }
      // The value replaced (the previous cur, now prev) leaves the live size.
      const replaced = this.q.upsertWhole.get(op, key, id, value) as number | null | undefined;
      if (typeof replaced === 'number') liveBytes -= replaced;
    };
    // Per-operator sizes after this write (wantsFull), kept only once it commits.
    const stats = new Map([...this.opStats].map(([op, st]) => [op, { ...st }]));
    // One segment row: a chunk of entries as one text (one JSON.stringify, one B-tree insert for all of them).
    const writeSegment = (op: number, kind: string, seq: number, keys: string[], values: unknown[], deletes: readonly string[]): number => {
      const text = encodeSegment(keys, values, deletes);
      const n = Buffer.byteLength(text);
      this.q.insertSegment.run(op, segmentKey(kind, id, seq), id, text);
      liveBytes += n;
      written += n;
      rows += values.length;
      return n;
    };
    const self = this;
    yield* inTransaction(
      this.db,
      (function* () {
        const pending = self.q.pendingCp.get() as number | undefined;
        if (pending !== undefined) throw new Error(`checkpoint ${pending} is PENDING: complete or abort it before writing checkpoint ${id}`);
        self.q.insertCp.run(id, status, new Date().toISOString(), offsets, endOffsets, watermarks, data.operators.length, sourceState);
        for (const e of changed) upsertWhole(e.op, e.key, e.value);
        for (const r of removed) upsertWhole(r.op, r.key, null);
        for (const { op, changes: k } of keyed) {
          const stat = stats.get(op) ?? { base: 0, logged: 0 };
          if (k.full) {
            // Everything the store holds for this operator (segments, per-key entries of the older format, or
            // a whole snapshot) is replaced: closed below, once the new base is in.
            liveBytes -= (self.q.opBytes.get(op) as { n: number }).n;
            stat.base = 0;
            stat.logged = 0;
          }
          const kind = k.full ? BASE_SEGMENT : DELTA_SEGMENT;
          // Upserts then deletes, ENTRIES_PER_SEGMENT of them per segment and a step per segment: serializing
          // 100,000 entries in one go would hold the thread too long.
          const nu = k.upserts.length;
          const total = nu + k.deletes.length;
          for (let from = 0, seq = 0; from < total; from += ENTRIES_PER_SEGMENT, seq++) {
            const to = Math.min(total, from + ENTRIES_PER_SEGMENT);
            const keys: string[] = [];
            const values: unknown[] = [];
            for (let j = from; j < Math.min(to, nu); j++) {
              const e = k.upserts[j]!;
              keys.push(e[0]);
              values.push(e[1]);
            }
            const deletes = to > nu ? k.deletes.slice(Math.max(from, nu) - nu, to - nu) : [];
            const n = writeSegment(op, kind, seq, keys, values, deletes);
            if (k.full) stat.base += n;
            else stat.logged += n;
            yield;
          }
          if (k.full) self.q.deleteOp.run(id, op, id);
          stats.set(op, stat);
        }
        // Two checkpoints stay readable (see the class comment): this one and the newest COMPLETED before it.
        const kept = self.q.completedBefore.get(id) as number | null;
        if (kept !== null) yield* self.pruneSteps(kept);
      })(),
    );
    this.live = new Map([...next].map(([k, e]) => [k, e.hash]));
    this.liveBytes = liveBytes;
    this.opStats = stats;
    this.lastWrite = { rows, bytes: written };
    return Buffer.byteLength(offsets) + (endOffsets ? Buffer.byteLength(endOffsets) : 0) + Buffer.byteLength(watermarks) + (sourceState ? Buffer.byteLength(sourceState) : 0) + liveBytes;
  }

  /** Marks a PENDING checkpoint COMPLETED (its sink commit happened). */
  complete(id: number): void {
    runToEnd(this.completeSteps(id));
  }

  /** complete() in slices (see writeSliced). */
  completeSliced(id: number, sliceMs = CheckpointStore.sliceMs): Promise<void> {
    return runSliced(this.completeSteps(id), sliceMs);
  }

  private *completeSteps(id: number): Steps<void> {
    const self = this;
    yield* inTransaction(
      this.db,
      (function* () {
        self.q.setStatus.run('COMPLETED', id);
      })(),
    );
  }

  /** A PENDING checkpoint whose sink commit did not happen: its entries go, the previous ones are live again. */
  abort(id: number): void {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM entries WHERE cur_id = ? AND prev_id IS NULL').run(id);
      this.db.prepare('UPDATE entries SET cur_id = prev_id, cur = prev, prev_id = NULL, prev = NULL WHERE cur_id = ?').run(id);
      this.q.setStatus.run('ABORTED', id);
    })();
    this.loadLive();
  }

  /**
   * Drops the checkpoints older than `kept` and the entries absent from every checkpoint from `kept` on;
   * runs inside a transaction. Deleted keys go a bounded number of rows per step (after a checkpoint that
   * dropped every key, there is one per key).
   */
  private *pruneSteps(kept: number): Steps<void> {
    while (this.q.pruneSome.run(kept).changes > 0) yield;
    this.q.dropOlder.run(kept);
  }

  /** Reads a checkpoint back, as the job restores it. */
  load(id: number): CheckpointData {
    const cp = this.db.prepare('SELECT * FROM checkpoints WHERE id = ?').get(id) as
      | { offsets: string; end_offsets: string | null; watermarks: string; operators: number; status: string; source_state: string | null }
      | undefined;
    if (!cp) throw new Error(`checkpoint ${id} not found`);
    const operators: unknown[] = new Array<unknown>(cp.operators).fill(null);
    const keyed = new Map<number, Map<string, unknown>>();
    const segments = new Map<number, { key: string; value: string }[]>();
    const rows = this.db
      .prepare('SELECT op, key, value FROM (SELECT op, key, CASE WHEN cur_id <= ? THEN cur WHEN prev_id <= ? THEN prev END AS value FROM entries) WHERE value IS NOT NULL')
      .iterate(id, id) as IterableIterator<{ op: number; key: string; value: string }>;
    const entriesOf = (op: number): Map<string, unknown> => {
      if (operators[op] !== null) throw new Error(`checkpoint ${id}: operator ${op} has both a whole snapshot and keyed entries`);
      let m = keyed.get(op);
      if (!m) keyed.set(op, (m = new Map()));
      return m;
    };
    for (const r of rows) {
      if (r.op >= operators.length) continue;
      if (r.key === '') {
        if (keyed.has(r.op)) throw new Error(`checkpoint ${id}: operator ${r.op} has both a whole snapshot and keyed entries`);
        operators[r.op] = decodeSnapshot(r.value);
        continue;
      }
      const kind = r.key[0];
      if (kind === KEYED_PREFIX) {
        // An entry of the older format: the base the segments written since apply to.
        entriesOf(r.op).set(r.key.slice(KEYED_PREFIX.length), decodeSnapshot(r.value));
      } else if (kind === BASE_SEGMENT || kind === DELTA_SEGMENT) {
        entriesOf(r.op);
        let list = segments.get(r.op);
        if (!list) segments.set(r.op, (list = []));
        list.push(r);
      } else throw new Error(`checkpoint ${id}: state entry '${r.key}' of operator ${r.op} is not readable by this version`);
    }
    // Segments in the order they were written (their keys: checkpoint id, then sequence, both fixed-width).
    for (const [op, list] of segments) {
      const m = keyed.get(op)!;
      list.sort((a, b) => (a.key.slice(1) < b.key.slice(1) ? -1 : 1));
      for (const seg of list) {
        const { keys, values } = decodeSegment(seg.value);
        for (let i = 0; i < values.length; i++) m.set(keys[i]!, values[i]);
        for (let i = values.length; i < keys.length; i++) m.delete(keys[i]!);
      }
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

  /**
   * Rows of operator state the store keeps (whole snapshots, segments of keyed entries, entries of the older
   * format), counting a row's previous version as one more (for tests: what the checkpoints keep).
   */
  stateRows(): number {
    return (this.db.prepare('SELECT COUNT(*) + COUNT(prev_id) AS n FROM entries').get() as { n: number }).n;
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

/** Keyed entries per segment row (and per step of a sliced write): ~20 KB of text for a GROUP BY's entries. */
const ENTRIES_PER_SEGMENT = 512;

/** Key prefixes of a keyed operator's segment rows: written by a full write (the base), or by a later one. */
const BASE_SEGMENT = 'f';
const DELTA_SEGMENT = 's';

/** A segment row's key: its kind, its checkpoint's id and its sequence within it, fixed-width so they sort. */
const segmentKey = (kind: string, id: number, seq: number): string => `${kind}${String(id).padStart(15, '0')}.${String(seq).padStart(9, '0')}`;

/**
 * A segment's text: the upserted values as one JSON array, then each key on a line of its own (the
 * upserts' keys, then the deleted ones). Keys are text as they are (an operator's keys are JSON, which
 * quoted inside JSON would gain a backslash per quote: ~1.7x the bytes for string keys). JSON has no raw
 * line break, so the first one ends the values. A key with a line break of its own makes the segment one
 * JSON array instead, `[[key, ...], [value, ...]]`, told apart by having no raw line break at all.
 */
function encodeSegment(keys: readonly string[], values: readonly unknown[], deletes: readonly string[]): string {
  const all = deletes.length > 0 ? [...keys, ...deletes] : keys;
  for (let i = 0; i < all.length; i++) if (all[i]!.includes('\n')) return encodeEntry([all, values]);
  return `${encodeEntry(values)}\n${all.join('\n')}`;
}

/** A segment's keys (the upserted ones, values.length of them, then the deleted ones) and values. */
function decodeSegment(text: string): { keys: string[]; values: unknown[] } {
  const nl = text.indexOf('\n');
  if (nl < 0) {
    const [keys, values] = decodeValues(text) as [string[], unknown[]];
    return { keys, values };
  }
  return { keys: text.slice(nl + 1).split('\n'), values: decodeValues(text.slice(0, nl)) as unknown[] };
}

/** encodeEntry writes the numbers JSON would lose as tagged objects (a NUL in a key, escaped in the text): only such text needs the reviver. */
function decodeValues(text: string): unknown {
  return text.includes('\\u0000') ? decodeSnapshot(text) : JSON.parse(text);
}

/** Old state versions deleted per step of a sliced prune (~1 ms of SQLite work). */
const PRUNE_ROWS_PER_STEP = 256;

/** Prefix of a keyed operator's entries in the state table's older format, one row per key (a whole snapshot's key is ''). */
const KEYED_PREFIX = 'k';

const entryId = (op: number, key: string): string => `${op}\u0000${key}`;

function splitEntryId(k: string): { op: number; key: string } {
  const i = k.indexOf('\u0000');
  return { op: Number(k.slice(0, i)), key: k.slice(i + 1) };
}

function hash(value: string): string {
  return createHash('sha1').update(value).digest('base64');
}

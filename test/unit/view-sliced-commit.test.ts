// Sliced commits (connectors/sqlite/slices.ts): a view's checkpoint and a checkpoint store write run in
// slices with the event loop turning in between, inside ONE transaction. A reader on another connection
// (as the query pool's are) sees the previous commit until the end, a failure half-way leaves nothing, and
// synchronous users of the view store's connection (create, subscribe) finish an open commit first.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ViewStore } from '../../connectors/sqlite/view-store.ts';
import type { StoredChange, ViewChange } from '../../connectors/sqlite/view-store.ts';
import { keyedChanges } from '../../engine/state/keyed.ts';
import { CheckpointStore } from '../../jobs/checkpoint-store.ts';
import type { CheckpointData } from '../../jobs/checkpoint-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-sliced-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const COLS = [
  { name: 'k', type: 'BIGINT', sqliteType: 'INTEGER' as const },
  { name: 'n', type: 'BIGINT', sqliteType: 'INTEGER' as const },
];

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Upserts of keys 0..count-1, each to `n`. */
const upserts = (count: number, n: number): StoredChange[] => Array.from({ length: count }, (_, k) => ({ op: '+I', row: [k, n] }));

/** What a reader on its own connection sees: row count, sum of n, and the view's checkpoint id. */
function readerView(path: string): () => { rows: number; sum: number; checkpoint: number | null } {
  const db = new Database(path, { readonly: true });
  return () => {
    const r = db.prepare('SELECT COUNT(*) AS rows, COALESCE(SUM(n), 0) AS sum FROM v').get() as { rows: number; sum: number };
    const m = db.prepare("SELECT checkpoint_id AS checkpoint FROM _weir_views WHERE name = 'v'").get() as { checkpoint: number | null };
    return { ...r, checkpoint: m.checkpoint };
  };
}

describe('ViewStore.commitChangesSliced', () => {
  it('lets the event loop turn between slices while readers see the previous checkpoint until COMMIT', async () => {
    const path = join(dir, 'views.db');
    const store = ViewStore.open(path);
    try {
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      store.commitChanges('v', 'j', 1, upserts(3000, 1), undefined);
      const read = readerView(path);
      expect(read()).toEqual({ rows: 3000, sum: 3000, checkpoint: 1 });
      // Checkpoint 2: every key to 2, 1000 deleted, 500 new; slices as short as possible.
      const changes: StoredChange[] = [...upserts(2000, 2), ...Array.from({ length: 1000 }, (_, i): StoredChange => ({ op: '-D', row: [2000 + i, 1] })), ...upserts(3500, 2).slice(3000)];
      let done = false;
      const commit = store.commitChangesSliced('v', 'j', 2, changes, undefined, 0).then(() => (done = true));
      let turns = 0;
      while (!done) {
        await turn();
        turns++;
        if (!done) {
          expect(read()).toEqual({ rows: 3000, sum: 3000, checkpoint: 1 });
          expect(store.rowCount('v')).toBe(3000);
        }
      }
      await commit;
      expect(turns).toBeGreaterThan(10);
      expect(read()).toEqual({ rows: 2500, sum: 5000, checkpoint: 2 });
      expect(store.lastCheckpoint('v', 'j')).toBe(2);
    } finally {
      store.close();
    }
  });

  it('a failure half-way rolls the whole checkpoint back; the next commit works', async () => {
    const path = join(dir, 'views.db');
    const store = ViewStore.open(path);
    try {
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      store.commitChanges('v', 'j', 1, upserts(100, 1), undefined);
      // The 600th row has a column missing: SQLite refuses it after 599 rows were written in the transaction.
      const bad: StoredChange[] = [...upserts(599, 5), { op: '+I', row: [599] }, ...upserts(700, 5).slice(600)];
      await expect(store.commitChangesSliced('v', 'j', 2, bad, undefined, 0)).rejects.toThrow();
      const read = readerView(path);
      expect(read()).toEqual({ rows: 100, sum: 100, checkpoint: 1 });
      await store.commitChangesSliced('v', 'j', 2, upserts(700, 5), undefined, 0);
      expect(read()).toEqual({ rows: 700, sum: 3500, checkpoint: 2 });
    } finally {
      store.close();
    }
  });

  it('create() and subscribe() during a sliced commit finish it first; the subscriber sees each change once', async () => {
    const path = join(dir, 'views.db');
    const store = ViewStore.open(path);
    try {
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      store.commitChanges('v', 'j', 1, upserts(500, 1), undefined);
      const first = store.commitChangesSliced('v', 'j', 2, upserts(1000, 2), undefined, 0);
      // Queued behind the first: the store has one writer connection.
      const second = store.commitChangesSliced('v', 'j', 3, upserts(1000, 3), undefined, 0);
      await turn();
      await turn();
      store.create({ name: 'other', jobId: 'j2', columns: COLS, key: null });
      expect(readerView(path)()).toEqual({ rows: 1000, sum: 2000, checkpoint: 2 });
      await first;
      await turn();
      await turn();
      // Subscribing in the middle of checkpoint 3: the snapshot and the events add up to the final state.
      const events: ViewChange[] = [];
      const sub = store.subscribe('v', (cs) => events.push(...cs))!;
      await second;
      const state = new Map(sub.snapshot.map((r) => [r['k'], r['n']]));
      for (const e of events) {
        if (e.op === '-D') state.delete(e.row['k']);
        else if (e.op !== '-U') state.set(e.row['k'], e.row['n']);
      }
      expect(state).toEqual(new Map(Array.from({ length: 1000 }, (_, k) => [k, 3])));
      expect(store.lastCheckpoint('v', 'j')).toBe(3);
      expect(store.rowCount('other')).toBe(0);
      sub.unsubscribe();
    } finally {
      store.close();
    }
  });
});

const cp = (offset: number, op: unknown): CheckpointData => ({ offsets: { 0: offset }, endOffsets: undefined, watermarks: { 0: offset }, operators: [op] });

describe('CheckpointStore sliced writes', () => {
  it('writes and completes in slices inside one transaction each; a failure half-way leaves the previous checkpoint', async () => {
    const s = CheckpointStore.open(dir, 'job');
    const reader = new Database(join(dir, 'checkpoints', 'job.db'), { readonly: true });
    const visible = (): { ids: number[]; live: number } => ({
      ids: (reader.prepare('SELECT id FROM checkpoints ORDER BY id').all() as { id: number }[]).map((r) => r.id),
      live: (reader.prepare('SELECT COUNT(*) AS n FROM entries WHERE cur IS NOT NULL').get() as { n: number }).n,
    });
    try {
      // 6000 entries: 12 segments of 500-odd entries, a step each.
      const all = (n: number): [string, unknown][] => Array.from({ length: 6000 }, (_, i) => [`g${i}`, { n }]);
      await s.writeSliced(1, cp(1, keyedChanges(true, all(1), [])), 'COMPLETED', 0);
      expect(visible()).toEqual({ ids: [1], live: 12 });
      // Checkpoint 2 (PENDING): every key changes; a reader sees nothing of it before its COMMIT.
      let done = false;
      const w = s.writeSliced(2, cp(2, keyedChanges(false, all(2), [])), 'PENDING', 0).then((bytes) => ((done = true), bytes));
      let turns = 0;
      while (!done) {
        await turn();
        turns++;
        if (!done) expect(visible()).toEqual({ ids: [1], live: 12 });
      }
      expect(await w).toBeGreaterThan(0);
      expect(turns).toBeGreaterThan(10);
      expect(s.lastWrite.rows).toBe(6000);
      await s.completeSliced(2, 0);
      await s.writeSliced(3, cp(3, keyedChanges(false, all(3), [])), 'COMPLETED', 0);
      // Two completed checkpoints kept: 1 is dropped, its base segments stay (2 and 3 are deltas on them).
      expect(visible().ids).toEqual([2, 3]);
      expect(s.stateRows()).toBe(36);
      // A value that cannot be serialized (a BigInt) half-way through checkpoint 4: nothing of it stays.
      const bad: [string, unknown][] = all(4).map(([k, v], i) => [k, i === 4500 ? { n: 10n } : v]);
      await expect(s.writeSliced(4, cp(4, keyedChanges(false, bad, [])), 'COMPLETED', 0)).rejects.toThrow();
      expect(visible().ids).toEqual([2, 3]);
      expect(s.stateRows()).toBe(36);
      const at3 = s.load(3).operators[0] as { entries: ReadonlyMap<string, unknown> };
      expect([...at3.entries.values()].every((v) => (v as { n: number }).n === 3)).toBe(true);
      await s.writeSliced(4, cp(4, keyedChanges(false, all(4).slice(0, 10), [])), 'COMPLETED', 0);
      expect(visible().ids).toEqual([3, 4]);
    } finally {
      reader.close();
      s.close();
    }
  });
});

// The per-job checkpoint store: atomic checkpoints, state entries (their two newest versions) written only
// when they change, PENDING → COMPLETED / ABORTED, the last two completed checkpoints kept, and everything
// readable again after the process is gone (a new store on the same file).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyedChanges } from '../../engine/state/keyed.ts';
import { CheckpointStore } from '../../jobs/checkpoint-store.ts';
import type { CheckpointData } from '../../jobs/checkpoint-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-cp-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const data = (offset: number, ops: unknown[]): CheckpointData => ({
  offsets: { 0: offset, 1: offset + 1 },
  endOffsets: offset > 100 ? { 0: 1000, 1: 1000 } : undefined,
  watermarks: { 0: offset * 10, 1: Number.MIN_SAFE_INTEGER },
  operators: ops,
});

/** Rows of the entries table: each entry's newest version (from cur_id; deleted: no value) and the one before. */
const stateRows = (): { op: number; cur_id: number; deleted: number; prev_id: number | null }[] => {
  const db = new Database(join(dir, 'checkpoints', 'job.db'), { readonly: true });
  try {
    return db.prepare('SELECT op, cur_id, cur IS NULL AS deleted, prev_id FROM entries ORDER BY op, key').all() as { op: number; cur_id: number; deleted: number; prev_id: number | null }[];
  } finally {
    db.close();
  }
};

describe('CheckpointStore', () => {
  it('reads back what it wrote, also from a new store on the same file (after a crash)', () => {
    const s = CheckpointStore.open(dir, 'job');
    expect(s.latest()).toEqual({ completed: undefined, pending: undefined });
    expect(s.nextId()).toBe(1);
    const d = data(200, [null, { windows: [[1, [[['a'], [1, 2]]]]], watermark: 5 }, { x: Infinity, y: -0, z: NaN }]);
    s.write(1, d, 'COMPLETED');
    s.close();
    const t = CheckpointStore.open(dir, 'job');
    expect(t.latest().completed?.id).toBe(1);
    const back = t.load(1);
    expect(back).toEqual(d);
    expect(Object.is((back.operators[2] as { y: number }).y, -0)).toBe(true);
    expect(t.load(1).endOffsets).toEqual({ 0: 1000, 1: 1000 });
    t.close();
  });

  it("keeps a source's own state with the checkpoint, and opens a store written before that column existed", () => {
    // A store of the former layout: its checkpoints table has no source_state.
    const file = join(dir, 'checkpoints', 'job.db');
    const first = CheckpointStore.open(dir, 'job');
    first.write(1, data(5, [null]), 'COMPLETED');
    first.close();
    const db = new Database(file);
    db.exec('ALTER TABLE checkpoints DROP COLUMN source_state');
    db.close();
    const s = CheckpointStore.open(dir, 'job');
    expect(s.load(1)).toEqual(data(5, [null]));
    s.write(2, { ...data(6, [null]), source: { seen: [3, 1.5, -0, 2 ** 52] } }, 'COMPLETED');
    s.close();
    const again = CheckpointStore.open(dir, 'job');
    expect(again.load(2)).toEqual({ ...data(6, [null]), source: { seen: [3, 1.5, -0, 2 ** 52] } });
    expect(Object.is((again.load(2).source as { seen: number[] }).seen[2], -0)).toBe(true);
    expect('source' in again.load(1)).toBe(false);
    again.close();
  });

  it('opens a store of the row-per-version format (before 2026-11-26): what a restart reads stays, in the new format', () => {
    // Written by hand as that format stored it: checkpoints 1 and 2 COMPLETED, 3 PENDING. Operator 0 a whole
    // snapshot; operator 1 keyed: 'ka' changed at 2 and 3, 'kb' deleted at 3, 'kc' new at 3, 'kd' gone since 2.
    const file = join(dir, 'checkpoints', 'job.db');
    const db = new Database((CheckpointStore.open(dir, 'job').close(), file));
    db.exec(`DROP TABLE entries;
      CREATE TABLE state (op INTEGER NOT NULL, key TEXT NOT NULL, from_id INTEGER NOT NULL, to_id INTEGER, value TEXT NOT NULL, PRIMARY KEY (op, key, from_id));
      CREATE INDEX state_closed ON state (to_id) WHERE to_id IS NOT NULL;`);
    const cp = db.prepare("INSERT INTO checkpoints (id, status, created_at, offsets, end_offsets, watermarks, operators) VALUES (?, ?, '2026-11-25T00:00:00Z', ?, NULL, '{}', 2)");
    cp.run(1, 'COMPLETED', '{"0":1}');
    cp.run(2, 'COMPLETED', '{"0":2}');
    cp.run(3, 'PENDING', '{"0":3}');
    const v = db.prepare('INSERT INTO state VALUES (?, ?, ?, ?, ?)');
    v.run(0, '', 1, 3, '{"w":1}');
    v.run(0, '', 3, null, '{"w":3}');
    v.run(1, 'ka', 1, 2, '1');
    v.run(1, 'ka', 2, 3, '2');
    v.run(1, 'ka', 3, null, '3');
    v.run(1, 'kb', 1, 3, '"b"');
    v.run(1, 'kc', 3, null, '"c"');
    v.run(1, 'kd', 1, 2, '"d"');
    db.close();
    const s = CheckpointStore.open(dir, 'job');
    const keyedAt = (id: number): Record<string, unknown> => Object.fromEntries((s.load(id).operators[1] as { entries: Map<string, unknown> }).entries);
    expect(s.list().map((c) => [c.id, c.status])).toEqual([
      [2, 'COMPLETED'],
      [3, 'PENDING'],
    ]);
    expect(s.load(2).operators[0]).toEqual({ w: 1 });
    expect(keyedAt(2)).toEqual({ a: 2, b: 'b' });
    expect(s.load(3).operators[0]).toEqual({ w: 3 });
    expect(keyedAt(3)).toEqual({ a: 3, c: 'c' });
    // Aborting the PENDING one leaves checkpoint 2 live, as in the old format.
    s.abort(3);
    expect(keyedAt(2)).toEqual({ a: 2, b: 'b' });
    s.write(4, { ...data(4, [{ w: 4 }, null]) }, 'COMPLETED');
    expect(s.load(4).operators[0]).toEqual({ w: 4 });
    s.close();
    const check = new Database(file, { readonly: true });
    const tables = (check.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
    check.close();
    expect(tables).toEqual(['checkpoints', 'entries']);
  });

  it('opens a store with one row per keyed entry (before segments): it is the base the new segments apply to, until a full write replaces it', () => {
    const file = join(dir, 'checkpoints', 'job.db');
    CheckpointStore.open(dir, 'job').close();
    // As that format stored it: checkpoint 1 COMPLETED, operator 0 keyed with entries a, b, c.
    const db = new Database(file);
    db.prepare("INSERT INTO checkpoints (id, status, created_at, offsets, end_offsets, watermarks, operators) VALUES (1, 'COMPLETED', '2026-11-26T00:00:00Z', '{\"0\":1}', NULL, '{}', 1)").run();
    const e = db.prepare('INSERT INTO entries (op, key, cur_id, cur) VALUES (0, ?, 1, ?)');
    e.run('ka', '1');
    e.run('kb', '2');
    e.run('kc', '[3,{"\\u0000num":"-0"}]');
    db.close();
    const s = CheckpointStore.open(dir, 'job');
    const keyedAt = (id: number): Record<string, unknown> => Object.fromEntries((s.load(id).operators[0] as { entries: Map<string, unknown> }).entries);
    expect(keyedAt(1)).toEqual({ a: 1, b: 2, c: [3, -0] });
    // Changes on top: a segment; the old rows stay the base.
    s.write(2, data(2, [keyedChanges(false, [['a', 10], ['d', 4]], ['b'])]), 'COMPLETED');
    expect(keyedAt(2)).toEqual({ a: 10, c: [3, -0], d: 4 });
    expect(keyedAt(1)).toEqual({ a: 1, b: 2, c: [3, -0] });
    // A full write is the new base: once no kept checkpoint reads them, the old rows are gone.
    s.write(3, data(3, [keyedChanges(true, [['a', 11], ['d', 4]], [])]), 'COMPLETED');
    expect(keyedAt(3)).toEqual({ a: 11, d: 4 });
    expect(keyedAt(2)).toEqual({ a: 10, c: [3, -0], d: 4 });
    s.write(4, data(4, [keyedChanges(false, [['e', 5]], [])]), 'COMPLETED');
    expect(keyedAt(4)).toEqual({ a: 11, d: 4, e: 5 });
    s.close();
    const check = new Database(file, { readonly: true });
    const keys = (check.prepare('SELECT key FROM entries ORDER BY key').all() as { key: string }[]).map((r) => r.key[0]);
    check.close();
    expect(keys).toEqual(['f', 's']);
  });

  it('refuses to write a checkpoint while an older one is PENDING (complete or abort it first)', () => {
    const s = CheckpointStore.open(dir, 'job');
    s.write(1, data(1, [{ v: 1 }]), 'COMPLETED');
    s.write(2, data(2, [{ v: 2 }]), 'PENDING');
    expect(() => s.write(3, data(3, [{ v: 3 }]), 'COMPLETED')).toThrow(/checkpoint 2 is PENDING/);
    expect(s.load(1)).toEqual(data(1, [{ v: 1 }]));
    expect(s.load(2)).toEqual(data(2, [{ v: 2 }]));
    s.complete(2);
    s.write(3, data(3, [{ v: 3 }]), 'COMPLETED');
    expect(s.list().map((c) => c.id)).toEqual([2, 3]);
    s.close();
  });

  it('writes only the operator entries that changed, and reads every checkpoint as it was', () => {
    const s = CheckpointStore.open(dir, 'job');
    s.write(1, data(1, [{ a: 1 }, null, { b: 1 }]), 'COMPLETED');
    s.write(2, data(2, [{ a: 1 }, null, { b: 2 }]), 'COMPLETED'); // operator 0 unchanged
    expect(stateRows()).toEqual([
      { op: 0, cur_id: 1, deleted: 0, prev_id: null },
      { op: 2, cur_id: 2, deleted: 0, prev_id: 1 },
    ]);
    expect(s.load(1).operators).toEqual([{ a: 1 }, null, { b: 1 }]);
    expect(s.load(2).operators).toEqual([{ a: 1 }, null, { b: 2 }]);
    // An operator whose state went away (snapshot null) is marked deleted, its last value kept for checkpoint 2.
    s.write(3, data(3, [{ a: 1 }, null, null]), 'COMPLETED');
    expect(stateRows()[1]).toEqual({ op: 2, cur_id: 3, deleted: 1, prev_id: 2 });
    expect(s.load(3).operators).toEqual([{ a: 1 }, null, null]);
    expect(s.load(2).operators).toEqual([{ a: 1 }, null, { b: 2 }]);
    s.close();
  });

  it('keeps the last two completed checkpoints and no state only older ones need', () => {
    const s = CheckpointStore.open(dir, 'job');
    for (let i = 1; i <= 6; i++) s.write(i, data(i, [{ v: i }, { fixed: true }]), 'COMPLETED');
    expect(s.list().map((c) => c.id)).toEqual([5, 6]);
    expect(s.load(5).operators).toEqual([{ v: 5 }, { fixed: true }]);
    expect(s.load(6).operators).toEqual([{ v: 6 }, { fixed: true }]);
    // The unchanged entry written by checkpoint 1 is still the one both kept checkpoints read.
    expect(stateRows()).toEqual([
      { op: 0, cur_id: 6, deleted: 0, prev_id: 5 },
      { op: 1, cur_id: 1, deleted: 0, prev_id: null },
    ]);
    expect(() => s.load(4)).toThrow(/not found/);
    s.close();
  });

  it('PENDING then COMPLETED (the sink committed), or ABORTED (it did not): the previous state is live again', () => {
    const s = CheckpointStore.open(dir, 'job');
    s.write(1, data(1, [{ v: 1 }]), 'COMPLETED');
    s.write(2, data(2, [{ v: 2 }]), 'PENDING');
    expect(s.latest()).toMatchObject({ completed: { id: 1 }, pending: { id: 2, status: 'PENDING' } });
    s.abort(2);
    expect(s.latest()).toMatchObject({ completed: { id: 1 }, pending: undefined });
    expect(s.nextId()).toBe(3); // ids never repeat, so an aborted id never names another checkpoint
    // After the abort, checkpoint 1's entry is live: an equal snapshot is not written again, a different one is.
    s.write(3, data(3, [{ v: 1 }]), 'PENDING');
    expect(stateRows()).toEqual([{ op: 0, cur_id: 1, deleted: 0, prev_id: null }]);
    s.complete(3);
    expect(s.latest()).toMatchObject({ completed: { id: 3 }, pending: undefined });
    expect(s.load(3)).toEqual(data(3, [{ v: 1 }]));
    s.write(4, data(4, [{ v: 4 }]), 'PENDING');
    s.close();
    // A crash leaves 4 PENDING; a new store sees it and its entries.
    const t = CheckpointStore.open(dir, 'job');
    expect(t.latest()).toMatchObject({ completed: { id: 3 }, pending: { id: 4 } });
    t.complete(4);
    expect(t.load(4).operators).toEqual([{ v: 4 }]);
    expect(t.list().map((c) => [c.id, c.status])).toEqual([
      [3, 'COMPLETED'],
      [4, 'COMPLETED'],
    ]);
    t.close();
  });

  it('a checkpoint is all or nothing: a failing write leaves the previous one intact', () => {
    const s = CheckpointStore.open(dir, 'job');
    s.write(1, data(1, [{ v: 1 }]), 'COMPLETED');
    expect(() => s.write(1, data(2, [{ v: 2 }]), 'COMPLETED')).toThrow(); // id 1 exists: the transaction rolls back
    expect(s.load(1)).toEqual(data(1, [{ v: 1 }]));
    expect(stateRows()).toEqual([{ op: 0, cur_id: 1, deleted: 0, prev_id: null }]);
    s.close();
  });
});

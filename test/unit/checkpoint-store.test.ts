// The per-job checkpoint store: atomic checkpoints, versioned state entries written only when they
// change, PENDING → COMPLETED / ABORTED, the last two completed checkpoints kept, and everything
// readable again after the process is gone (a new store on the same file).
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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

/** Rows of the state table: what each checkpoint actually wrote. */
const stateRows = (): { op: number; from_id: number; to_id: number | null }[] => {
  const db = new Database(join(dir, 'checkpoints', 'job.db'), { readonly: true });
  try {
    return db.prepare('SELECT op, from_id, to_id FROM state ORDER BY op, from_id').all() as { op: number; from_id: number; to_id: number | null }[];
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

  it('opens a store whose every state version was indexed (before): only closed versions are now, the data the same', () => {
    const file = join(dir, 'checkpoints', 'job.db');
    const first = CheckpointStore.open(dir, 'job');
    first.write(1, data(5, [{ a: 1 }]), 'COMPLETED');
    first.write(2, data(6, [{ a: 2 }]), 'COMPLETED');
    first.close();
    const db = new Database(file);
    db.exec('DROP INDEX state_closed; CREATE INDEX state_to ON state (to_id);');
    db.close();
    const s = CheckpointStore.open(dir, 'job');
    expect(s.load(1)).toEqual(data(5, [{ a: 1 }]));
    expect(s.load(2)).toEqual(data(6, [{ a: 2 }]));
    s.write(3, data(7, [{ a: 3 }]), 'PENDING');
    s.abort(3);
    expect(s.latest().completed?.id).toBe(2);
    s.write(4, data(8, [{ a: 4 }]), 'COMPLETED');
    expect(s.load(4)).toEqual(data(8, [{ a: 4 }]));
    s.close();
    const check = new Database(file, { readonly: true });
    const indexes = (check.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'state' AND sql IS NOT NULL").all() as { name: string; sql: string }[]).map((r) => r.name);
    // The versions of checkpoint 1 are read by no kept checkpoint any more (2 and 4 are kept): pruned.
    expect(stateRows().map((r) => [r.from_id, r.to_id])).toEqual([[2, 4], [4, null]]);
    check.close();
    expect(indexes).toEqual(['state_closed']);
  });

  it('writes only the operator entries that changed, and reads every checkpoint as it was', () => {
    const s = CheckpointStore.open(dir, 'job');
    s.write(1, data(1, [{ a: 1 }, null, { b: 1 }]), 'COMPLETED');
    s.write(2, data(2, [{ a: 1 }, null, { b: 2 }]), 'COMPLETED'); // operator 0 unchanged
    expect(stateRows()).toEqual([
      { op: 0, from_id: 1, to_id: null },
      { op: 2, from_id: 1, to_id: 2 },
      { op: 2, from_id: 2, to_id: null },
    ]);
    expect(s.load(1).operators).toEqual([{ a: 1 }, null, { b: 1 }]);
    expect(s.load(2).operators).toEqual([{ a: 1 }, null, { b: 2 }]);
    // An operator whose state went away (snapshot null) is closed, not rewritten.
    s.write(3, data(3, [{ a: 1 }, null, null]), 'COMPLETED');
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
      { op: 0, from_id: 5, to_id: 6 },
      { op: 0, from_id: 6, to_id: null },
      { op: 1, from_id: 1, to_id: null },
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
    expect(stateRows()).toEqual([{ op: 0, from_id: 1, to_id: null }]);
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
    expect(stateRows()).toEqual([{ op: 0, from_id: 1, to_id: null }]);
    s.close();
  });
});

// The checkpoint store writes a keyed operator's entries in segments of a few hundred (a step each, so a
// sliced write stays sliced): what it reads back must be every kept checkpoint as written, for operators
// with many segments per checkpoint, written in one go or in slices, completed, pending and aborted.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isKeyedEntries, keyedChanges } from '../../engine/state/keyed.ts';
import { CheckpointStore } from '../../jobs/checkpoint-store.ts';
import type { CheckpointData } from '../../jobs/checkpoint-store.ts';
import { rng } from '../support/rng.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-cp-sorted-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const cp = (offset: number, ops: unknown[]): CheckpointData => ({ offsets: { 0: offset }, endOffsets: undefined, watermarks: { 0: offset }, operators: ops });

function entriesOf(data: CheckpointData, op: number): Map<string, unknown> {
  const s = data.operators[op];
  if (!isKeyedEntries(s)) throw new Error(`operator ${op} has no keyed entries`);
  return new Map(s.entries);
}

const sorted = (m: ReadonlyMap<string, unknown>): [string, unknown][] => [...m].sort((a, b) => (a[0] < b[0] ? -1 : 1));

describe('CheckpointStore, many keyed entries', () => {
  for (const sliced of [false, true]) {
    it(`reads back every kept checkpoint as written, in any key order (${sliced ? 'sliced' : 'in one go'})`, async () => {
      const rand = rng(sliced ? 11 : 12);
      const s = CheckpointStore.open(dir, 'job');
      const write = (id: number, data: CheckpointData, status: 'PENDING' | 'COMPLETED'): Promise<number> | number => (sliced ? s.writeSliced(id, data, status, 1) : s.write(id, data, status));
      // Keys in no order (numbers as text sort apart from their values), values of several shapes.
      const model = new Map<string, unknown>();
      const full: [string, unknown][] = [];
      for (let i = 0; i < 12000; i++) {
        const k = JSON.stringify([Math.floor(rand() * 1e6), i % 3 === 0 ? null : `u${i}`]);
        const v = i % 5 === 0 ? { n: i, s: 'x'.repeat(i % 7) } : [[i], [i % 11, i * 2], 1, 1_700_000_000_000 + i];
        // An operator's keys are unique.
        if (model.has(k)) continue;
        full.push([k, v]);
        model.set(k, v);
      }
      await write(1, cp(1, [null, keyedChanges(true, full, [])]), 'COMPLETED');
      expect(s.lastWrite.rows).toBe(full.length);
      expect(full.length).toBeGreaterThan(11000);
      const at: Map<string, unknown>[] = [new Map(), new Map(model)];
      for (let id = 2; id <= 4; id++) {
        const keys = [...model.keys()];
        const upserts: [string, unknown][] = [];
        const deletes: string[] = [];
        const touched = new Set<string>();
        for (let j = 0; j < 6000; j++) {
          const k = keys[Math.floor(rand() * keys.length)]!;
          if (touched.has(k)) continue;
          touched.add(k);
          if (rand() < 0.2) deletes.push(k);
          else upserts.push([k, { id, j }]);
        }
        for (let j = 0; j < 500; j++) upserts.push([`new${id}-${Math.floor(rand() * 1e9)}-${j}`, j]);
        for (const k of deletes) model.delete(k);
        for (const [k, v] of upserts) model.set(k, v);
        await write(id, cp(id, [null, keyedChanges(false, upserts, deletes)]), 'COMPLETED');
        expect(s.lastWrite.rows).toBe(upserts.length);
        at[id] = new Map(model);
      }
      // Two completed checkpoints are kept.
      expect(s.list().map((c) => c.id)).toEqual([3, 4]);
      expect(sorted(entriesOf(s.load(3), 1))).toEqual(sorted(at[3]!));
      expect(sorted(entriesOf(s.load(4), 1))).toEqual(sorted(at[4]!));
      // A pending checkpoint changing every key, aborted: checkpoint 4 is as it was.
      const all = [...model.keys()].map((k): [string, unknown] => [k, 'p']);
      const rowsBefore = s.stateRows();
      await write(5, cp(5, [null, keyedChanges(false, all, [])]), 'PENDING');
      expect([...entriesOf(s.load(5), 1).values()].every((v) => v === 'p')).toBe(true);
      s.abort(5);
      s.close();
      const t = CheckpointStore.open(dir, 'job');
      expect(sorted(entriesOf(t.load(4), 1))).toEqual(sorted(at[4]!));
      expect(t.stateRows()).toBe(rowsBefore);
      t.close();
    });
  }
});

describe('CheckpointStore, numbers JSON would lose', () => {
  it('keeps -0, NaN and the infinities wherever they sit in an entry, alone or among plain numbers', () => {
    const s = CheckpointStore.open(dir, 'job');
    try {
      const odd = [-0, NaN, Infinity, -Infinity];
      const shapes = (v: number): unknown[] => [v, [v], [1, 2, v], [[0, [3, v]]], { a: [1, v] }, [null, 'x', { b: v }]];
      const entries: [string, unknown][] = odd.flatMap((v, i) => shapes(v).map((e, j): [string, unknown] => [`e${i}-${j}`, e]));
      entries.push(['plain', [[1], [0, -1.5, 2 ** 60], 3, null, 'z']]);
      s.write(1, cp(1, [keyedChanges(true, entries, [])]), 'COMPLETED');
      const back = entriesOf(s.load(1), 0);
      for (const [k, v] of entries) {
        // toEqual tells -0 from 0 and matches NaN with NaN.
        expect(back.get(k), k).toEqual(v);
      }
      expect(Object.is(back.get('e0-0'), -0)).toBe(true);
    } finally {
      s.close();
    }
  });
});

describe('CheckpointStore, keys of any text', () => {
  it('reads back keys with line breaks, quotes, backslashes, NUL and non-Latin text, upserted and deleted', () => {
    const s = CheckpointStore.open(dir, 'job');
    try {
      const odd = ['a\nb', '\n', 'x"y', '["k1",2]', 'back\\slash', 'nul\u0000x', '\\u0000num', 'ünï 中文 😀', ' ', 'last\r\n'];
      const plain = Array.from({ length: 20 }, (_, i) => `[${i}]`);
      const entries: [string, unknown][] = [...odd, ...plain].map((k, i) => [k, [i, k]]);
      s.write(1, cp(1, [keyedChanges(true, entries, [])]), 'COMPLETED');
      expect(entriesOf(s.load(1), 0)).toEqual(new Map(entries));
      // A segment without a key that has a line break, and one with: both kinds read back.
      s.write(2, cp(2, [keyedChanges(false, [['[3]', 'three'], ['x"y', -0]], ['[4]', 'back\\slash'])]), 'COMPLETED');
      s.write(3, cp(3, [keyedChanges(false, [['new\nline', 1]], ['a\nb', '["k1",2]'])]), 'COMPLETED');
      const want = new Map(entries);
      want.set('[3]', 'three');
      want.set('x"y', -0);
      want.delete('[4]');
      want.delete('back\\slash');
      want.set('new\nline', 1);
      want.delete('a\nb');
      want.delete('["k1",2]');
      const back = entriesOf(s.load(3), 0);
      expect(back).toEqual(want);
      expect(Object.is(back.get('x"y'), -0)).toBe(true);
    } finally {
      s.close();
    }
  });
});

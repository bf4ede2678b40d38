// A keyed view without listeners writes its upserts many keys to a statement; with a listener it finds
// then writes one key at a time. Commits mixing inserts, updates, deletes, a key's several changes and
// NULL keys (which always take the find-then-write path) must leave the same table either way, row for
// row and in the same rowid order (new rows get their rowids in the changelog's order), as the changelog's
// last change per key describes.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ViewStore } from '../../connectors/sqlite/view-store.ts';
import type { StoredChange, ViewChange, ViewColumn } from '../../connectors/sqlite/view-store.ts';
import type { StoredValue } from '../../connectors/sqlite/values.ts';
import { rng } from '../support/rng.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-multirow-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});


const COLUMNS: ViewColumn[] = [
  { name: 'a', type: 'BIGINT', sqliteType: 'INTEGER' },
  { name: 'b', type: 'STRING', sqliteType: 'TEXT' },
  { name: 'n', type: 'BIGINT', sqliteType: 'INTEGER' },
  { name: 'x', type: 'DOUBLE', sqliteType: 'REAL' },
];

/**
 * Commits of many changes (several statements' worth of upserts each) over `keys` keys, NULLs among them:
 * +I, -U/+U pairs, -D, lone -U, a key changed several times in one commit, deleted then inserted again,
 * and rows identical to what the table holds (a replay).
 */
function commits(seed: number, n: number, keys: number, keyOf: (row: readonly StoredValue[]) => string, nulls: boolean): StoredChange[][] {
  const rand = rng(seed);
  const live = new Map<string, StoredValue[]>();
  const out: StoredChange[][] = [];
  for (let c = 0; c < n; c++) {
    const batch: StoredChange[] = [];
    for (let i = 0; i < 700; i++) {
      const a = nulls && rand() < 0.05 ? null : Math.floor(rand() * keys);
      const b = nulls && rand() < 0.05 ? null : `s${Math.floor(rand() * 2)}`;
      const row: StoredValue[] = [a, b, Math.floor(rand() * 4), rand() < 0.1 ? null : Math.floor(rand() * 8) / 4];
      const k = keyOf(row);
      const old = live.get(k);
      const r = rand();
      if (!old) {
        batch.push({ op: '+I', row });
        live.set(k, row);
      } else if (r < 0.12) {
        batch.push({ op: '-D', row: old });
        live.delete(k);
      } else if (r < 0.16) {
        batch.push({ op: '-U', row: old });
        live.delete(k);
      } else if (r < 0.22) {
        // A replay: the row the key already has.
        batch.push({ op: '+U', row: old });
      } else {
        batch.push({ op: '-U', row: old }, { op: '+U', row });
        live.set(k, row);
      }
    }
    out.push(batch);
  }
  return out;
}

function model(cs: readonly StoredChange[][], keyOf: (row: readonly StoredValue[]) => string): string[] {
  const m = new Map<string, readonly StoredValue[] | null>();
  for (const batch of cs) for (const c of batch) m.set(keyOf(c.row), c.op === '+I' || c.op === '+U' ? c.row : null);
  return [...m.values()].filter((r): r is readonly StoredValue[] => r !== null).map((r) => JSON.stringify(r)).sort();
}

/** The whole table with rowids, in rowid order. */
function dump(path: string, cols: readonly ViewColumn[]): unknown[][] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(`SELECT rowid, ${cols.map((c) => `"${c.name}"`).join(', ')} FROM v ORDER BY rowid`).raw(true).all() as unknown[][];
  } finally {
    db.close();
  }
}

function apply(path: string, key: readonly string[], cs: readonly StoredChange[][], listening: boolean, cols: readonly ViewColumn[] = COLUMNS): ViewChange[] {
  const store = ViewStore.open(path);
  const seen: ViewChange[] = [];
  try {
    store.create({ name: 'v', jobId: 'j', key: [...key], columns: [...cols] });
    const sub = listening ? store.subscribe('v', (c) => seen.push(...c)) : undefined;
    cs.forEach((batch, i) => store.commitChanges('v', 'j', i + 1, batch, undefined));
    expect(store.meta('v')!.checkpointId).toBe(cs.length);
    sub?.unsubscribe();
  } finally {
    store.close();
  }
  return seen;
}

describe('keyed view: multi-row upserts', () => {
  const KEYS: Record<string, readonly string[]> = { 'key (a)': ['a'], 'key (a, b)': ['a', 'b'] };
  for (const [name, key] of Object.entries(KEYS))
    for (const nulls of [false, true])
      for (const seed of [1, 2, 3]) {
        it(`leaves the table, rowids included, that one statement per key leaves (${name}, NULLs: ${nulls}, seed ${seed})`, () => {
          const keyOf = (row: readonly StoredValue[]): string => JSON.stringify(key.map((k) => row[COLUMNS.findIndex((c) => c.name === k)]));
          const cs = commits(seed, 5, key.length === 1 ? 400 : 200, keyOf, nulls);
          const direct = join(dir, 'direct.db');
          const found = join(dir, 'found.db');
          expect(apply(direct, key, cs, false)).toEqual([]);
          const events = apply(found, key, cs, true);
          expect(events.length).toBeGreaterThan(0);
          const a = dump(direct, COLUMNS);
          expect(a).toEqual(dump(found, COLUMNS));
          expect(a.map((r) => JSON.stringify(r.slice(1))).sort()).toEqual(model(cs, keyOf));
          expect(a.length).toBeGreaterThan(200);
        });
      }

  it('keeps the first-change order of new keys across statements, also around deletes and NULL keys', () => {
    const path = join(dir, 'order.db');
    const store = ViewStore.open(path);
    try {
      store.create({ name: 'v', jobId: 'j', key: ['a'], columns: COLUMNS });
      const rows = (from: number, to: number): StoredChange[] => Array.from({ length: to - from }, (_, i) => ({ op: '+I', row: [from + i, 's', 1, 0.5] }));
      store.commitChanges('v', 'j', 1, rows(0, 300), undefined);
      // New rows, then a delete of the row with the highest rowid before them: if the delete ran before the
      // new rows were written, they would take rowids from the deleted one on.
      const batch: StoredChange[] = [...rows(300, 350), { op: '-D', row: [299, 's', 1, 0.5] }, { op: '+I', row: [null, 'n', 1, 0] }, ...rows(1000, 1200)];
      store.commitChanges('v', 'j', 2, batch, undefined);
      const got = dump(path, COLUMNS);
      expect(got.map((r) => r[1])).toEqual([...Array.from({ length: 299 }, (_, i) => i), ...Array.from({ length: 50 }, (_, i) => 300 + i), null, ...Array.from({ length: 200 }, (_, i) => 1000 + i)]);
      expect(got.slice(-251).map((r) => r[0])).toEqual(Array.from({ length: 251 }, (_, i) => 301 + i));
    } finally {
      store.close();
    }
  });

  it('a key of -0 and 0 (one group, as JSON says) and a number key next to a string key stay apart as before', () => {
    const path = join(dir, 'zero.db');
    const store = ViewStore.open(path);
    try {
      store.create({ name: 'v', jobId: 'j', key: ['b'], columns: COLUMNS });
      store.commitChanges(
        'v',
        'j',
        1,
        [
          { op: '+I', row: [1, '1', 1, 0] },
          { op: '+I', row: [2, '2', 1, 0] },
          { op: '-D', row: [2, '2', 1, 0] },
          { op: '+I', row: [3, '2', 3, 0] },
        ],
        undefined,
      );
      store.create({ name: 'w', jobId: 'j', key: ['x'], columns: COLUMNS });
      store.commitChanges(
        'w',
        'j',
        1,
        [
          { op: '+I', row: [1, 'a', 1, -0] },
          { op: '+I', row: [2, 'b', 2, 0] },
        ],
        undefined,
      );
    } finally {
      store.close();
    }
    expect(dump(path, COLUMNS)).toEqual([
      [1, 1, '1', 1, 0],
      [2, 3, '2', 3, 0],
    ]);
    const db = new Database(path, { readonly: true });
    try {
      expect(db.prepare('SELECT a, b, n, x FROM w').raw(true).all()).toEqual([[2, 'b', 2, 0]]);
    } finally {
      db.close();
    }
  });

  it('a view too wide for several rows per statement upserts one row per statement', () => {
    const wide: ViewColumn[] = [{ name: 'a', type: 'BIGINT', sqliteType: 'INTEGER' }, ...Array.from({ length: 300 }, (_, i) => ({ name: `c${i}`, type: 'BIGINT', sqliteType: 'INTEGER' as const }))];
    const row = (a: number, v: number): StoredValue[] => [a, ...Array.from({ length: 300 }, () => v)];
    const cs: StoredChange[][] = [
      Array.from({ length: 20 }, (_, i) => ({ op: '+I' as const, row: row(i, 1) })),
      [...Array.from({ length: 10 }, (_, i) => ({ op: '+U' as const, row: row(i, 2) })), { op: '-D', row: row(15, 1) }],
    ];
    const a = join(dir, 'wide-direct.db');
    const b = join(dir, 'wide-found.db');
    apply(a, ['a'], cs, false, wide);
    apply(b, ['a'], cs, true, wide);
    const got = dump(a, wide);
    expect(got).toEqual(dump(b, wide));
    expect(got.map((r) => [r[1], r[2]])).toEqual([...Array.from({ length: 10 }, (_, i) => [i, 2]), ...[10, 11, 12, 13, 14, 16, 17, 18, 19].map((i) => [i, 1])]);
  });

  it('refuses a row whose length is not the column count, and the commit leaves nothing', () => {
    const path = join(dir, 'short.db');
    const store = ViewStore.open(path);
    try {
      store.create({ name: 'v', jobId: 'j', key: ['a'], columns: COLUMNS });
      store.commitChanges('v', 'j', 1, [{ op: '+I', row: [1, 's', 1, 0] }], undefined);
      const bad: StoredChange[] = [
        { op: '+I', row: [2, 's', 1, 0, 9] },
        { op: '+I', row: [3, 's', 1] },
      ];
      expect(() => store.commitChanges('v', 'j', 2, bad, undefined)).toThrow(/5 values for 4 columns/);
      expect(store.meta('v')!.checkpointId).toBe(1);
    } finally {
      store.close();
    }
    expect(dump(path, COLUMNS)).toEqual([[1, 1, 's', 1, 0]]);
  });
});

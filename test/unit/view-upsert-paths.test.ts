// A keyed view's two ways of applying a checkpoint: find-then-write (when a change stream listens and needs
// the rows before) and one upsert/delete statement per key (nobody listens). Both must leave the table that
// the changelog's last change per key describes, NULL keys included; so must the view sink, which skips an
// update's -U when its +U follows.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ViewSink } from '../../connectors/sqlite/sink.ts';
import { ViewStore } from '../../connectors/sqlite/view-store.ts';
import type { Change } from '../../engine/ops/changelog.ts';
import { T } from '../../engine/plan/types.ts';
import { rng } from '../support/rng.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-upsert-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});


const COLUMNS = [
  { name: 'a', type: T.bigint },
  { name: 'b', type: T.string },
  { name: 'n', type: T.bigint },
];

/**
 * Random checkpoints of changes for keys (a, b) with NULLs, shaped as an updating aggregate emits them:
 * +I of new keys, -U/+U pairs, -D, and now and then a lone -U (which deletes, as a filter can leave it).
 */
function changelog(seed: number, checkpoints: number, keyOf: (row: readonly unknown[]) => string): Change[][] {
  const rand = rng(seed);
  const live = new Map<string, unknown[]>();
  const out: Change[][] = [];
  for (let c = 0; c < checkpoints; c++) {
    const batch: Change[] = [];
    for (let i = 0; i < 200; i++) {
      const a = rand() < 0.1 ? null : Math.floor(rand() * 20);
      const b = rand() < 0.1 ? null : `s${Math.floor(rand() * 3)}`;
      const row = [a, b, Math.floor(rand() * 5)];
      const k = keyOf(row);
      const old = live.get(k);
      if (!old) {
        batch.push({ op: '+I', row });
        live.set(k, row);
      } else if (rand() < 0.15) {
        batch.push({ op: '-D', row: old });
        live.delete(k);
      } else if (rand() < 0.05) {
        batch.push({ op: '-U', row: old });
        live.delete(k);
      } else {
        batch.push({ op: '-U', row: old }, { op: '+U', row });
        live.set(k, row);
      }
    }
    out.push(batch);
  }
  return out;
}

/** The table the changelog describes: the last change of each key decides. */
function model(checkpoints: readonly Change[][], keyOf: (row: readonly unknown[]) => string): string[] {
  const m = new Map<string, unknown[] | null>();
  for (const batch of checkpoints) for (const c of batch) m.set(keyOf(c.row), c.op === '+I' || c.op === '+U' ? c.row : null);
  return [...m.values()].filter((r): r is unknown[] => r !== null).map((r) => JSON.stringify(r)).sort();
}

function tableOf(path: string): string[] {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare('SELECT a, b, n FROM v').raw(true).all() as unknown[][]).map((r) => JSON.stringify(r)).sort();
  } finally {
    db.close();
  }
}

/** View v (a, b, n) keyed by `key` in a new store at `path`, a listener on it if asked, and a sink into it. */
function openView(path: string, key: readonly string[], listening: boolean): { store: ViewStore; sub: { unsubscribe(): void } | undefined; sink: ViewSink } {
  const store = ViewStore.open(path);
  store.create({
    name: 'v',
    jobId: 'j',
    key: [...key],
    columns: [
      { name: 'a', type: 'BIGINT', sqliteType: 'INTEGER' },
      { name: 'b', type: 'STRING', sqliteType: 'TEXT' },
      { name: 'n', type: 'BIGINT', sqliteType: 'INTEGER' },
    ],
  });
  const sub = listening ? store.subscribe('v', () => undefined) : undefined;
  return { store, sub, sink: new ViewSink(ViewStore.open(path), 'v', 'j', COLUMNS) };
}

describe('keyed view commits', () => {
  const KEYS: Record<string, readonly string[]> = { 'key (a, b)': ['a', 'b'], 'key (a)': ['a'] };
  for (const [name, key] of Object.entries(KEYS)) for (const seed of [1, 2, 3]) {
    it(`with and without a listener, through the view sink, give the changelog's table (${name}, seed ${seed})`, async () => {
      // A single-column key is the sink's own Map key; several columns make a text key.
      const keyOf = (row: readonly unknown[]): string => JSON.stringify(key.length === 2 ? [row[0], row[1]] : [row[0]]);
      const cps = changelog(seed, 6, keyOf);
      const want = model(cps, keyOf);
      for (const listening of [false, true]) {
        const path = join(dir, `views-${listening}.db`);
        const { store, sub, sink } = openView(path, key, listening);
        let id = 0;
        for (const batch of cps) {
          // Several writes per checkpoint, split anywhere (even between a -U and its +U).
          const cut = Math.floor(batch.length / 3);
          sink.writeChanges(batch.slice(0, cut));
          sink.writeChanges(batch.slice(cut));
          await sink.committer.prepare(++id);
          await sink.committer.commit(id);
        }
        expect(tableOf(path), `listening: ${listening}`).toEqual(want);
        sub?.unsubscribe();
        await sink.close();
        store.close();
      }
    });
  }
});

describe('keyed view fed rows (an append-only query)', () => {
  it('applies the rows in order without netting them: a key repeated within a checkpoint ends with its last row, its place that of its first', async () => {
    const rand = rng(5);
    const checkpoints: unknown[][][] = Array.from({ length: 4 }, () =>
      Array.from({ length: 300 }, () => [rand() < 0.1 ? null : Math.floor(rand() * 40), rand() < 0.1 ? null : `s${Math.floor(rand() * 2)}`, Math.floor(rand() * 1000)]),
    );
    const keyOf = (row: readonly unknown[]): string => JSON.stringify([row[0], row[1]]);
    // The last row of each key; new keys in the order they first came (the table's rowid order).
    const want = new Map<string, unknown[]>();
    for (const batch of checkpoints) for (const row of batch) want.set(keyOf(row), row);
    for (const listening of [false, true]) {
      const path = join(dir, `rows-${listening}.db`);
      const { store, sub, sink } = openView(path, ['a', 'b'], listening);
      let id = 0;
      for (const batch of checkpoints) {
        sink.write(batch.slice(0, 100));
        sink.write(batch.slice(100));
        await sink.committer.prepare(++id);
        await sink.committer.commit(id);
      }
      const db = new Database(path, { readonly: true });
      const rows = db.prepare('SELECT a, b, n FROM v ORDER BY rowid').raw(true).all() as unknown[][];
      db.close();
      expect(rows.map((r) => JSON.stringify(r)), `listening: ${listening}`).toEqual([...want.values()].map((r) => JSON.stringify(r)));
      sub?.unsubscribe();
      await sink.close();
      store.close();
    }
  });
});

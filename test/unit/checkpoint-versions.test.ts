// The checkpoint store's two versions per entry, against a model: random checkpoints of a keyed operator
// and a whole-snapshot one over a small key space (keys deleted and written again, full rewrites), some
// PENDING and then completed or aborted, the store reopened now and then. After every step the readable
// checkpoints load exactly as the model kept them, and no row outlives both of them. The store asks for
// full change sets now and then (its delta segments outweigh the base), and gets them as a job gives them.
import Database from 'better-sqlite3';
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
  dir = mkdtempSync(join(tmpdir(), 'weir-cp-versions-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Expected {
  readonly keyed: Map<string, unknown>;
  readonly whole: unknown;
}

function loaded(s: CheckpointStore, id: number): Expected {
  const data = s.load(id);
  const k = data.operators[1];
  if (!isKeyedEntries(k)) throw new Error(`checkpoint ${id}: operator 1 has no keyed entries`);
  return { keyed: new Map([...k.entries].sort((a, b) => (a[0] < b[0] ? -1 : 1))), whole: data.operators[0] };
}

const sortedMap = (m: Map<string, unknown>): Map<string, unknown> => new Map([...m].sort((a, b) => (a[0] < b[0] ? -1 : 1)));

describe('CheckpointStore versions against a model', () => {
  const compactAfter = CheckpointStore.compactAfterBytes;
  beforeEach(() => {
    CheckpointStore.compactAfterBytes = 50;
  });
  afterEach(() => {
    CheckpointStore.compactAfterBytes = compactAfter;
  });
  for (const seed of [1, 2, 3]) {
    it(`random checkpoints, completions, aborts and restarts read back as the model (seed ${seed})`, () => {
      const rand = rng(seed);
      let s = CheckpointStore.open(dir, 'job');
      // What the operator holds now, and what each checkpoint that must still be readable held.
      let state = new Map<string, unknown>();
      let whole: unknown = null;
      const at = new Map<number, Expected>();
      let completed: number | undefined;
      let pending: number | undefined;
      let first = true;
      // As the job does: a full change set when the store asks for one (set low here so that it does often).
      let compactions = 0;
      for (let step = 0; step < 60; step++) {
        const id = s.nextId();
        const wanted = s.wantsFull(1);
        if (wanted && !first) compactions++;
        const full = first || wanted || rand() < 0.1;
        first = false;
        const upserts: [string, unknown][] = [];
        const deletes: string[] = [];
        const next = full ? new Map<string, unknown>() : new Map(state);
        const touched = new Set<string>();
        const n = full ? 20 : Math.floor(rand() * 12);
        for (let j = 0; j < n; j++) {
          const key = `g${Math.floor(rand() * 30)}`;
          if (touched.has(key)) continue;
          touched.add(key);
          if (!full && next.has(key) && rand() < 0.35) {
            deletes.push(key);
            next.delete(key);
          } else {
            const v = rand() < 0.2 ? { step, s: 'x'.repeat(j) } : [step, j, rand() < 0.1 ? -0 : j / 3];
            upserts.push([key, v]);
            next.set(key, v);
          }
        }
        const nextWhole = rand() < 0.2 ? null : rand() < 0.5 ? whole : { step };
        const status = rand() < 0.3 ? 'PENDING' : 'COMPLETED';
        s.write(id, { offsets: { 0: id }, endOffsets: undefined, watermarks: { 0: id }, operators: [nextWhole, keyedChanges(full, upserts, deletes)] } satisfies CheckpointData, status);
        at.set(id, { keyed: sortedMap(next), whole: nextWhole });
        state = next;
        whole = nextWhole;
        if (status === 'PENDING') {
          pending = id;
          // Both the PENDING checkpoint and the COMPLETED one before it are readable.
          expect(loaded(s, id)).toEqual(at.get(id));
          if (completed !== undefined) expect(loaded(s, completed)).toEqual(at.get(completed));
          if (rand() < 0.5) {
            s.complete(id);
            completed = id;
          } else {
            s.abort(id);
            // The job restarts from the completed checkpoint: its operator state is that one's again.
            if (completed !== undefined) {
              state = new Map(at.get(completed)!.keyed);
              whole = at.get(completed)!.whole;
            } else {
              state = new Map();
              whole = null;
              first = true;
            }
          }
          pending = undefined;
        } else completed = id;
        if (rand() < 0.2) {
          s.close();
          s = CheckpointStore.open(dir, 'job');
        }
        expect(s.latest().completed?.id).toBe(completed);
        expect(s.latest().pending?.id).toBe(pending);
        // The readable ones: the newest completed, and the completed one before it.
        const kept = s.list().filter((c) => c.status === 'COMPLETED').map((c) => c.id);
        expect(kept.length).toBeLessThanOrEqual(2);
        if (completed !== undefined) expect(kept).toContain(completed);
        for (const c of kept) expect(loaded(s, c)).toEqual(at.get(c));
      }
      expect(compactions).toBeGreaterThan(0);
      // No row that neither kept checkpoint reads.
      const kept = s.list().filter((c) => c.status === 'COMPLETED').map((c) => c.id);
      s.close();
      const db = new Database(join(dir, 'checkpoints', 'job.db'), { readonly: true });
      const rows = db.prepare('SELECT key, cur_id, cur IS NOT NULL AS has_cur, prev_id, prev IS NOT NULL AS has_prev FROM entries').all() as { key: string; cur_id: number; has_cur: number; prev_id: number | null; has_prev: number }[];
      db.close();
      const readBy = (r: (typeof rows)[number], c: number): boolean => (r.cur_id <= c ? r.has_cur === 1 : r.prev_id !== null && r.prev_id <= c && r.has_prev === 1);
      for (const r of rows) expect(kept.some((c) => readBy(r, c)), `${r.key} (${r.cur_id}, ${r.prev_id})`).toBe(true);
    });
  }
});

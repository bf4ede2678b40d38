// GroupAggregateOp's keyed state through the real checkpoint store: a restore from entries that are not
// the store's own (a JSON copy) or from a whole snapshot of the older format makes the next checkpoint
// full, and what a restored operator emits does not depend on the order its groups were restored in.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { retractableAccumulatorFor } from '../../engine/ops/accumulators.ts';
import type { Change, ChangeDownstream } from '../../engine/ops/changelog.ts';
import { GroupAggregateOp } from '../../engine/ops/group-aggregate.ts';
import type { Row } from '../../engine/ops/operator.ts';
import type { AggCall } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';
import { checkpointState, isKeyedEntries, keyedChanges as keyedChangesOf, restoreState } from '../../engine/state/keyed.ts';
import type { KeyedChanges } from '../../engine/state/keyed.ts';
import { decodeSnapshot, encodeSnapshot } from '../../engine/state/snapshot-codec.ts';
import { CheckpointStore } from '../../jobs/checkpoint-store.ts';
import type { CheckpointData } from '../../jobs/checkpoint-store.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-cp-groupagg-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const AGGS: AggCall[] = [
  { fn: 'COUNT_STAR', arg: undefined, distinct: false, type: T.bigint, text: 'COUNT(*)' },
  { fn: 'SUM', arg: undefined, distinct: false, type: T.bigint, text: 'SUM(v)' },
  { fn: 'MAX', arg: undefined, distinct: false, type: T.bigint, text: 'MAX(v)' },
];

/** GROUP BY r[0] of rows [key, value]: COUNT(*), SUM(value), MAX(value). */
function makeOp(emitted: Change[]): GroupAggregateOp {
  const out: ChangeDownstream = { pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined };
  return new GroupAggregateOp(
    { keyExprs: [(r) => r[0]], accumulators: AGGS.map(retractableAccumulatorFor), aggArgs: AGGS.map((a) => (a.fn === 'COUNT_STAR' ? undefined : (r: readonly unknown[]) => r[1])), stateTtlMs: 0 },
    out,
    { late: 0, bad: 0, lastError: null },
    () => 0,
  );
}

const cp = (op: unknown): CheckpointData => ({ offsets: { 0: 1 }, endOffsets: undefined, watermarks: { 0: 1 }, operators: [op] });

/** The first rows: 50 keys, a few rows each (values chosen so that each key's aggregates differ). */
const FIRST: Row[] = Array.from({ length: 200 }, (_, i) => [`k${(i * 7) % 50}`, i]);

/** Expected per key from the rows alone (an independent computation): [key, count, sum, max]. */
function expected(rows: readonly Row[]): Map<unknown, Row> {
  const m = new Map<unknown, Row>();
  for (const [k, v] of rows) {
    const e = m.get(k);
    m.set(k, e ? [k, (e[1] as number) + 1, (e[2] as number) + (v as number), Math.max(e[3] as number, v as number)] : [k, 1, v, v]);
  }
  return m;
}

describe('GroupAggregateOp keyed state', () => {
  it('entries copied as JSON restore with stored=false: the next checkpoint is full and replaces what the store held', () => {
    const a = makeOp([]);
    a.push(FIRST);
    const store = CheckpointStore.open(dir, 'job');
    try {
      store.write(1, cp(checkpointState(a)), 'COMPLETED');
      // Progress copied elsewhere (e.g. the catalog) and restored from there: not what this store holds.
      const copy = JSON.parse(JSON.stringify(store.load(1))) as CheckpointData;
      const b = makeOp([]);
      restoreState(b, copy.operators[0]);
      b.push([['k1', 1000]]);
      const c = b.keyedChanges();
      expect(c.full).toBe(true);
      expect(c.upserts).toHaveLength(50);
      expect(c.deletes).toEqual([]);
      // The store ends up holding exactly b's state.
      store.write(2, cp(c), 'COMPLETED');
      const loaded = store.load(2).operators[0];
      expect(isKeyedEntries(loaded)).toBe(true);
      const fresh = makeOp([]);
      restoreState(fresh, loaded);
      expect(decodeSnapshot(encodeSnapshot(fresh.snapshot()))).toEqual(decodeSnapshot(encodeSnapshot(b.snapshot())));
      // Restored from the store's own entries (stored=true), the next checkpoint is a delta.
      fresh.push([['k2', 1]]);
      const d = fresh.keyedChanges();
      expect(d.full).toBe(false);
      expect(d.upserts.map(([k]) => k)).toEqual([JSON.stringify(['k2'])]);
    } finally {
      store.close();
    }
  });

  it('a whole snapshot of the older format restores, and the next (full) checkpoint replaces it with keyed entries', () => {
    const a = makeOp([]);
    a.push(FIRST);
    const store = CheckpointStore.open(dir, 'job');
    try {
      store.write(1, cp(a.snapshot()), 'COMPLETED');
      const b = makeOp([]);
      restoreState(b, store.load(1).operators[0]);
      const c: KeyedChanges = b.keyedChanges();
      expect(c.full).toBe(true);
      store.write(2, cp(c), 'COMPLETED');
      // Only keyed entries are live now (a whole snapshot next to them would make the load throw).
      const loaded = store.load(2).operators[0];
      expect(isKeyedEntries(loaded)).toBe(true);
      const rows = [...(loaded as { entries: ReadonlyMap<string, unknown> }).entries.values()].map((e) => {
        const [key, , rowCount] = e as [unknown[], unknown[], number];
        return [key[0], rowCount];
      });
      expect(new Map(rows as [unknown, number][])).toEqual(new Map([...expected(FIRST)].map(([k, r]) => [k, r[1]])));
    } finally {
      store.close();
    }
  });

  it('emits, after a restore from entries in any order, what a run that never stopped emits', () => {
    const want: Change[] = [];
    const ref = makeOp(want);
    ref.push(FIRST);
    const entries = new Map((ref.keyedChanges().upserts as [string, unknown][]).map(([k, v]) => [k, decodeSnapshot(encodeSnapshot(v))]));
    // Entries load in the store's key order, not in the order the groups were created: shuffle them.
    const shuffled = new Map([...entries].sort((x, y) => (x[0] < y[0] ? 1 : -1)));
    const got: Change[] = [];
    const op = makeOp(got);
    op.restoreKeyed(shuffled);
    // One batch touching old keys (in an order unlike either), new ones and a retraction to zero.
    const batch: Change[] = [
      { op: '+I', row: ['k9', 5] },
      { op: '+I', row: ['new1', 1] },
      { op: '+I', row: ['k3', 7] },
      { op: '+I', row: ['k40', 2] },
      { op: '+I', row: ['new0', 3] },
    ];
    const only = FIRST.filter((r) => r[0] === 'k11');
    for (const r of only) batch.push({ op: '-D', row: r });
    want.length = 0;
    ref.pushChanges(batch);
    op.pushChanges(batch);
    expect(got).toEqual(want);
    // The order is the batch's: first touch of each key.
    expect(got.filter((c) => c.op !== '-U').map((c) => c.row[0])).toEqual(['k9', 'new1', 'k3', 'k40', 'new0', 'k11']);
    // And the values are right (independent computation over all rows).
    const all = [...FIRST, ['k9', 5], ['new1', 1], ['k3', 7], ['k40', 2], ['new0', 3]].filter((r) => r[0] !== 'k11');
    const e = expected(all);
    for (const c of got) if (c.op === '+U' || c.op === '+I') expect(c.row).toEqual(e.get(c.row[0]));
    expect(got.at(-1)).toEqual({ op: '-D', row: expected(only).get('k11') });
  });

  it('hands over every group when asked (the store replacing its deltas), and restores from the store as it was', () => {
    const op = makeOp([]);
    const store = CheckpointStore.open(dir, 'job');
    try {
      op.push(FIRST);
      const all: Row[] = [...FIRST];
      store.write(1, cp(checkpointState(op)), 'COMPLETED');
      // A few groups change: the next change set holds them alone; asked for all, it holds every group.
      const more: Row[] = [['k1', 1000], ['k2', -5], ['fresh', 1]];
      op.push(more);
      all.push(...more);
      const asked = op.keyedChanges(true);
      expect(asked.full).toBe(true);
      expect(asked.upserts).toHaveLength(51);
      store.write(2, cp(asked), 'COMPLETED');
      // And after it, changes only again.
      op.push([['k3', 2]]);
      all.push(['k3', 2]);
      const next = op.keyedChanges();
      expect(next.full).toBe(false);
      expect(next.upserts.map((u) => u[0])).toHaveLength(1);
      store.write(3, cp(next), 'COMPLETED');
      const got: Change[] = [];
      const back = makeOp(got);
      restoreState(back, store.load(3).operators[0]);
      // Every key's next result continues from the rows so far (an independent computation).
      const probe: Row[] = [...expected(all).keys()].map((k) => [k, 0]);
      back.push(probe);
      const want = expected([...all, ...probe]);
      const plus = got.filter((c) => c.op === '+U');
      expect(plus).toHaveLength(want.size);
      for (const c of plus) expect(c.row).toEqual(want.get(c.row[0]));
    } finally {
      store.close();
    }
  });

  it('keyed entries keep Infinity, -Infinity, NaN and -0 through the store (as whole snapshots do)', () => {
    const store = CheckpointStore.open(dir, 'job');
    try {
      const odd = [Infinity, -Infinity, NaN, -0, 0, 1.5];
      const entries: [string, unknown][] = odd.map((v, i) => [`e${i}`, [[`k${i}`], [v, { nested: [v] }], 1, 0]]);
      store.write(1, cp(keyedChangesOf(true, entries, [])), 'COMPLETED');
      const loaded = store.load(1).operators[0] as { entries: ReadonlyMap<string, unknown> };
      odd.forEach((v, i) => {
        const e = loaded.entries.get(`e${i}`) as [unknown[], [number, { nested: number[] }], number, number];
        expect(Object.is(e[1][0], v), `entry ${i}: ${String(e[1][0])} is ${String(v)}`).toBe(true);
        expect(Object.is(e[1][1].nested[0], v)).toBe(true);
      });
    } finally {
      store.close();
    }
  });
});


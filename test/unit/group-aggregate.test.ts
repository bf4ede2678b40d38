// The updating aggregate (GroupAggregateOp) and its retractable accumulators, without a broker: random
// insert/retract sequences checked against a brute-force recomputation after every batch (with a snapshot
// and restore in the middle), the changelog's own consistency, batch collapsing, and the state TTL on a
// fake clock.
import { describe, expect, it } from 'vitest';
import { retractableAccumulatorFor } from '../../engine/ops/accumulators.ts';
import type { Change, ChangeDownstream } from '../../engine/ops/changelog.ts';
import { GroupAggregateOp } from '../../engine/ops/group-aggregate.ts';
import { DataError } from '../../engine/expr/errors.ts';
import type { Row } from '../../engine/ops/operator.ts';
import type { AggCall } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import { decodeSnapshot, encodeSnapshot } from '../../engine/state/snapshot-codec.ts';
import { applyChanges } from '../support/changelog.ts';
import { rng } from '../support/rng.ts';
import type { KeyedChanges } from '../../engine/state/keyed.ts';

const call = (fn: AggCall['fn'], distinct = false, type: SqlType = T.bigint): AggCall => ({ fn, arg: undefined, distinct, type, text: fn });

// Input rows are [key, value]; key and value may be NULL.
const AGGS: AggCall[] = [call('COUNT_STAR'), call('COUNT'), call('SUM'), call('MIN'), call('MAX'), call('COUNT', true), call('AVG'), call('SUM', true), call('MAX', true)];
const key = (r: readonly unknown[]) => r[0];
const val = (r: readonly unknown[]) => r[1];

function makeOp(out: ChangeDownstream, now: () => number = () => 0, stateTtlMs = 0): GroupAggregateOp {
  return new GroupAggregateOp(
    { keyExprs: [key], accumulators: AGGS.map(retractableAccumulatorFor), aggArgs: AGGS.map((a) => (a.fn === 'COUNT_STAR' ? undefined : val)), stateTtlMs },
    out,
    { late: 0, bad: 0, lastError: null },
    now,
  );
}

/** The expected result per key: every aggregate recomputed from the live rows. */
function bruteForce(live: Row[]): Map<unknown, Row> {
  const byKey = new Map<unknown, number[][]>();
  for (const r of live) {
    const k = r[0] ?? null;
    if (!byKey.has(k)) byKey.set(k, []);
    byKey.get(k)!.push([r[1] as number]);
  }
  const out = new Map<unknown, Row>();
  for (const [k, rows] of byKey) {
    const vs = rows.map((x) => x[0]).filter((v): v is number => v !== null && v !== undefined);
    const distinct = [...new Set(vs)];
    const sum = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) : null);
    out.set(k, [
      k,
      rows.length,
      vs.length,
      sum(vs),
      vs.length ? Math.min(...vs) : null,
      vs.length ? Math.max(...vs) : null,
      distinct.length,
      vs.length ? Math.trunc(sum(vs)! / vs.length) : null,
      sum(distinct),
      distinct.length ? Math.max(...distinct) : null,
    ]);
  }
  return out;
}

describe('GroupAggregateOp over insert-only batches (groups looked up ahead of their rows)', () => {
  for (const [seed, miniBatch] of [[7, false], [8, true], [9, false], [10, true]] as const) {
    it(`equals a brute-force recomputation, bad rows counted once (seed ${seed}, mini-batch ${miniBatch})`, () => {
      const rand = rng(seed);
      const emitted: Change[] = [];
      const out: ChangeDownstream = { pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined };
      const counters = { late: 0, bad: 0, lastError: null as string | null };
      // A key of 'bad' makes the key fail, a value of 'bad' its argument: either row is bad, counted once.
      const failing = (v: unknown): unknown => {
        if (v === 'bad') throw new DataError('cannot convert');
        return v;
      };
      const op = new GroupAggregateOp(
        {
          keyExprs: [(r) => failing(r[0])],
          accumulators: AGGS.map(retractableAccumulatorFor),
          aggArgs: AGGS.map((a) => (a.fn === 'COUNT_STAR' ? undefined : (r: readonly unknown[]) => failing(r[1]))),
          stateTtlMs: 0,
          ...(miniBatch ? { miniBatch: { latencyMs: 1e9, size: 50 } } : {}),
        },
        out,
        counters,
        () => 0,
      );
      const live: Row[] = [];
      const view = new Map<unknown, Row>();
      let bad = 0;
      for (let batch = 0; batch < 200; batch++) {
        const rows: Row[] = [];
        for (let i = Math.floor(rand() * 12); i > 0; i--) {
          const r = rand();
          const k = r < 0.05 ? 'bad' : r < 0.1 ? null : r < 0.13 ? undefined : Math.floor(rand() * 15);
          const v = rand() < 0.05 ? 'bad' : rand() < 0.1 ? null : Math.floor(rand() * 40) - 20;
          rows.push([k, v]);
          if (k === 'bad' || v === 'bad') bad++;
          else live.push([k ?? null, v]);
        }
        op.push(rows);
        if (!miniBatch || batch === 199) op.flush();
        applyChanges(view, emitted.splice(0));
        if (!miniBatch) expect(view).toEqual(bruteForce(live));
      }
      expect(view).toEqual(bruteForce(live));
      expect(counters.bad).toBe(bad);
    });
  }
});

describe('GroupAggregateOp over plain columns (GroupAggConfig.columns)', () => {
  for (const miniBatch of [false, true]) {
    it(`reads keys and arguments from the row as the compiled column expressions give them (mini-batch ${miniBatch})`, () => {
      const rand = rng(miniBatch ? 41 : 42);
      let keyCalls = 0;
      // What the planner compiles a column to: `r[i] ?? null`.
      const keyOf = (r: readonly unknown[]) => {
        keyCalls++;
        return r[0] ?? null;
      };
      const valOf = (r: readonly unknown[]) => r[1] ?? null;
      const make = (columns: boolean, emitted: Change[]) =>
        new GroupAggregateOp(
          {
            keyExprs: [keyOf],
            accumulators: AGGS.map(retractableAccumulatorFor),
            aggArgs: AGGS.map((a) => (a.fn === 'COUNT_STAR' ? undefined : valOf)),
            stateTtlMs: 0,
            ...(miniBatch ? { miniBatch: { latencyMs: 1e9, size: 200 } } : {}),
            ...(columns ? { columns: { keys: [0], args: AGGS.map((a) => (a.fn === 'COUNT_STAR' ? undefined : 1)) } } : {}),
          },
          { pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined },
          { late: 0, bad: 0, lastError: null },
          () => 0,
        );
      const viaColumns: Change[] = [];
      const viaExprs: Change[] = [];
      const a = make(true, viaColumns);
      const b = make(false, viaExprs);
      const live: Row[] = [];
      let callsViaColumns = 0;
      let callsViaExprs = 0;
      for (let batch = 0; batch < 100; batch++) {
        const rows: Row[] = [];
        for (let i = Math.floor(rand() * 60); i > 0; i--) {
          const r = rand();
          // Keys repeat within a batch (the fast path), with NULL and missing keys and values among them.
          const k = r < 0.05 ? null : r < 0.08 ? undefined : r < 0.2 ? `s${Math.floor(rand() * 5)}` : Math.floor(rand() * 20);
          const v = rand() < 0.1 ? null : rand() < 0.05 ? undefined : Math.floor(rand() * 40) - 20;
          rows.push([k, v]);
          live.push([k ?? null, v ?? null]);
        }
        keyCalls = 0;
        a.push(rows.map((r) => [...r]));
        callsViaColumns += keyCalls;
        keyCalls = 0;
        b.push(rows);
        callsViaExprs += keyCalls;
        if (!miniBatch || batch === 99) {
          a.flush();
          b.flush();
        }
      }
      expect(viaColumns).toEqual(viaExprs);
      const view = new Map<unknown, Row>();
      applyChanges(view, viaColumns);
      expect(view).toEqual(bruteForce(live));
      // The fast path took the rows of groups the batch had touched already without the key expression.
      expect(callsViaColumns).toBeLessThan(callsViaExprs * (miniBatch ? 0.5 : 0.9));
    });
  }
});

describe('GroupAggregateOp over many keys (the state\'s columns grow in the middle of a batch)', () => {
  for (const miniBatch of [false, true]) {
    it(`counts every row of keys it already holds after new keys grew its columns (mini-batch ${miniBatch})`, () => {
      const rand = rng(miniBatch ? 31 : 32);
      const emitted: Change[] = [];
      const op = new GroupAggregateOp(
        {
          keyExprs: [key],
          accumulators: AGGS.map(retractableAccumulatorFor),
          aggArgs: AGGS.map((a) => (a.fn === 'COUNT_STAR' ? undefined : val)),
          stateTtlMs: 0,
          ...(miniBatch ? { miniBatch: { latencyMs: 1e9, size: 1e9 } } : {}),
        },
        { pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined },
        { late: 0, bad: 0, lastError: null },
        () => 0,
      );
      const live: Row[] = [];
      let next = 0;
      for (let batch = 0; batch < 6; batch++) {
        // Each batch: ~1,500 new keys (integers and strings) among rows of keys seen before, and each
        // key twice, so that rows of held keys come after the new keys that grew the columns.
        const rows: Row[] = [];
        for (let i = 0; i < 3000; i++) {
          const k = next > 0 && rand() < 0.5 ? Math.floor(rand() * next) : next++;
          const row = [k % 5 === 0 ? `s${k}` : k, Math.floor(rand() * 40) - 20];
          rows.push(row, [row[0], Math.floor(rand() * 40)]);
        }
        op.push(rows);
        live.push(...rows);
      }
      op.flush();
      const view = new Map<unknown, Row>();
      applyChanges(view, emitted);
      expect(view.size).toBeGreaterThan(8000);
      const want = bruteForce(live);
      expect(view).toEqual(want);
      // The row counts the state keeps (what a retraction to zero and a checkpoint read) agree too.
      const counts = new Map(op.snapshot().groups.map(([k, , rows]) => [k[0], rows]));
      expect(counts).toEqual(new Map([...want].map(([k, r]) => [k, r[1]])));
    });
  }
});

describe('GroupAggregateOp under insert/retract sequences', () => {
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    it(`equals a brute-force recomputation after every batch (seed ${seed})`, () => {
      const rand = rng(seed);
      const emitted: Change[] = [];
      const out: ChangeDownstream = { pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined };
      let op = makeOp(out);
      const live: Row[] = [];
      const view = new Map<unknown, Row>();
      for (let batch = 0; batch < 300; batch++) {
        if (batch === 150) {
          // A checkpoint and restart in the middle: the restored operator continues identically.
          const saved = decodeSnapshot(encodeSnapshot(op.snapshot()));
          op = makeOp(out);
          op.restore(saved);
        }
        const changes: Change[] = [];
        const n = 1 + Math.floor(rand() * 8);
        for (let i = 0; i < n; i++) {
          if (live.length > 0 && rand() < 0.45) {
            // Retract a row that is live (a real retraction: often the current MIN/MAX of its key).
            const j = Math.floor(rand() * live.length);
            const [row] = live.splice(j, 1);
            changes.push({ op: rand() < 0.5 ? '-D' : '-U', row: row! });
          } else {
            const k = rand() < 0.1 ? null : Math.floor(rand() * 5);
            const v = rand() < 0.1 ? null : Math.floor(rand() * 40) - 20;
            const row = [k, v];
            live.push(row);
            changes.push({ op: rand() < 0.5 ? '+I' : '+U', row });
          }
        }
        emitted.length = 0;
        op.pushChanges(changes);
        applyChanges(view, emitted);
        // Collapsed: at most one change (or one -U/+U pair) per key per batch.
        const keys = emitted.filter((c) => c.op !== '-U').map((c) => c.row[0]);
        expect(new Set(keys).size).toBe(keys.length);
        expect(view).toEqual(bruteForce(live));
      }
      expect(op.openGroups()).toBe(bruteForce(live).size);
    });
  }

  for (const seed of [7, 8, 9]) {
    it(`keyed (incremental) checkpoints hold exactly the state; restoring from them continues identically (seed ${seed})`, () => {
      const rand = rng(seed);
      let now = 0;
      // A reference that never stops, and an operator checkpointed incrementally and restarted from the store.
      const want: Change[] = [];
      const ref = makeOp({ pushChanges: (cs) => want.push(...cs), watermark: () => undefined }, () => now, 1_000);
      const got: Change[] = [];
      const out: ChangeDownstream = { pushChanges: (cs) => got.push(...cs), watermark: () => undefined };
      let op = makeOp(out, () => now, 1_000);
      const store = new Map<string, unknown>();
      let deleted = 0;
      let emitted = 0;
      const checkpoint = (): void => {
        const c: KeyedChanges = op.keyedChanges();
        const up = new Set(c.upserts.map(([k]) => k));
        for (const d of c.deletes) expect(up.has(d), `key ${d} both upserted and deleted`).toBe(false);
        if (c.full) store.clear();
        for (const [k, v] of c.upserts) store.set(k, decodeSnapshot(encodeSnapshot(v)));
        for (const d of c.deletes) store.delete(d);
        deleted += c.deletes.length;
        // The store holds exactly the operator's state: its keys and their entries.
        const snap = decodeSnapshot(encodeSnapshot(op.snapshot())) as { groups: unknown[][] };
        expect(new Map(snap.groups.map((g) => [JSON.stringify(g[0]), g]))).toEqual(store);
      };
      const live: Row[] = [];
      for (let batch = 0; batch < 400; batch++) {
        now += Math.floor(rand() * 300); // keys idle for 1 s expire (TTL): deletes from the store too
        if (batch % 7 === 3) checkpoint();
        if (batch % 100 === 99) {
          checkpoint();
          op = makeOp(out, () => now, 1_000);
          op.restoreKeyed(store);
        }
        const changes: Change[] = [];
        const n = 1 + Math.floor(rand() * 6);
        for (let i = 0; i < n; i++) {
          if (live.length > 0 && rand() < 0.45) {
            const [row] = live.splice(Math.floor(rand() * live.length), 1);
            changes.push({ op: '-D', row: row! });
          } else {
            const row = [Math.floor(rand() * 8), Math.floor(rand() * 10)];
            live.push(row);
            changes.push({ op: '+I', row });
          }
        }
        want.length = 0;
        got.length = 0;
        ref.pushChanges(changes);
        op.pushChanges(changes);
        expect(got, `batch ${batch}`).toEqual(want);
        emitted += want.length;
      }
      checkpoint();
      expect(emitted).toBeGreaterThan(400);
      expect(deleted, 'keys left the store (retracted to zero or expired)').toBeGreaterThan(10);
    });
  }

  it('MAX stays right after the current max is retracted, and a key disappears with its last row', () => {
    const emitted: Change[] = [];
    const op = makeOp({ pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined });
    op.push([['a', 5], ['a', 9], ['a', 7]]);
    op.pushChanges([{ op: '-D', row: ['a', 9] }]);
    op.pushChanges([{ op: '-D', row: ['a', 5] }, { op: '-D', row: ['a', 7] }]);
    expect(emitted.map((c) => [c.op, c.row[0], c.row[1], c.row[4], c.row[5]])).toEqual([
      ['+I', 'a', 3, 5, 9],
      ['-U', 'a', 3, 5, 9],
      ['+U', 'a', 2, 5, 7],
      ['-D', 'a', 2, 5, 7],
    ]);
    expect(op.openGroups()).toBe(0);
  });

  it('emits nothing for a key whose result did not change within a batch', () => {
    const emitted: Change[] = [];
    const op = makeOp({ pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined });
    op.push([['a', 1]]);
    emitted.length = 0;
    op.pushChanges([{ op: '+I', row: ['a', 2] }, { op: '-D', row: ['a', 2] }]);
    expect(emitted).toEqual([]);
  });
});

describe('table.exec.state.ttl', () => {
  it('drops keys not updated for the TTL silently; a later row for such a key starts from zero', () => {
    let now = 0;
    const emitted: Change[] = [];
    const op = makeOp({ pushChanges: (cs) => emitted.push(...cs), watermark: () => undefined }, () => now, 60_000);
    op.push([['a', 1], ['b', 1]]);
    now = 30_000;
    op.push([['a', 2]]);
    expect(op.openGroups()).toBe(2);
    // 'b' was last updated at 0: at 60 s it has expired; 'a' (updated at 30 s) has not.
    now = 60_000;
    emitted.length = 0;
    op.push([['a', 3]]);
    expect(op.openGroups()).toBe(1);
    expect(emitted.some((c) => c.row[0] === 'b')).toBe(false); // silently: no -D
    now = 61_000;
    emitted.length = 0;
    op.push([['b', 5]]);
    // From zero: a fresh +I with a count of 1, not an update of the old count.
    expect(emitted.map((c) => [c.op, c.row[0], c.row[1]])).toEqual([['+I', 'b', 1]]);
    // A retraction for a key the TTL dropped is ignored.
    now = 200_000;
    emitted.length = 0;
    op.pushChanges([{ op: '-D', row: ['a', 1] }]);
    expect(emitted).toEqual([]);
    expect(op.openGroups()).toBe(0);
  });

  it('gives the places of dropped keys (retracted to zero, or expired) to new keys: a key space that moves on needs no more state', () => {
    let now = 0;
    const op = makeOp({ pushChanges: () => undefined, watermark: () => undefined }, () => now, 10_000);
    // Keys come and go: each batch adds 50 new keys (int and string), retracts those of two batches ago,
    // and every 40 batches the clock passes the TTL, so what was left expires.
    const live: Row[][] = [];
    for (let b = 0; b < 400; b++) {
      if (b % 40 === 39) now += 20_000;
      const rows: Row[] = Array.from({ length: 50 }, (_, i) => [i % 2 === 0 ? b * 50 + i : `s${b * 50 + i}`, i]);
      op.push(rows);
      live.push(rows);
      if (live.length > 2) op.pushChanges(live.shift()!.filter((_, i) => i % 3 !== 0).map((row) => ({ op: '-D', row })));
    }
    expect(op.openGroups()).toBeLessThan(40 * 50);
    expect(op.columnSlots()).toBeLessThanOrEqual(50 * 50);
  });

  it('keeps every key forever with the default (0)', () => {
    let now = 0;
    const op = makeOp({ pushChanges: () => undefined, watermark: () => undefined }, () => now, 0);
    op.push([['a', 1]]);
    now = 10 * 365 * 86_400_000;
    op.push([['b', 1]]);
    expect(op.openGroups()).toBe(2);
  });

  it('keyed state written without a TTL keeps no update times; a TTL set at the restart counts from then', () => {
    let now = 1_000_000;
    const out: ChangeDownstream = { pushChanges: () => undefined, watermark: () => undefined };
    const op = makeOp(out, () => now);
    op.push([['a', 1]]);
    now += 50_000;
    op.push([['b', 1]]);
    const c = op.keyedChanges();
    expect(c.upserts.map(([, v]) => (v as unknown[])[3])).toEqual([null, null]);
    // Restarted much later with a 10 s TTL: nothing expires before 10 s from the restart.
    now += 3_600_000;
    const restored = makeOp(out, () => now, 10_000);
    restored.restoreKeyed(new Map(c.upserts.map(([k, v]) => [k, decodeSnapshot(encodeSnapshot(v))])));
    now += 9_000;
    restored.push([['c', 1]]);
    expect(restored.openGroups()).toBe(3);
    now += 7_000; // 16 s after the restart; 'c' updated 7 s ago (sweeps run every TTL/2 at most)
    restored.push([['c', 1]]);
    expect(restored.openGroups()).toBe(1); // 'a' and 'b' expired 10 s after the restart
    // With a TTL the times are kept.
    const withTtl = makeOp(out, () => now, 10_000);
    withTtl.push([['d', 1]]);
    expect(withTtl.keyedChanges().upserts.map(([, v]) => (v as unknown[])[3])).toEqual([now]);
  });

  it('survives a snapshot with the last-update times', () => {
    let now = 0;
    const out: ChangeDownstream = { pushChanges: () => undefined, watermark: () => undefined };
    const op = makeOp(out, () => now, 10_000);
    op.push([['a', 1]]);
    now = 5_000;
    op.push([['b', 1]]);
    const restored = makeOp(out, () => now, 10_000);
    restored.restore(decodeSnapshot(encodeSnapshot(op.snapshot())));
    now = 12_000;
    restored.push([['c', 1]]);
    expect(restored.openGroups()).toBe(2); // 'a' expired, 'b' and 'c' kept
  });
});

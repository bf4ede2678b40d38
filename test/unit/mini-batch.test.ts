// Mini-batch aggregation (table.exec.mini-batch.*): an updating aggregate folds the changes of several
// input batches per key. Checked against the same operator without mini-batch: after every flush the keyed
// result the changelog builds is the same, the changelog is consistent (each -U carries the row the table
// holds), at most one change per key per mini-batch, and a mini-batch ends at its size, at its latency, on
// flush() and at the end of the input — never otherwise.
import { describe, expect, it } from 'vitest';
import { insertOnlyAccumulatorFor, retractableAccumulatorFor } from '../../engine/ops/accumulators.ts';
import type { Change, ChangeDownstream } from '../../engine/ops/changelog.ts';
import { GroupAggregateOp } from '../../engine/ops/group-aggregate.ts';
import { WATERMARK_END } from '../../engine/ops/operator.ts';
import type { Row } from '../../engine/ops/operator.ts';
import type { AggCall, MiniBatch } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';
import { checkMiniBatchValue, miniBatchSetting } from '../../jobs/mini-batch.ts';
import { applyChanges } from '../support/changelog.ts';
import { rng } from '../support/rng.ts';

const call = (fn: AggCall['fn']): AggCall => ({ fn, arg: undefined, distinct: false, type: T.bigint, text: fn });
const AGGS: AggCall[] = [call('COUNT_STAR'), call('SUM'), call('MIN'), call('MAX')];

function makeOp(out: ChangeDownstream, miniBatch: MiniBatch | undefined, now: () => number, retracting = true): GroupAggregateOp {
  return new GroupAggregateOp(
    {
      keyExprs: [(r) => r[0]],
      accumulators: AGGS.map(retracting ? retractableAccumulatorFor : insertOnlyAccumulatorFor),
      aggArgs: AGGS.map((a) => (a.fn === 'COUNT_STAR' ? undefined : (r: readonly unknown[]) => r[1])),
      stateTtlMs: 0,
      miniBatch,
    },
    out,
    { late: 0, bad: 0, lastError: null },
    now,
  );
}

describe('mini-batch aggregation', () => {
  for (const seed of [11, 12, 13]) {
    it(`gives the same table as emitting every batch, with one change per key per mini-batch (seed ${seed})`, () => {
      const rand = rng(seed);
      let now = 0;
      const refOut: Change[] = [];
      const ref = makeOp({ pushChanges: (cs) => refOut.push(...cs), watermark: () => undefined }, undefined, () => now);
      let got: Change[] = [];
      const op = makeOp({ pushChanges: (cs) => got.push(...cs), watermark: () => undefined }, { latencyMs: 1_000, size: 40 }, () => now);
      const want = new Map<unknown, Row>();
      const view = new Map<unknown, Row>();
      const live: Row[] = [];
      let flushes = 0;
      let batchesSinceFlush = 0;
      for (let batch = 0; batch < 500; batch++) {
        now += Math.floor(rand() * 150);
        const changes: Change[] = [];
        const n = 1 + Math.floor(rand() * 6);
        for (let i = 0; i < n; i++) {
          if (live.length > 0 && rand() < 0.4) {
            const [row] = live.splice(Math.floor(rand() * live.length), 1);
            changes.push({ op: '-D', row: row! });
          } else {
            const row = [rand() < 0.1 ? null : Math.floor(rand() * 6), Math.floor(rand() * 30) - 10];
            live.push(row);
            changes.push({ op: '+I', row });
          }
        }
        ref.pushChanges(changes);
        op.pushChanges(changes);
        if (batch % 37 === 36) op.flush(); // a checkpoint
        else op.tick();
        batchesSinceFlush++;
        if (got.length > 0) {
          // A mini-batch ended: the table equals the reference's, and no key changed twice in it.
          const keys = got.filter((c) => c.op !== '-U').map((c) => c.row[0]);
          expect(new Set(keys).size).toBe(keys.length);
          applyChanges(view, got);
          applyChanges(want, refOut);
          refOut.length = 0;
          expect(view).toEqual(want);
          got = [];
          flushes++;
          batchesSinceFlush = 0;
        }
        expect(batchesSinceFlush, 'a mini-batch never outlives its size in rows').toBeLessThanOrEqual(40);
      }
      op.watermark(WATERMARK_END);
      applyChanges(view, got);
      applyChanges(want, refOut);
      expect(view).toEqual(want);
      expect(flushes).toBeGreaterThan(20);
      expect(flushes).toBeLessThan(500);
    });
  }

  it('ends a mini-batch at its size, at its latency, on flush() and at the end of the input', () => {
    let now = 0;
    const out: Change[] = [];
    const op = makeOp({ pushChanges: (cs) => out.push(...cs), watermark: () => undefined }, { latencyMs: 500, size: 10 }, () => now, false);
    op.push([['a', 1], ['a', 2]]);
    op.push([['a', 3]]);
    expect(out).toEqual([]); // held: 3 rows, 0 ms
    expect(op.tick()).toBe(false);
    now = 499;
    expect(op.tick()).toBe(false);
    now = 500;
    expect(op.tick()).toBe(true);
    expect(out).toEqual([{ op: '+I', row: ['a', 3, 6, 1, 3] }]);
    out.length = 0;
    // Size: the batch that brings it to 10 rows ends it, with one -U/+U for 'a' over all of them.
    op.push(Array.from({ length: 6 }, () => ['a', 1]));
    expect(out).toEqual([]);
    op.push([['a', 1], ['b', 5], ['a', 1], ['a', 1]]);
    expect(out).toEqual([
      { op: '-U', row: ['a', 3, 6, 1, 3] },
      { op: '+U', row: ['a', 12, 15, 1, 3] },
      { op: '+I', row: ['b', 1, 5, 5, 5] },
    ]);
    out.length = 0;
    op.push([['b', 7]]);
    expect(op.flush()).toBe(true);
    expect(op.flush()).toBe(false);
    expect(out).toEqual([
      { op: '-U', row: ['b', 1, 5, 5, 5] },
      { op: '+U', row: ['b', 2, 12, 5, 7] },
    ]);
    out.length = 0;
    const passed: number[] = [];
    const op2 = makeOp({ pushChanges: (cs) => out.push(...cs), watermark: (w) => passed.push(w) }, { latencyMs: 500, size: 10 }, () => now, false);
    op2.push([['c', 1]]);
    op2.watermark(100); // an ordinary watermark passes and does not end it
    expect(out).toEqual([]);
    op2.watermark(WATERMARK_END);
    expect(out).toEqual([{ op: '+I', row: ['c', 1, 1, 1, 1] }]);
    expect(passed).toEqual([100, WATERMARK_END]);
  });

  it('reads its SET options as Flink does: both a latency and a size when enabled', () => {
    expect(miniBatchSetting({})).toBeUndefined();
    expect(miniBatchSetting({ 'table.exec.mini-batch.enabled': 'false', 'table.exec.mini-batch.size': '5' })).toBeUndefined();
    expect(miniBatchSetting({ 'table.exec.mini-batch.enabled': 'true', 'table.exec.mini-batch.allow-latency': '2 s', 'table.exec.mini-batch.size': '5000' })).toEqual({ latencyMs: 2000, size: 5000 });
    expect(() => miniBatchSetting({ 'table.exec.mini-batch.enabled': 'TRUE' })).toThrow(/also SET 'table.exec.mini-batch.allow-latency'.*and 'table.exec.mini-batch.size'/);
    expect(() => miniBatchSetting({ 'table.exec.mini-batch.enabled': 'true', 'table.exec.mini-batch.allow-latency': '1 s' })).toThrow(/also SET 'table.exec.mini-batch.size'/);
    expect(checkMiniBatchValue('table.exec.mini-batch.size', '0')).toMatch(/positive number of rows/);
    expect(checkMiniBatchValue('table.exec.mini-batch.size', '1.5')).toMatch(/positive number of rows/);
    expect(checkMiniBatchValue('table.exec.mini-batch.allow-latency', '0 ms')).toMatch(/positive duration/);
    expect(checkMiniBatchValue('table.exec.mini-batch.allow-latency', 'soon')).toMatch(/positive duration/);
    expect(checkMiniBatchValue('table.exec.mini-batch.enabled', 'yes')).toMatch(/true or false/);
    expect(checkMiniBatchValue('table.exec.mini-batch.enabled', 'true')).toBeUndefined();
  });
});

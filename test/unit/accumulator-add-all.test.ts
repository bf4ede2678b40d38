// addAllOf(): the generated function that adds a row to all of an aggregate's accumulators (the simple
// ones written out in it, the others called) gives what adding with each accumulator's add() gives, at
// any offset into a flat accumulator array, for every aggregate function, DISTINCT or not, NULLs and
// strings included; and the simple accumulators follow SQL (checked against a plain computation here).
// GroupColumns: the same for a GROUP BY's groups, whose accumulators lie in columns by group number; numbers
// of released groups are taken again with fresh state, and growing the columns keeps every group's values.
import { describe, expect, it } from 'vitest';
import { accumulatorFor, addAllOf, insertOnlyAccumulatorFor, retractableAccumulatorFor } from '../../engine/ops/accumulators.ts';
import type { AggCall, AggFn } from '../../engine/plan/plan.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import { GroupColumns, retractFold } from '../../engine/ops/group-layout.ts';
import { rng } from '../support/rng.ts';

const FNS: AggFn[] = ['COUNT_STAR', 'COUNT', 'SUM', 'MIN', 'MAX', 'AVG'];

function call(fn: AggFn, type: SqlType, distinct: boolean): AggCall {
  return { fn, arg: undefined, distinct, type, text: fn };
}

function value(r: () => number, strings: boolean): unknown {
  const x = r();
  if (x < 0.1) return null;
  if (x < 0.15) return undefined;
  return strings ? `s${Math.floor(r() * 30)}` : Math.floor(r() * 200 - 100);
}

describe('addAllOf', () => {
  for (const [kind, make] of Object.entries({ window: accumulatorFor, 'insert-only': insertOnlyAccumulatorFor, retractable: retractableAccumulatorFor })) {
    it(`adds as each accumulator's add() does (${kind})`, () => {
      const rand = rng(kind.length);
      for (let trial = 0; trial < 40; trial++) {
        const strings = trial % 4 === 3;
        const fns = Array.from({ length: 1 + Math.floor(rand() * 6) }, () => FNS[Math.floor(rand() * FNS.length)]!).filter((f) => !strings || f === 'MIN' || f === 'MAX' || f === 'COUNT' || f === 'COUNT_STAR');
        const accs = fns.map((fn) => make(call(fn, strings ? ({ kind: 'STRING' } as SqlType) : ({ kind: 'BIGINT' } as SqlType), fn !== 'COUNT_STAR' && rand() < 0.3)));
        const addAll = addAllOf(accs);
        const groups = 3;
        const flat: unknown[] = [];
        for (let g = 0; g < groups; g++) for (const a of accs) flat.push(a.init());
        const expected = Array.from({ length: groups }, () => accs.map((a) => a.init()));
        for (let i = 0; i < 200; i++) {
          const g = Math.floor(rand() * groups);
          const vals = accs.map(() => value(rand, strings));
          addAll(flat, vals, g * accs.length);
          expected[g] = expected[g]!.map((s, a) => accs[a]!.add(s, vals[a]));
        }
        for (let g = 0; g < groups; g++) {
          expect(accs.map((a, i) => a.result(flat[g * accs.length + i]))).toEqual(accs.map((a, i) => a.result(expected[g]![i])));
        }
      }
    });
  }

  it('the written-out accumulators follow SQL: NULLs ignored, COUNT(*) counts every row, no value gives NULL', () => {
    const rand = rng(5);
    for (let trial = 0; trial < 30; trial++) {
      const strings = trial % 3 === 0;
      const vals = Array.from({ length: Math.floor(rand() * 20) }, () => value(rand, strings));
      const present = vals.filter((v) => v !== null && v !== undefined) as (number | string)[];
      const fns: AggFn[] = strings ? ['COUNT_STAR', 'COUNT', 'MIN', 'MAX'] : ['COUNT_STAR', 'COUNT', 'SUM', 'MIN', 'MAX'];
      const accs = fns.map((fn) => accumulatorFor(call(fn, strings ? ({ kind: 'STRING' } as SqlType) : ({ kind: 'BIGINT' } as SqlType), false)));
      expect(accs.every((a) => a.addSource !== undefined)).toBe(true);
      const addAll = addAllOf(accs);
      const state = accs.map((a) => a.init());
      for (const v of vals) addAll(state, fns.map(() => v), 0);
      const sorted = [...present].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const want: Record<string, unknown> = {
        COUNT_STAR: vals.length,
        COUNT: present.length,
        SUM: present.length === 0 ? null : (present as number[]).reduce((a, b) => a + b, 0),
        MIN: sorted.length === 0 ? null : sorted[0],
        MAX: sorted.length === 0 ? null : sorted[sorted.length - 1],
      };
      expect(accs.map((a, i) => a.result(state[i]))).toEqual(fns.map((fn) => want[fn]));
    }
  });
});

describe('GroupColumns', () => {
  // The generated add/retract/merge over the columns must do what the accumulators' own functions do on an
  // array of them, at one group's number and no other.
  it('adds, retracts and merges as the accumulators do, for any list of aggregates', () => {
    const rand = rng(77);
    for (let trial = 0; trial < 40; trial++) {
      const fns = Array.from({ length: Math.floor(rand() * 6) }, () => FNS[Math.floor(rand() * FNS.length)]!);
      const make = trial % 2 === 0 ? retractableAccumulatorFor : insertOnlyAccumulatorFor;
      const accs = fns.map((fn) => make(call(fn, { kind: 'BIGINT' } as SqlType, fn !== 'COUNT_STAR' && rand() < 0.3)));
      const cols = new GroupColumns(accs);
      const before = cols.take(accs.map((a) => a.init()), 3);
      const g = cols.take(accs.map((a) => a.init()), 0);
      const after = cols.take(accs.map((a) => a.init()), 4);
      const fresh = (n: number) => cols.accsOf(n).map((s, a) => accs[a]!.result(s));
      const untouched = accs.map((a) => a.result(a.init()));
      let want = accs.map((a) => a.init());
      const added: unknown[][] = [];
      for (let i = 0; i < 60; i++) {
        const vals = accs.map(() => value(rand, false));
        const retract = make === retractableAccumulatorFor && added.length > 0 && rand() < 0.3;
        if (retract) {
          const back = added.splice(Math.floor(rand() * added.length), 1)[0]!;
          retractFold(accs)(cols.accs, g, back, 0);
          want = want.map((s, a) => accs[a]!.retract(s, back[a]));
        } else {
          cols.add(cols.accs, g, [0, ...vals], 1);
          added.push(vals);
          want = want.map((s, a) => accs[a]!.add(s, vals[a]));
        }
      }
      expect(fresh(g)).toEqual(want.map((s, a) => accs[a]!.result(s)));
      // Merging a partial group of more rows: as if they had been added.
      const more = Array.from({ length: 10 }, () => accs.map(() => value(rand, false)));
      const partial = more.reduce((p, vals) => p.map((s, a) => accs[a]!.add(s, vals[a])), accs.map((a) => a.init()));
      cols.merge(cols.accs, g, [null, null, ...partial], 2);
      for (const vals of more) want = want.map((s, a) => accs[a]!.add(s, vals[a]));
      expect(fresh(g)).toEqual(want.map((s, a) => accs[a]!.result(s)));
      // The neighbours kept their own state.
      expect([fresh(before), fresh(after), cols.rows[before], cols.rows[after]]).toEqual([untouched, untouched, 3, 4]);
    }
  });

  it('gives a released number to the next group, with fresh state, and keeps values as the columns grow', () => {
    const accs = (['COUNT_STAR', 'SUM'] as AggFn[]).map((fn) => insertOnlyAccumulatorFor(call(fn, { kind: 'BIGINT' } as SqlType, false)));
    const cols = new GroupColumns(accs);
    const ns: number[] = [];
    for (let i = 0; i < 5000; i++) {
      const n = cols.take([0, null], i);
      cols.add(cols.accs, n, [null, i], 0);
      cols.batch[n] = 7;
      cols.dirty[n] = 1;
      ns.push(n);
    }
    expect(new Set(ns).size).toBe(5000);
    for (const [i, n] of ns.entries()) expect([cols.accsOf(n), cols.rows[n], cols.batch[n], cols.dirty[n]]).toEqual([[1, i], i, 7, 1]);
    cols.release(ns[17]!);
    cols.release(ns[4000]!);
    const again = [cols.take([0, null], 0), cols.take([0, null], 0)];
    expect(again.sort((a, b) => a - b)).toEqual([ns[17], ns[4000]]);
    for (const n of again) expect([cols.accsOf(n), cols.rows[n], cols.batch[n], cols.dirty[n]]).toEqual([[0, null], 0, 0, 0]);
    expect(cols.take([0, null], 0)).toBe(5000);
    cols.clear();
    expect(cols.take([0, null], 1)).toBe(0);
    expect([cols.accsOf(0), cols.rows[0], cols.dirty[0]]).toEqual([[0, null], 1, 0]);
  });
});

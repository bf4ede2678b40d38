// addAllOf(): the generated function that adds a row to all of an aggregate's accumulators (the simple
// ones written out in it, the others called) gives what adding with each accumulator's add() gives, at
// any offset into a flat accumulator array, for every aggregate function, DISTINCT or not, NULLs and
// strings included; and the simple accumulators follow SQL (checked against a plain computation here).
// groupLayout(): the same for a GROUP BY's groups, whose accumulators are fields of the group object.
import { describe, expect, it } from 'vitest';
import { accumulatorFor, addAllOf, insertOnlyAccumulatorFor, retractableAccumulatorFor } from '../../engine/ops/accumulators.ts';
import type { AggCall, AggFn } from '../../engine/plan/plan.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import { groupLayout } from '../../engine/ops/group-layout.ts';
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

describe('groupLayout', () => {
  // A GROUP BY's groups hold their accumulators as fields; the generated create/accsOf/add/retract/merge
  // must do what the accumulators' own functions do on an array of them.
  it('creates, adds, retracts and merges as the accumulators do, for any list of aggregates', () => {
    const rand = rng(77);
    for (let trial = 0; trial < 40; trial++) {
      const fns = Array.from({ length: Math.floor(rand() * 6) }, () => FNS[Math.floor(rand() * FNS.length)]!);
      const make = trial % 2 === 0 ? retractableAccumulatorFor : insertOnlyAccumulatorFor;
      const accs = fns.map((fn) => make(call(fn, { kind: 'BIGINT' } as SqlType, fn !== 'COUNT_STAR' && rand() < 0.3)));
      const layout = groupLayout(accs);
      const g = layout.create(['k'], accs.map((a) => a.init()), 0, 5, false);
      let want = accs.map((a) => a.init());
      const added: unknown[][] = [];
      for (let i = 0; i < 60; i++) {
        const vals = accs.map(() => value(rand, false));
        const retract = make === retractableAccumulatorFor && added.length > 0 && rand() < 0.3;
        if (retract) {
          const back = added.splice(Math.floor(rand() * added.length), 1)[0]!;
          layout.retract(g, back, 0);
          want = want.map((s, a) => accs[a]!.retract(s, back[a]));
        } else {
          layout.add(g, [0, ...vals], 1);
          added.push(vals);
          want = want.map((s, a) => accs[a]!.add(s, vals[a]));
        }
      }
      expect(layout.accsOf(g).map((s, a) => accs[a]!.result(s))).toEqual(want.map((s, a) => accs[a]!.result(s)));
      // Merging a partial group of more rows: as if they had been added.
      const more = Array.from({ length: 10 }, () => accs.map(() => value(rand, false)));
      const partial = more.reduce((p, vals) => p.map((s, a) => accs[a]!.add(s, vals[a])), accs.map((a) => a.init()));
      layout.merge(g, [null, null, ...partial], 2);
      for (const vals of more) want = want.map((s, a) => accs[a]!.add(s, vals[a]));
      expect(layout.accsOf(g).map((s, a) => accs[a]!.result(s))).toEqual(want.map((s, a) => accs[a]!.result(s)));
      expect([g.key, g.rows, g.touched, g.stored, g.batch]).toEqual([['k'], 0, 5, false, 0]);
    }
  });
});

// merge() of every accumulator (the global half of a two-phase aggregation): accumulating a random
// sequence in random chunks and merging the chunks' accumulators gives the result of accumulating the
// whole sequence, for window (insert-only) and retractable accumulators, with and without DISTINCT.
import { describe, expect, it } from 'vitest';
import { accumulatorFor, insertOnlyAccumulatorFor, retractableAccumulatorFor } from '../../engine/ops/accumulators.ts';
import type { Accumulator } from '../../engine/ops/accumulators.ts';
import type { AggCall, AggFn } from '../../engine/plan/plan.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import { rng } from '../../examples/weibo/generator.ts';

const FNS: AggFn[] = ['COUNT_STAR', 'COUNT', 'SUM', 'MIN', 'MAX', 'AVG'];
const TYPES: SqlType[] = [{ kind: 'INT' }, { kind: 'BIGINT' }, { kind: 'DOUBLE' }, { kind: 'DECIMAL', precision: 10, scale: 2 }] as SqlType[];

function call(fn: AggFn, type: SqlType, distinct: boolean): AggCall {
  return { fn, arg: undefined, distinct, type, text: `${fn}${distinct ? ' DISTINCT' : ''}` };
}

function values(seed: number, n: number, type: SqlType): unknown[] {
  const r = rng(seed);
  // Quarters for DOUBLE and DECIMAL: exact in binary, so a sum does not depend on the order of additions.
  const frac = type.kind === 'DOUBLE' || type.kind === 'DECIMAL';
  return Array.from({ length: n }, () => (r() < 0.15 ? null : r() < 0.05 ? undefined : frac ? Math.floor(r() * 400 - 200) / 4 : Math.floor(r() * 60 - 20)));
}

function accumulate(acc: Accumulator, xs: readonly unknown[]): unknown {
  let a = acc.init();
  for (const x of xs) a = acc.add(a, x);
  return a;
}

/** Random cut points; some chunks empty. */
function chunks<T>(seed: number, xs: readonly T[]): T[][] {
  const r = rng(seed * 7919);
  const out: T[][] = [[]];
  for (const x of xs) {
    if (r() < 0.2) out.push([]);
    if (r() < 0.05) out.push([]);
    out[out.length - 1]!.push(x);
  }
  return out;
}

describe('accumulator merge == accumulating all rows', () => {
  const kinds = {
    window: accumulatorFor,
    retractable: retractableAccumulatorFor,
    'insert-only (updating aggregate)': insertOnlyAccumulatorFor,
  };
  for (const [kind, make] of Object.entries(kinds)) {
    for (const fn of FNS) {
      for (const distinct of fn === 'COUNT_STAR' ? [false] : [false, true]) {
        it(`${kind} ${fn}${distinct ? ' DISTINCT' : ''}`, () => {
          for (const type of TYPES) {
            for (const seed of [1, 2, 3, 4, 5]) {
              const acc = make(call(fn, type, distinct));
              const xs = values(seed, seed === 1 ? 0 : seed * 40, type);
              const whole = acc.result(accumulate(acc, xs));
              const parts = chunks(seed, xs).map((c) => accumulate(acc, c));
              // Left fold, as the job merges partials into its state; and a tree, as any order must do.
              const folded = parts.reduce((a, b) => acc.merge(a, b), acc.init());
              expect(acc.result(folded), `${type.kind} seed ${seed}`).toEqual(whole);
              const again = chunks(seed + 100, xs).map((c) => accumulate(acc, c));
              while (again.length > 1) again.push(acc.merge(again.shift(), again.shift()));
              expect(acc.result(again[0]), `${type.kind} seed ${seed}, tree`).toEqual(whole);
              // The merged state still saves, loads and takes more rows like an unmerged one.
              const more = values(seed + 50, 30, type);
              const cont = more.reduce((a, x) => acc.add(a, x), acc.load(acc.save(folded)));
              expect(acc.result(cont)).toEqual(acc.result(accumulate(acc, [...xs, ...more])));
            }
          }
        });
      }
    }
  }

  it('retractable merge keeps retractions exact (MIN after retracting the merged extremum)', () => {
    const acc = retractableAccumulatorFor(call('MIN', { kind: 'INT' } as SqlType, false));
    const a = accumulate(acc, [5, 7, 9]);
    const b = accumulate(acc, [3, 3, 8]);
    let m = acc.merge(a, b);
    expect(acc.result(m)).toBe(3);
    m = acc.retract(m, 3);
    expect(acc.result(m)).toBe(3);
    m = acc.retract(m, 3);
    expect(acc.result(m)).toBe(5);
  });
});

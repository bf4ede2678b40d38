// The int32-keyed table of an aggregate's groups (IntNumberTable: key to number), against a Map: random
// inserts, overwrites and deletes (deletes shift entries of a probe run back, also across the table's end),
// growth, clearing; and the index over it (NumberedGroupIndex).
import { describe, expect, it } from 'vitest';
import { IntNumberTable, NumberedGroupIndex, isIntKey } from '../../engine/ops/int-key-table.ts';
import { rng } from '../support/rng.ts';

describe('IntNumberTable', () => {
  it('takes exactly the int32 numbers as keys', () => {
    for (const k of [0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31), 123456]) expect(isIntKey(k)).toBe(true);
    for (const k of [2 ** 31, -(2 ** 31) - 1, 0.5, NaN, Infinity, 1e20, '1', null, undefined, 1n]) expect(isIntKey(k)).toBe(false);
  });

  for (const [name, space] of [
    ['a few keys, many collisions', 40],
    ['keys spread over int32', 0],
    ['about a thousand keys', 1500],
  ] as const) {
    it(`agrees with a Map over random operations: ${name}`, () => {
      for (let seed = 1; seed <= 4; seed++) {
        const r = rng(seed * 7919 + space);
        const key = (): number => (space === 0 ? ((r() * 2 ** 32) | 0) : Math.floor(r() * space) - Math.floor(space / 3));
        const t = new IntNumberTable();
        const model = new Map<number, number>();
        const agreeAll = (keys: Iterable<number>): void => {
          expect(t.size).toBe(model.size);
          for (const k of keys) expect(t.get(k)).toBe(model.get(k) ?? -1);
        };
        const seen: number[] = [];
        const asked = new Set<number>();
        for (let step = 0; step < 6000; step++) {
          const k = seen.length > 0 && r() < 0.5 ? seen[Math.floor(r() * seen.length)]! : key();
          seen.push(k);
          asked.add(k);
          const op = r();
          if (op < 0.55) {
            t.set(k, step);
            model.set(k, step);
          } else if (op < 0.95) {
            expect(t.delete(k)).toBe(model.delete(k));
          } else if (op < 0.951) {
            t.clear();
            model.clear();
          }
          if (step % 500 === 0) agreeAll(asked);
        }
        agreeAll(asked);
        // Emptied key by key, it still answers every key (no probe run left broken by the shifts).
        for (const k of [...model.keys()]) {
          expect(t.delete(k)).toBe(true);
          model.delete(k);
          if (model.size % 97 === 0) agreeAll(asked);
        }
        expect(t.size).toBe(0);
        agreeAll(asked);
      }
    });
  }

  it('IntNumberTable keeps numbers 0 and up for any int32 key (0 included), and grows keeping them', () => {
    const t = new IntNumberTable();
    for (const [i, k] of [0, -0, -1, 2 ** 31 - 1, -(2 ** 31)].entries()) t.set(k, i);
    expect([t.get(0), t.get(-1), t.get(2 ** 31 - 1), t.get(-(2 ** 31)), t.get(1)]).toEqual([1, 2, 3, 4, -1]);
    for (let i = 0; i < 100_000; i++) t.set(((i * 7919) % 100_000) + 10, i);
    for (let i = 0; i < 100_000; i++) expect(t.get(((i * 7919) % 100_000) + 10)).toBe(i);
    expect(t.size).toBe(100_004);
  });

  it('treats -0 and 0 as one key, as a Map does', () => {
    const t = new IntNumberTable();
    t.set(-0, 1);
    expect(t.get(0)).toBe(1);
    t.set(0, 2);
    expect([t.size, t.get(-0)]).toEqual([1, 2]);
    expect(t.delete(-0)).toBe(true);
    expect(t.get(0)).toBe(-1);
  });
});

describe('NumberedGroupIndex', () => {
  type G = { readonly n: number };
  it('finds every group and its number by Map key (int32 keys through the table, others through the Map), lists them in number order, deletes and clears', () => {
    const ix = new NumberedGroupIndex<G>();
    const keys: unknown[] = [5, 'a', -7, 1.5, null, 2 ** 31, -0, '5', 2 ** 31 - 1, -(2 ** 31), true];
    const made = keys.map((_, n) => ({ n }));
    keys.forEach((k, i) => ix.set(k, made[i]!));
    expect(ix.size).toBe(keys.length);
    keys.forEach((k, i) => {
      expect(ix.get(k), String(k)).toBe(made[i]);
      expect(ix.numberOf(k), String(k)).toBe(i);
      expect(ix.at(i)).toBe(made[i]);
    });
    // The same keys a Map would tell apart or merge: 0 is -0, '5' is not 5, 1.5 and 2^31 are not int32.
    expect([ix.numberOf(0), ix.numberOf(6), ix.numberOf('-7')]).toEqual([6, -1, -1]);
    expect(ix.get(6)).toBeUndefined();
    expect([...ix.values()]).toEqual(made);
    // Deleted, a key is gone (a table key through the table, any other through the Map); a new group that
    // takes a deleted group's number takes its place in the order.
    ix.delete(-7);
    ix.delete('a');
    ix.delete(-0);
    expect([ix.get(-7), ix.get('a'), ix.get(0), ix.numberOf(-7), ix.numberOf('a')]).toEqual([undefined, undefined, undefined, -1, -1]);
    expect(ix.size).toBe(keys.length - 3);
    const again = { n: 2 };
    ix.set('b', again);
    expect([ix.get('b'), ix.numberOf('b')]).toEqual([again, 2]);
    expect([...ix.values()].map((g) => g.n)).toEqual([0, 2, 3, 4, 5, 7, 8, 9, 10]);
    ix.clear();
    expect([ix.size, ix.get(5), ix.numberOf(5), [...ix.values()]]).toEqual([0, undefined, -1, []]);
    ix.set(5, { n: 0 });
    expect(ix.numberOf(5)).toBe(0);
  });
});

import { describe, expect, it } from 'vitest';
import { retractableAccumulatorFor } from '../../engine/ops/accumulators.ts';
import type { Change, ChangeDownstream } from '../../engine/ops/changelog.ts';
import { GroupAggregateOp } from '../../engine/ops/group-aggregate.ts';
import type { Row } from '../../engine/ops/operator.ts';
import type { AggCall } from '../../engine/plan/plan.ts';
import { T } from '../../engine/plan/types.ts';
import { SliceClock, pieces } from '../../jobs/poll-slices.ts';

/** A clock the test moves by hand. */
function manualClock(): { now: () => number; advance: (ms: number) => void } {
  let t = 1000;
  return { now: () => t, advance: (ms) => (t += ms) };
}

/**
 * True when turn() settles without an event-loop turn: an immediate queued before it has not run by then
 * (immediates run in order, so a turn()'s own setImmediate comes after it).
 */
async function settlesWithoutTurn(turn: () => Promise<void>): Promise<boolean> {
  let turned = false;
  const before = new Promise<void>((r) => setImmediate(() => ((turned = true), r())));
  await turn();
  const result = !turned;
  await before;
  return result;
}

describe('SliceClock', () => {
  it('yields to the event loop only once a slice has used its budget, then starts a new slice', async () => {
    const c = manualClock();
    const clock = new SliceClock(5, c.now);
    c.advance(4);
    expect(await settlesWithoutTurn(() => clock.turn())).toBe(true);
    c.advance(1);
    expect(await settlesWithoutTurn(() => clock.turn())).toBe(false);
    // A new slice from the turn on.
    c.advance(4.9);
    expect(await settlesWithoutTurn(() => clock.turn())).toBe(true);
  });

  it('never yields with an infinite budget (the code path before slicing)', async () => {
    const c = manualClock();
    const clock = new SliceClock(Infinity, c.now);
    c.advance(1e9);
    expect(await settlesWithoutTurn(() => clock.turn())).toBe(true);
  });
});

describe('pieces', () => {
  const rows = Array.from({ length: 10_001 }, (_, i) => [i]);

  it('keeps a batch that fits whole (the same array)', () => {
    const small = rows.slice(0, 4096);
    const out = pieces(small, 4096, 5);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(small);
  });

  it('cuts a larger batch into consecutive pieces whose concatenation is the batch, in order', () => {
    const out = pieces(rows, 4096, 5);
    expect(out.map((p) => p.length)).toEqual([4096, 4096, 1809]);
    expect(out.flat()).toEqual(rows);
  });

  it('does not cut when slicing is off', () => {
    const out = pieces(rows, 4096, Infinity);
    expect(out).toHaveLength(1);
    expect(out[0]).toBe(rows);
  });
});

describe('a batch pushed in pieces', () => {
  // The job pushes a large batch piece by piece (process()); an updating aggregate then emits more -U/+U
  // pairs, but the changelog folds to the same table as for the whole batch, and to an independent count.
  const accs: AggCall[] = [
    { fn: 'COUNT_STAR', arg: undefined, distinct: false, type: T.bigint, text: 'COUNT(*)' },
    { fn: 'SUM', arg: undefined, distinct: false, type: T.bigint, text: 'SUM(v)' },
  ];
  function aggregate(batches: Row[][]): Map<unknown, Row> {
    const table = new Map<unknown, Row>();
    const out: ChangeDownstream = {
      pushChanges: (cs: Change[]) => {
        for (const c of cs) {
          switch (c.op) {
            case '+I':
            case '+U':
              table.set(c.row[0], c.row);
              break;
            case '-U':
            case '-D':
              table.delete(c.row[0]);
              break;
            default: {
              const never: never = c;
              throw new Error(`unknown change ${String(never)}`);
            }
          }
        }
      },
      watermark: () => undefined,
    };
    const op = new GroupAggregateOp(
      { keyExprs: [(r) => r[0]], accumulators: accs.map(retractableAccumulatorFor), aggArgs: [undefined, (r) => r[1]], stateTtlMs: 0 },
      out,
      { late: 0, bad: 0, lastError: null },
      () => 0,
    );
    for (const b of batches) op.push(b);
    return table;
  }

  it('folds to the same table as the whole batch, and to an independent count', () => {
    const rows: Row[] = Array.from({ length: 10_000 }, (_, i) => [(i * 7919) % 997, i % 11]);
    const whole = aggregate([rows]);
    const sliced = aggregate(pieces(rows, 1000, 5));
    const expected = new Map<unknown, Row>();
    for (const [k, v] of rows as [number, number][]) {
      const e = expected.get(k) ?? [k, 0, 0];
      expected.set(k, [k, (e[1] as number) + 1, (e[2] as number) + v]);
    }
    expect(sliced).toEqual(whole);
    expect(sliced).toEqual(expected);
  });
});

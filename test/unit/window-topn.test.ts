import { describe, expect, it } from 'vitest';
import type { Row } from '../../engine/ops/operator.ts';
import { WindowTopNOp, compareSortValues } from '../../engine/ops/window-topn.ts';
import type { WindowTopNConfig } from '../../engine/ops/window-topn.ts';

// Rows: [window_start, window_end, group, score, id]; top 2 per (window, group) by score DESC, then id.
const cfg: WindowTopNConfig = {
  partitionKeys: [0, 1, 2],
  windowEndIndex: 1,
  orderBy: [
    { fn: (r) => r[3], desc: true },
    { fn: (r) => r[4], desc: false },
  ],
  limit: 2,
};

function collector(): { rows: Row[]; wms: number[]; out: { push(r: Row[]): void; watermark(w: number): void } } {
  const rows: Row[] = [];
  const wms: number[] = [];
  return { rows, wms, out: { push: (r) => rows.push(...r), watermark: (w) => wms.push(w) } };
}

/** Random rows of 5 windows of 60 units, 3 groups, scores with ties and NULLs; the watermark trails by 30. */
function input(seed: number): { batches: Row[][]; wms: number[] } {
  let s = seed;
  const r = (): number => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  const batches: Row[][] = [];
  const wms: number[] = [];
  let t = 0;
  let id = 0;
  for (let b = 0; b < 30; b++) {
    const batch: Row[] = [];
    for (let i = 0; i < 20; i++) {
      t += r() * 1.5;
      const start = Math.floor(t / 60) * 60;
      batch.push([start, start + 60, ['a', 'b', null][Math.floor(r() * 3)], r() < 0.1 ? null : Math.floor(r() * 5), id++]);
    }
    batches.push(batch);
    wms.push(t - 30);
  }
  return { batches, wms };
}

/** The expected output by brute force: sort each (window, group), keep the first 2, number them. */
function bruteForce(rows: Row[]): string[] {
  const groups = new Map<string, Row[]>();
  for (const row of rows) {
    const k = JSON.stringify([row[0], row[1], row[2]]);
    groups.set(k, [...(groups.get(k) ?? []), row]);
  }
  const out: string[] = [];
  for (const g of groups.values()) {
    g.sort((x, y) => compareSortValues(x[3], y[3], { desc: true }) || compareSortValues(x[4], y[4], { desc: false }));
    g.slice(0, 2).forEach((row, i) => out.push(JSON.stringify([...row, i + 1])));
  }
  return out.sort();
}

describe('WindowTopNOp', () => {
  it('orders NULL as the smallest value unless told otherwise', () => {
    expect(compareSortValues(null, 1, { desc: false })).toBe(-1);
    expect(compareSortValues(null, 1, { desc: true })).toBe(1);
    expect(compareSortValues(null, 1, { desc: true, nullsFirst: true })).toBe(-1);
    expect(compareSortValues('b', 'a', { desc: true })).toBe(-1);
  });

  it('emits the top rows of each window and group once the watermark passes the window, as a brute-force ranking', () => {
    const { batches, wms } = input(7);
    const c = collector();
    const op = new WindowTopNOp(cfg, c.out, { late: 0, bad: 0, lastError: null });
    batches.forEach((b, i) => {
      op.push(b.map((r) => [...r]));
      op.watermark(wms[i]!);
    });
    op.watermark(Number.MAX_SAFE_INTEGER);
    expect(c.rows.map((r) => JSON.stringify(r)).sort()).toEqual(bruteForce(batches.flat()));
    expect(c.wms.at(-1)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('gives the same output with a snapshot and restore (through JSON) at every batch', () => {
    const { batches, wms } = input(11);
    const straight = collector();
    const a = new WindowTopNOp(cfg, straight.out, { late: 0, bad: 0, lastError: null });
    batches.forEach((b, i) => {
      a.push(b.map((r) => [...r]));
      a.watermark(wms[i]!);
    });
    a.watermark(Number.MAX_SAFE_INTEGER);

    const restored = collector();
    let op = new WindowTopNOp(cfg, restored.out, { late: 0, bad: 0, lastError: null });
    batches.forEach((b, i) => {
      op.push(b.map((r) => [...r]));
      const state = JSON.parse(JSON.stringify(op.snapshot()));
      op = new WindowTopNOp(cfg, restored.out, { late: 0, bad: 0, lastError: null });
      op.restore(state);
      op.watermark(wms[i]!);
    });
    op.watermark(Number.MAX_SAFE_INTEGER);
    expect(restored.rows).toEqual(straight.rows);
    expect(straight.rows.length).toBeGreaterThan(20);
  });

  it('drops and counts rows of a window that has already fired', () => {
    const c = collector();
    const counters = { late: 0, bad: 0, lastError: null };
    const op = new WindowTopNOp(cfg, c.out, counters);
    op.push([[0, 60, 'a', 1, 1]]);
    op.watermark(59);
    op.push([[0, 60, 'a', 9, 2]]);
    op.watermark(200);
    expect(c.rows).toEqual([[0, 60, 'a', 1, 1, 1]]);
    expect(counters.late).toBe(1);
  });
});

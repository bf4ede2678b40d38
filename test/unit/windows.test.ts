import { describe, expect, it } from 'vitest';
import { windowStarts } from '../../engine/time/windows.ts';
import { WatermarkTracker } from '../../engine/time/watermarks.ts';
import { planGolden, formatRow } from '../support/golden.ts';
import { PipelineDriver } from '../../engine/testing/driver.ts';
import { rng } from '../../examples/weibo/generator.ts';

describe('window assignment', () => {
  it('TUMBLE puts a timestamp in exactly one window, also before 1970 and with an offset', () => {
    const out: number[] = [];
    expect(windowStarts(125_000, { kind: 'TUMBLE', size: 60_000, offset: 0 }, out)).toBe(1);
    expect(out[0]).toBe(120_000);
    windowStarts(-1, { kind: 'TUMBLE', size: 60_000, offset: 0 }, out);
    expect(out[0]).toBe(-60_000);
    windowStarts(125_000, { kind: 'TUMBLE', size: 60_000, offset: 10_000 }, out);
    expect(out[0]).toBe(70_000);
  });

  it('HOP puts a timestamp in size/slide windows, each containing it', () => {
    const out: number[] = [];
    const n = windowStarts(125_000, { kind: 'HOP', size: 60_000, slide: 20_000, offset: 0 }, out);
    expect(out.slice(0, n)).toEqual([120_000, 100_000, 80_000]);
    for (const s of out.slice(0, n)) expect(s <= 125_000 && 125_000 < s + 60_000).toBe(true);
  });
});

describe('watermarks', () => {
  it('combine as the minimum over partitions and skip idle ones', () => {
    const w = new WatermarkTracker([0, 1], 1000, 0);
    w.observe(0, 500, 0);
    expect(w.current(0)).toBeUndefined(); // partition 1 has said nothing yet
    w.observe(1, 300, 10);
    expect(w.current(10)).toBe(300);
    w.observe(1, 200, 20); // never goes back
    expect(w.current(20)).toBe(300);
    w.observe(0, 900, 1500);
    expect(w.current(1500)).toBe(900); // partition 1 idle for > 1 s
    w.finish(0);
    expect(w.current(1500)).toBeUndefined();
  });
});

describe('window aggregate against a brute-force computation', () => {
  const c = {
    file: 'random',
    setup: `CREATE TABLE s (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'kafka', 'topic' = 's');
CREATE TABLE o (ws TIMESTAMP(3), k STRING, n BIGINT, total INT, lo INT, hi INT, d BIGINT) WITH ('connector' = 'kafka', 'topic' = 'o');`,
    query: `INSERT INTO o SELECT window_start, k, COUNT(*), SUM(v), MIN(v), MAX(v), COUNT(DISTINCT v)
FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND)) GROUP BY window_start, window_end, k`,
    inputs: [],
  };

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: same rows straight and with snapshot/restore; late rows counted`, () => {
      const r = rng(seed);
      const parts = [0, 1, 2];
      const events: { p: number; k: string | null; v: number | null; ts: number }[] = [];
      const clock = [0, 0, 0];
      for (let i = 0; i < 3000; i++) {
        const p = Math.floor(r() * 3);
        clock[p] += Math.floor(r() * 200);
        const jitter = r() < 0.02 ? 8000 : Math.floor(r() * 1500); // a few rows arrive far too late
        events.push({ p, k: r() < 0.05 ? null : `k${Math.floor(r() * 5)}`, v: r() < 0.05 ? null : Math.floor(r() * 100), ts: 1_000_000 + clock[p]! - jitter });
      }
      const plan = planGolden(c);
      const run = (restoreEvery?: number) => {
        const d = new PipelineDriver(plan, parts);
        const accepted: typeof events = [];
        const lateSeen: typeof events = [];
        let wm = -Infinity;
        const partWm = [-Infinity, -Infinity, -Infinity];
        events.forEach((e, i) => {
          if (restoreEvery && i % restoreEvery === 0 && i > 0) d.restore(d.snapshot());
          // Brute force: a row is late when every window containing it (the latest ends last) has fired.
          const lastStart = e.ts - (((e.ts % 5000) + 5000) % 5000);
          if (lastStart + 10_000 - 1 <= wm) lateSeen.push(e);
          else accepted.push(e);
          d.push([[e.k, e.v, e.ts]], e.p);
          partWm[e.p] = Math.max(partWm[e.p]!, e.ts - 2000);
          wm = Math.max(wm, Math.min(...partWm));
        });
        d.end();
        return { rows: d.output.map((row) => formatRow(row, plan.schema)).sort(), late: d.counters.late, accepted, lateSeen };
      };
      const straight = run();
      expect(run(397).rows).toEqual(straight.rows);
      // Independent computation over the rows that were not late, per window that was still open for them.
      const expected = new Map<string, { n: number; vs: number[] }>();
      let wm = -Infinity;
      const partWm = [-Infinity, -Infinity, -Infinity];
      for (const e of events) {
        const last = e.ts - (((e.ts % 5000) + 5000) % 5000);
        for (const s of [last, last - 5000]) {
          if (s + 10_000 - 1 <= wm) continue;
          const key = `${s}|${e.k}`;
          const g = expected.get(key) ?? { n: 0, vs: [] };
          g.n++;
          if (e.v !== null) g.vs.push(e.v);
          expected.set(key, g);
        }
        partWm[e.p] = Math.max(partWm[e.p]!, e.ts - 2000);
        wm = Math.max(wm, Math.min(...partWm));
      }
      const want = [...expected].map(([key, g]) => {
        const [s, k] = key.split('|');
        const ts = new Date(Number(s)).toISOString().replace('T', ' ').replace('Z', '');
        const sum = g.vs.length ? g.vs.reduce((a, b) => a + b, 0) : 'NULL';
        const lo = g.vs.length ? Math.min(...g.vs) : 'NULL';
        const hi = g.vs.length ? Math.max(...g.vs) : 'NULL';
        return `${ts} | ${k === 'null' ? 'NULL' : k} | ${g.n} | ${sum} | ${lo} | ${hi} | ${new Set(g.vs).size}`;
      });
      expect(straight.rows).toEqual(want.sort());
      expect(straight.late).toBe(straight.lateSeen.length);
      expect(straight.late).toBeGreaterThan(0);
    });
  }
  for (const seed of [4, 5, 6]) {
    it(`seed ${seed}: batches of out-of-order rows (windows revisited within a push) give the brute-force rows and late count`, () => {
      const r = rng(seed);
      const plan = planGolden(c);
      const d = new PipelineDriver(plan, [0, 1, 2]);
      const clock = [0, 0, 0];
      const partWm = [-Infinity, -Infinity, -Infinity];
      let wm = -Infinity;
      const expected = new Map<string, { n: number; vs: number[] }>();
      let late = 0;
      for (let b = 0; b < 300; b++) {
        const p = Math.floor(r() * 3);
        const batch: [string | null, number | null, number][] = [];
        const n = 1 + Math.floor(r() * 40);
        for (let i = 0; i < n; i++) {
          clock[p] += Math.floor(r() * 300);
          // Rows jump back and forth across window edges within the batch; a few are far too late.
          const jitter = r() < 0.03 ? 9000 : Math.floor(r() * 6000);
          batch.push([r() < 0.05 ? null : `k${Math.floor(r() * 4)}`, r() < 0.05 ? null : Math.floor(r() * 100), 2_000_000 + clock[p]! - jitter]);
        }
        // Reference: every row of the batch is judged against the watermark before the batch.
        for (const [k, v, ts] of batch) {
          const last = ts - (((ts % 5000) + 5000) % 5000);
          let placed = false;
          for (const st of [last, last - 5000]) {
            if (st + 10_000 - 1 <= wm) continue;
            placed = true;
            const key = `${st}|${k}`;
            const g = expected.get(key) ?? { n: 0, vs: [] };
            g.n++;
            if (v !== null) g.vs.push(v);
            expected.set(key, g);
          }
          if (!placed) late++;
        }
        d.push(batch, p);
        partWm[p] = Math.max(partWm[p]!, Math.max(...batch.map((x) => x[2])) - 2000);
        wm = Math.max(wm, Math.min(...partWm));
      }
      d.end();
      const want = [...expected].map(([key, g]) => {
        const [st, k] = key.split('|');
        const ts = new Date(Number(st)).toISOString().replace('T', ' ').replace('Z', '');
        const sum = g.vs.length ? g.vs.reduce((a, b) => a + b, 0) : 'NULL';
        const lo = g.vs.length ? Math.min(...g.vs) : 'NULL';
        const hi = g.vs.length ? Math.max(...g.vs) : 'NULL';
        return `${ts} | ${k === 'null' ? 'NULL' : k} | ${g.n} | ${sum} | ${lo} | ${hi} | ${new Set(g.vs).size}`;
      });
      expect(d.output.map((row) => formatRow(row, plan.schema)).sort()).toEqual(want.sort());
      expect(d.counters.late).toBe(late);
      expect(late).toBeGreaterThan(0);
    });
  }
});

describe('window aggregate pushes of many rows', () => {
  // push() takes rows a chunk at a time, each in passes (windows and values, lookups, folds): a batch of
  // thousands of out-of-order rows must give the rows, in the same order, that pushing them one at a time
  // gives, and the brute-force groups.
  const setup = (windowed: string) => ({
    file: 'chunks',
    setup: `CREATE TABLE s (k STRING, v INT, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '1' HOUR) WITH ('connector' = 'kafka', 'topic' = 's');
CREATE TABLE o (ws TIMESTAMP(3), k STRING, n BIGINT, total INT, hi INT) WITH ('connector' = 'kafka', 'topic' = 'o');`,
    query: `INSERT INTO o SELECT window_start, k, COUNT(*), SUM(v), MAX(v) FROM TABLE(${windowed}) GROUP BY window_start, window_end, k`,
    inputs: [],
  });
  // [name, window TVF, the window starts of a timestamp, distinct keys, rows]: with 20,000 keys in one
  // window, push() looks each chunk's groups up ahead of the folds (more than MANY_GROUPS).
  const cases: [string, string, (ts: number) => number[], number, number][] = [
    ['TUMBLE', `TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '5' SECOND)`, (ts) => [ts - (ts % 5000)], 40, 7_500],
    ['HOP', `HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)`, (ts) => [0, 1, 2].map((i) => ts - (ts % 5000) - i * 5000), 40, 7_500],
    ['TUMBLE over 20,000 keys', `TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '1' MINUTE)`, (ts) => [ts - (ts % 60_000)], 20_000, 40_000],
  ];
  for (const [name, windowed, startsOf, keys, count] of cases) {
    it(`${name}: batches of 2,500 rows give the rows of one-row pushes, in order, and the brute-force groups`, () => {
      const r = rng(11);
      const rows: [string | null, number | null, number][] = [];
      for (let i = 0; i < count; i++) rows.push([r() < 0.03 ? null : `k${Math.floor(r() * keys)}`, r() < 0.05 ? null : Math.floor(r() * 100), 3_000_000 + Math.floor(r() * 60_000)]);
      const plan = planGolden(setup(windowed));
      const batched = new PipelineDriver(plan, [0]);
      for (let b = 0; b < rows.length; b += 2_500) batched.push(rows.slice(b, b + 2_500));
      batched.end();
      const single = new PipelineDriver(plan, [0]);
      for (const row of rows) single.push([row]);
      single.end();
      const out = (d: PipelineDriver) => d.output.map((row) => formatRow(row, plan.schema));
      expect(out(batched)).toEqual(out(single));
      expect(batched.counters.late).toBe(0);
      const groups = new Map<string, { n: number; vs: number[] }>();
      for (const [k, v, ts] of rows)
        for (const st of startsOf(ts)) {
          const key = `${new Date(st).toISOString().replace('T', ' ').replace('Z', '')} | ${k ?? 'NULL'}`;
          const g = groups.get(key) ?? { n: 0, vs: [] };
          g.n++;
          if (v !== null) g.vs.push(v);
          groups.set(key, g);
        }
      const want = [...groups].map(([key, g]) => `${key} | ${g.n} | ${g.vs.length ? g.vs.reduce((a, b) => a + b, 0) : 'NULL'} | ${g.vs.length ? Math.max(...g.vs) : 'NULL'}`);
      expect([...out(batched)].sort()).toEqual(want.sort());
    });
  }
});

// Every stateful operator (today: the window aggregate, with each accumulator, and the per-partition
// watermarks of the source stage) gives identical output straight and when its state goes through a
// real checkpoint (snapshot → CheckpointStore in SQLite → load → restore into fresh operators) at
// several seeded points mid-stream, as a restarted job does. The golden cases in test/sql restore at
// block boundaries in memory; this adds random points, several restores per run, every accumulator
// and value type, and the store's serialization.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PipelineDriver } from '../../engine/testing/driver.ts';
import { rng } from '../../examples/weibo/generator.ts';
import { CheckpointStore } from '../../jobs/checkpoint-store.ts';
import { formatRow, planGolden } from '../support/golden.ts';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const SETUP = `CREATE TABLE s (k STRING, n INT, b BIGINT, d DOUBLE, m DECIMAL(10, 2), flag BOOLEAN, ts TIMESTAMP(3),
  WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'kafka', 'topic' = 's');
CREATE TABLE o (a STRING, b STRING, c STRING, d STRING, e STRING, f STRING, g STRING, h STRING) WITH ('connector' = 'kafka', 'topic' = 'o');`;

/** One query per operator configuration; casts to STRING keep the sink schema uniform. */
const CASES: Record<string, string> = {
  'TUMBLE: COUNT(*), COUNT(x), SUM/MIN/MAX/AVG of INT': `INSERT INTO o SELECT CAST(window_start AS STRING), k, CAST(COUNT(*) AS STRING), CAST(COUNT(n) AS STRING),
    CAST(SUM(n) AS STRING), CAST(MIN(n) AS STRING), CAST(MAX(n) AS STRING), CAST(AVG(n) AS STRING)
    FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '3' SECOND)) GROUP BY window_start, window_end, k`,
  'TUMBLE: BIGINT, DOUBLE and DECIMAL sums and averages, MIN/MAX of strings and timestamps': `INSERT INTO o SELECT CAST(window_end AS STRING), CAST(SUM(b) AS STRING),
    CAST(SUM(d) AS STRING), CAST(AVG(d) AS STRING), CAST(SUM(m) AS STRING), CAST(AVG(m) AS STRING), MIN(k) || '/' || MAX(k), CAST(MAX(ts) AS STRING)
    FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '5' SECOND)) GROUP BY window_start, window_end`,
  'TUMBLE: COUNT(DISTINCT) of several types, expression keys, HAVING': `INSERT INTO o SELECT CAST(window_start AS STRING), CAST(n % 3 AS STRING), CAST(flag AS STRING),
    CAST(COUNT(DISTINCT k) AS STRING), CAST(COUNT(DISTINCT d) AS STRING), CAST(COUNT(DISTINCT m) AS STRING), CAST(COUNT(DISTINCT ts) AS STRING), CAST(COUNT(*) AS STRING)
    FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '2' SECOND)) GROUP BY window_start, window_end, n % 3, flag HAVING COUNT(*) > 1`,
  'HOP: overlapping windows (size 4 x slide)': `INSERT INTO o SELECT CAST(window_start AS STRING), CAST(window_end AS STRING), k, CAST(COUNT(*) AS STRING),
    CAST(SUM(n) AS STRING), CAST(COUNT(DISTINCT n) AS STRING), CAST(MIN(d) AS STRING), CAST(MAX(m) AS STRING)
    FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '4' SECOND)) GROUP BY window_start, window_end, k`,
  'a filter and projection before the window (stateless operators in the chain)': `INSERT INTO o SELECT CAST(window_start AS STRING), UPPER(k), CAST(COUNT(*) AS STRING),
    CAST(SUM(n * 2) AS STRING), '', '', '', ''
    FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '3' SECOND)) WHERE n IS NULL OR n > 10 GROUP BY window_start, window_end, UPPER(k)`,
};

type Ev = { p: number; row: unknown[] };

/** Three partitions with their own clocks; a few rows arrive far too late (dropped and counted identically in every run). */
function input(seed: number, n: number): Ev[] {
  const r = rng(seed);
  const clock = [0, 0, 0];
  const out: Ev[] = [];
  const maybe = <T>(v: T): T | null => (r() < 0.06 ? null : v);
  for (let i = 0; i < n; i++) {
    const p = Math.floor(r() * 3);
    clock[p]! += Math.floor(r() * 150);
    const late = r() < 0.01 ? 9000 : Math.floor(r() * 1500);
    const ts = 1_700_000_000_000 + clock[p]! - late;
    out.push({
      p,
      row: [
        maybe(`k${Math.floor(r() * 6)}`),
        maybe(Math.floor(r() * 200) - 20),
        maybe(Math.floor(r() * 1e12) * (r() < 0.5 ? -1 : 1)),
        maybe(r() < 0.02 ? 1e308 : Math.round(r() * 1e6) / 1e3 - 100), // two 1e308 in a window overflow to Infinity
        maybe(Math.round(r() * 100_000) / 100),
        maybe(r() < 0.5),
        ts,
      ],
    });
  }
  return out;
}

function run(query: string, evs: readonly Ev[], restoreAt: ReadonlySet<number>, store?: CheckpointStore): { rows: string[]; late: number } {
  const plan = planGolden({ file: 'checkpoint', setup: SETUP, query, inputs: [] });
  const d = new PipelineDriver(plan, [0, 1, 2]);
  let id = 0;
  evs.forEach((e, i) => {
    if (restoreAt.has(i) && store) {
      const snap = d.snapshot();
      store.write(++id, { offsets: { 0: i }, endOffsets: undefined, watermarks: snap.watermarks, operators: snap.operators }, 'COMPLETED');
      const back = store.load(id);
      d.restore({ watermarks: back.watermarks, operators: back.operators });
    }
    d.push([e.row], e.p);
  });
  d.end();
  return { rows: d.output.map((r) => formatRow(r, plan.schema)), late: d.counters.late };
}

describe('stateful operators: straight vs. checkpoint + restore mid-stream', () => {
  for (const [name, query] of Object.entries(CASES)) {
    for (const seed of [1, 2]) {
      it(`${name} (seed ${seed})`, () => {
        const evs = input(seed, 2500);
        const straight = run(query, evs, new Set());
        expect(straight.rows.length).toBeGreaterThan(0);
        const r = rng(seed * 31);
        const points = new Set(Array.from({ length: 6 }, () => 1 + Math.floor(r() * (evs.length - 1))));
        const dir = mkdtempSync(join(tmpdir(), 'weir-cp-ops-'));
        dirs.push(dir);
        const store = CheckpointStore.open(dir, 'job');
        try {
          const restored = run(query, evs, points, store);
          // Same rows in the same order: emission order is part of the operator's behaviour.
          expect(restored.rows).toEqual(straight.rows);
          expect(restored.late).toBe(straight.late);
        } finally {
          store.close();
        }
      });
    }
  }

  it('the overflow case really reaches Infinity, which survives the checkpoint', () => {
    const evs = input(1, 2500);
    const rows = run(CASES['TUMBLE: BIGINT, DOUBLE and DECIMAL sums and averages, MIN/MAX of strings and timestamps']!, evs, new Set()).rows;
    expect(rows.some((row) => row.includes('Infinity'))).toBe(true);
  });
});

// LocalWindowAggregate (the local half of a two-phase window aggregation) on rows whose windows change
// back and forth within one batch (out-of-order event time), NULL times and bad rows: (a) take() gives,
// partial for partial and in the same order, what a plain row-by-row fold gives; (b) its partials merged
// into WindowAggregateOp give the output, late and bad counts of pushing the rows themselves. push() reuses
// the windows of the row before while the event time stays in them, so these inputs keep leaving and
// re-entering windows. (CUMULATE is not a window kind yet: WindowSpec has TUMBLE and HOP only.)
import { describe, expect, it } from 'vitest';
import { DataError } from '../../engine/expr/errors.ts';
import { accumulatorFor } from '../../engine/ops/accumulators.ts';
import type { Downstream, OpCounters, Row } from '../../engine/ops/operator.ts';
import { badRow } from '../../engine/ops/stateless.ts';
import { WindowAggregateOp } from '../../engine/ops/window-aggregate.ts';
import type { WindowAggConfig, WindowPartials } from '../../engine/ops/window-aggregate.ts';
import { LocalWindowAggregate } from '../../engine/parallel/local-window-aggregate.ts';
import { NEVER_INPUTS, TUNINGS as SHIPPED_AND_INPUTS, withTuning } from '../support/pre-aggregation.ts';
import type { AggCall, GroupKey, WindowSpec } from '../../engine/plan/plan.ts';
import type { SqlType } from '../../engine/plan/types.ts';
import { windowStarts } from '../../engine/time/windows.ts';
import { rng } from '../../examples/weibo/generator.ts';

// Rows: [k STRING, v BIGINT, ts TIMESTAMP(3), k2 INT]. Key k fails on 'x' (a bad row).
const TS = 2;
const BIGINT = { kind: 'BIGINT' } as SqlType;
const STRING = { kind: 'STRING' } as SqlType;
const INT = { kind: 'INT' } as SqlType;

const SPECS: Record<string, WindowSpec> = {
  'TUMBLE 10 s': { kind: 'TUMBLE', size: 10_000, offset: 0 },
  'TUMBLE 10 s, offset 3 s': { kind: 'TUMBLE', size: 10_000, offset: 3_000 },
  'HOP 5 s / 15 s': { kind: 'HOP', slide: 5_000, size: 15_000, offset: 0 },
  'HOP 2 s / 10 s, offset 1 s': { kind: 'HOP', slide: 2_000, size: 10_000, offset: 1_000 },
  // Not plannable (SQL wants a whole multiple), but windowStarts handles it: a row is in 2 or 3 windows.
  'HOP 4 s / 10 s': { kind: 'HOP', slide: 4_000, size: 10_000, offset: 0 },
};

function config(spec: WindowSpec, keyCount: number): WindowAggConfig {
  const exprKeys: GroupKey[] = [
    { kind: 'expr', expr: { kind: 'input', index: 0, name: 'k', type: STRING } },
    { kind: 'expr', expr: { kind: 'input', index: 3, name: 'k2', type: INT } },
  ].slice(0, keyCount) as GroupKey[];
  const keyFns = [
    (r: readonly unknown[]) => {
      if (r[0] === 'x') throw new DataError(`bad key at ${String(r[TS])}`);
      return r[0];
    },
    (r: readonly unknown[]) => r[3],
  ].slice(0, keyCount);
  const v = { kind: 'input', index: 1, name: 'v', type: BIGINT } as const;
  const aggs: AggCall[] = [
    { fn: 'COUNT_STAR', arg: undefined, distinct: false, type: BIGINT, text: 'COUNT(*)' },
    { fn: 'SUM', arg: v, distinct: false, type: BIGINT, text: 'SUM(v)' },
    { fn: 'MAX', arg: v, distinct: false, type: BIGINT, text: 'MAX(v)' },
    { fn: 'COUNT', arg: v, distinct: true, type: BIGINT, text: 'COUNT(DISTINCT v)' },
  ];
  return {
    spec,
    timeIndex: TS,
    keys: [{ kind: 'windowStart' }, { kind: 'windowEnd' }, ...exprKeys],
    keyExprs: keyFns,
    accumulators: aggs.map(accumulatorFor),
    aggArgs: aggs.map((a) => (a.arg ? (r: readonly unknown[]) => r[1] : undefined)),
  };
}

/**
 * Batches of rows around a clock that moves forward, each row jittered by up to 1.5 of the spec's
 * steps either way (so consecutive rows keep crossing window bounds), with runs of rows at one time,
 * NULL times, bad keys and a few rows far in the past (late once the watermark passed them).
 */
function batches(seed: number, spec: WindowSpec): Row[][] {
  const r = rng(seed);
  const step = spec.kind === 'TUMBLE' ? spec.size : spec.slide;
  let clock = 1_000_000;
  const out: Row[][] = [];
  for (let b = 0; b < 40; b++) {
    const rows: Row[] = [];
    const n = Math.floor(r() * 60);
    let ts: number | null = clock;
    for (let i = 0; i < n; i++) {
      clock += Math.floor(r() * step * 0.1);
      // Sometimes the same time as the row before (a run), else a fresh jitter.
      if (r() >= 0.3 || ts === null) {
        ts = r() < 0.03 ? null : r() < 0.03 ? clock - 20 * step : clock + Math.floor((r() - 0.5) * 3 * step);
      }
      const k = r() < 0.05 ? 'x' : r() < 0.05 ? null : String(Math.floor(r() * 4));
      rows.push([k, r() < 0.1 ? null : Math.floor(r() * 100), ts, Math.floor(r() * 2)]);
    }
    out.push(rows);
  }
  return out;
}

/** The partials as one row at a time gives them: windows, groups and last starts in order of first appearance. */
function foldRows(cfg: WindowAggConfig, rows: Row[], counters: OpCounters): WindowPartials {
  const windows = new Map<number, Map<unknown, [unknown[], unknown[]]>>();
  const lastStarts = new Map<number, number>();
  const starts: number[] = [];
  for (const row of rows) {
    const ts = row[cfg.timeIndex];
    if (typeof ts !== 'number') continue;
    let key: unknown[];
    let args: unknown[];
    try {
      key = cfg.keyExprs.map((f) => f(row));
      args = cfg.aggArgs.map((f) => (f ? f(row) : undefined));
    } catch (e) {
      badRow(counters, e);
      continue;
    }
    const mapKey = JSON.stringify(key);
    const n = windowStarts(ts, cfg.spec, starts);
    lastStarts.set(starts[0]!, (lastStarts.get(starts[0]!) ?? 0) + 1);
    for (const start of starts.slice(0, n)) {
      if (!windows.has(start)) windows.set(start, new Map());
      const groups = windows.get(start)!;
      if (!groups.has(mapKey)) groups.set(mapKey, [key, cfg.accumulators.map((a) => a.init())]);
      const accs = groups.get(mapKey)![1];
      cfg.accumulators.forEach((a, i) => (accs[i] = a.add(accs[i], args[i])));
    }
  }
  return { kind: 'partials', windows: [...windows].map(([start, groups]) => [start, [...groups.values()]]), lastStarts: [...lastStarts] };
}

/** Rows whose last window start differs from the row before's but was some earlier row's: back and forth. */
function lastStartRevisits(spec: WindowSpec, rows: Row[]): number {
  const seen = new Set<number>();
  const starts: number[] = [];
  let prev: number | undefined;
  let n = 0;
  for (const row of rows) {
    const ts = row[TS];
    if (typeof ts !== 'number') continue;
    windowStarts(ts, spec, starts);
    if (starts[0] !== prev && seen.has(starts[0]!)) n++;
    seen.add((prev = starts[0]!));
  }
  return n;
}

/** A batch cut into one to three push() calls, as a front's operators may hand it on. */
function pieces(rows: Row[], seed: number): Row[][] {
  const r = rng(seed);
  const a = Math.floor(r() * rows.length);
  const b = a + Math.floor(r() * (rows.length - a));
  return [rows.slice(0, a), rows.slice(a, b), rows.slice(b)].filter((p) => p.length > 0 || r() < 0.5);
}

const counters = (): OpCounters => ({ late: 0, bad: 0, lastError: null });


describe('LocalWindowAggregate', () => {
  for (const [what, spec] of Object.entries(SPECS)) {
    for (const keyCount of [0, 1, 2]) {
      it(`${what}, ${keyCount} key(s): take() gives the row-by-row fold's partials, in its order`, () => withTuning(NEVER_INPUTS, () => {
        const cfg = config(spec, keyCount);
        for (const seed of [1, 2, 3]) {
          const localCounters = counters();
          const local = new LocalWindowAggregate(cfg, localCounters);
          const want = counters();
          let revisits = 0;
          for (const [b, rows] of batches(seed, spec).entries()) {
            const expected = foldRows(cfg, rows, want);
            for (const p of pieces(rows, seed * 1000 + b)) local.push(p);
            expect(local.take()).toEqual(expected);
            // The whole batch in one push(), by a fresh instance.
            const fresh = new LocalWindowAggregate(cfg, counters());
            fresh.push(rows);
            expect(fresh.take()).toEqual(expected);
            revisits += lastStartRevisits(cfg.spec, rows);
          }
          expect(localCounters).toEqual(want);
          if (keyCount > 0) expect(want.bad).toBeGreaterThan(0);
          expect(revisits).toBeGreaterThan(20);
        }
      }));

      it(`${what}, ${keyCount} key(s): partials or inputs merged give the output of pushing the rows`, () => {
        const cfg = config(spec, keyCount);
        for (const [seed, tuning] of [4, 5, 6].flatMap((seed) => [NEVER_INPUTS, ...SHIPPED_AND_INPUTS].map((t) => [seed, t] as const))) withTuning(tuning, () => {
          const plainOut: Row[] = [];
          const mergedOut: Row[] = [];
          const sink = (out: Row[]): Downstream => ({ push: (rows) => out.push(...rows), watermark: () => undefined });
          const plainCounters = counters();
          const mergedCounters = counters();
          const localCounters = counters();
          const plain = new WindowAggregateOp(cfg, sink(plainOut), plainCounters);
          const merged = new WindowAggregateOp(cfg, sink(mergedOut), mergedCounters);
          const local = new LocalWindowAggregate(cfg, localCounters);
          let maxTs = Number.MIN_SAFE_INTEGER;
          for (const [b, rows] of batches(seed, spec).entries()) {
            plain.push(rows.map((r) => [...r]));
            for (const p of pieces(rows, seed * 1000 + b)) local.push(p.map((r) => [...r]));
            // Through structured clone, as between threads.
            merged.mergePartials(structuredClone(local.take()));
            for (const r of rows) if (typeof r[TS] === 'number' && r[TS] > maxTs) maxTs = r[TS];
            plain.watermark(maxTs - 2_000);
            merged.watermark(maxTs - 2_000);
          }
          plain.watermark(Number.MAX_SAFE_INTEGER);
          merged.watermark(Number.MAX_SAFE_INTEGER);
          expect(plainOut.length).toBeGreaterThan(0);
          expect(plainCounters.late).toBeGreaterThan(0);
          expect(plainCounters.bad).toBe(keyCount > 0 ? localCounters.bad : 0);
          if (keyCount > 0) expect(localCounters.bad).toBeGreaterThan(0);
          expect(mergedOut).toEqual(plainOut);
          expect(mergedCounters.late).toBe(plainCounters.late);
        });
      });
    }
  }
});

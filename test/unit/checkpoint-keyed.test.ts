// Keyed (incremental) state: a keyed operator hands the checkpoint only the entries that changed, the
// store writes only those rows (versioned by checkpoint id), an abandoned PENDING checkpoint leaves the
// previous one intact, checkpoints of the whole-snapshot format still restore, and the window
// aggregate restored from keyed checkpoints answers exactly as a straight run.
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { buildPipeline } from '../../engine/ops/build.ts';
import type { Downstream, OpCounters, Operator, Row } from '../../engine/ops/operator.ts';
import { SourceStage } from '../../engine/ops/source-stage.ts';
import { WindowAggregateOp } from '../../engine/ops/window-aggregate.ts';
import { checkpointState, isKeyedChanges, isKeyedEntries, keyedChanges, restoreState } from '../../engine/state/keyed.ts';
import { rng } from '../../examples/weibo/generator.ts';
import { CheckpointStore } from '../../jobs/checkpoint-store.ts';
import type { CheckpointData } from '../../jobs/checkpoint-store.ts';
import { formatRow, planGolden } from '../support/golden.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'weir-cp-keyed-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const cp = (offset: number, ops: unknown[]): CheckpointData => ({ offsets: { 0: offset }, endOffsets: undefined, watermarks: { 0: offset }, operators: ops });

/** Keyed entries a load returned for operator `op`, as a plain object. */
function entriesOf(data: CheckpointData, op: number): Record<string, unknown> {
  const s = data.operators[op];
  if (!isKeyedEntries(s)) throw new Error(`operator ${op} has no keyed entries`);
  return Object.fromEntries(s.entries);
}

function stateRowCount(): number {
  const db = new Database(join(dir, 'checkpoints', 'job.db'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM entries').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('CheckpointStore with keyed state', () => {
  it('writes only the keys that changed or went away, and reads every kept checkpoint as it was', () => {
    const s = CheckpointStore.open(dir, 'job');
    const all: [string, unknown][] = Array.from({ length: 1000 }, (_, i) => [`g${i}`, { n: i }]);
    s.write(1, cp(1, [null, keyedChanges(true, all, [])]), 'COMPLETED');
    expect(s.lastWrite.rows).toBe(1000);
    s.write(2, cp(2, [null, keyedChanges(false, [['g1', { n: -1 }], ['g2', { n: -2 }], ['new', { n: 5 }]], ['g3', 'g4'])]), 'COMPLETED');
    expect(s.lastWrite.rows).toBe(3); // not 1000
    s.write(3, cp(3, [null, keyedChanges(false, [], [])]), 'COMPLETED');
    expect(s.lastWrite.rows).toBe(0);
    const at2 = entriesOf(s.load(2), 1);
    expect(Object.keys(at2)).toHaveLength(1000 - 2 + 1);
    expect(at2['g1']).toEqual({ n: -1 });
    expect(at2['g3']).toBeUndefined();
    expect(at2['new']).toEqual({ n: 5 });
    expect(at2['g999']).toEqual({ n: 999 });
    expect(s.load(3).offsets).toEqual({ 0: 3 });
    expect(entriesOf(s.load(3), 1)).toEqual(at2);
    // Checkpoint 1 is dropped (two completed are kept); its 1000 entries stay as the base (two segments),
    // checkpoint 2 added one segment for its five changes, checkpoint 3 none.
    expect(s.list().map((c) => c.id)).toEqual([2, 3]);
    expect(stateRowCount()).toBe(3);
    s.close();
  });

  it('an abandoned PENDING checkpoint leaves the previous completed state intact, before and after a restart', () => {
    const s = CheckpointStore.open(dir, 'job');
    s.write(1, cp(1, [keyedChanges(true, [['a', 1], ['b', 2], ['c', 3]], [])]), 'COMPLETED');
    s.write(2, cp(2, [keyedChanges(false, [['a', 10], ['d', 4]], ['b'])]), 'PENDING');
    expect(entriesOf(s.load(1), 0)).toEqual({ a: 1, b: 2, c: 3 });
    expect(entriesOf(s.load(2), 0)).toEqual({ a: 10, c: 3, d: 4 });
    s.close();
    // The process dies; the PENDING one is never completed.
    const t = CheckpointStore.open(dir, 'job');
    expect(t.latest()).toMatchObject({ completed: { id: 1 }, pending: { id: 2 } });
    expect(entriesOf(t.load(1), 0)).toEqual({ a: 1, b: 2, c: 3 });
    t.abort(2);
    expect(entriesOf(t.load(1), 0)).toEqual({ a: 1, b: 2, c: 3 });
    expect(stateRowCount()).toBe(1); // checkpoint 1's one segment; 2's is gone
    // The restored operator is clean (its state is checkpoint 1's): the next checkpoint writes its own changes on top of 1.
    t.write(3, cp(3, [keyedChanges(false, [['c', 30]], [])]), 'COMPLETED');
    expect(t.lastWrite.rows).toBe(1);
    expect(entriesOf(t.load(3), 0)).toEqual({ a: 1, b: 2, c: 30 });
    t.close();
  });

  it('restores a checkpoint of the whole-snapshot format, and the next full write replaces it', () => {
    const s = CheckpointStore.open(dir, 'job');
    s.write(1, cp(1, [{ watermark: 5, windows: [] }]), 'COMPLETED');
    expect(s.load(1).operators[0]).toEqual({ watermark: 5, windows: [] });
    s.write(2, cp(2, [keyedChanges(true, [['wm', 5]], [])]), 'COMPLETED');
    expect(entriesOf(s.load(2), 0)).toEqual({ wm: 5 });
    expect(s.load(1).operators[0]).toEqual({ watermark: 5, windows: [] });
    s.close();
  });

  it('the whole size metric is what the store holds for the checkpoint (base and deltas); lastWrite counts what was written', () => {
    const s = CheckpointStore.open(dir, 'job');
    const big = 'x'.repeat(1000);
    const entries = Array.from({ length: 100 }, (_, i): [string, unknown] => [`k${i}`, big]);
    const total1 = s.write(1, cp(1, [keyedChanges(true, entries, [])]), 'COMPLETED');
    expect(total1).toBeGreaterThan(100 * 1000);
    const total2 = s.write(2, cp(2, [keyedChanges(false, [['k0', 'y']], ['k1'])]), 'COMPLETED');
    expect(s.lastWrite.bytes).toBeLessThan(40); // one small segment, not the 100 KB state
    expect(total2).toBe(total1 + s.lastWrite.bytes);
    s.close();
    const t = CheckpointStore.open(dir, 'job');
    expect(t.write(3, cp(2, [keyedChanges(false, [], [])]), 'COMPLETED')).toBe(total2);
    // A full write replaces base and deltas: the size is the state's again (98 large entries and a small one).
    const total4 = t.write(4, cp(4, [keyedChanges(true, [['k0', 'y'], ...entries.slice(2)], [])]), 'COMPLETED');
    expect(total4).toBeLessThan(total1 - 1000);
    expect(total4).toBeGreaterThan(98 * 1000);
    t.close();
  });
});

// ------------------------------------------------------------------------ the window aggregate, keyed

const SETUP = `CREATE TABLE s (k STRING, n INT, d DOUBLE, ts TIMESTAMP(3), WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'kafka', 'topic' = 's');
CREATE TABLE o (a STRING, b STRING, c STRING, d STRING, e STRING, f STRING) WITH ('connector' = 'kafka', 'topic' = 'o');`;

const QUERIES: Record<string, string> = {
  TUMBLE: `INSERT INTO o SELECT CAST(window_start AS STRING), k, CAST(COUNT(*) AS STRING), CAST(SUM(n) AS STRING), CAST(COUNT(DISTINCT n) AS STRING), CAST(MAX(d) AS STRING)
    FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '3' SECOND)) GROUP BY window_start, window_end, k`,
  HOP: `INSERT INTO o SELECT CAST(window_start AS STRING), CAST(window_end AS STRING), k, CAST(COUNT(*) AS STRING), CAST(AVG(d) AS STRING), CAST(MIN(n) AS STRING)
    FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '1' SECOND, INTERVAL '4' SECOND)) GROUP BY window_start, window_end, k`,
};

type Ev = { p: number; row: unknown[] };

function input(seed: number, n: number, keys: number): Ev[] {
  const r = rng(seed);
  const clock = [0, 0];
  return Array.from({ length: n }, () => {
    const p = Math.floor(r() * 2);
    clock[p]! += Math.floor(r() * 40);
    const late = r() < 0.01 ? 9000 : Math.floor(r() * 1500);
    return { p, row: [r() < 0.03 ? null : `k${Math.floor(r() * keys)}`, Math.floor(r() * 100), r() < 0.01 ? 1e308 : r() * 100, 1_700_000_000_000 + clock[p]! - late] };
  });
}

/** A pipeline as a job builds it (operators + source stage), without the network. */
function pipeline(query: string, out: Row[], counters: OpCounters): { stage: SourceStage; operators: readonly Operator[] } {
  const plan = planGolden({ file: 'keyed', setup: SETUP, query, inputs: [] });
  const sink: Downstream = { push: (rows) => out.push(...rows), watermark: () => undefined };
  const p = buildPipeline(plan, sink, counters, 'UTC');
  return { stage: new SourceStage(p.source.table, [0, 1], p.entry, counters, { timeZone: 'UTC', idleTimeoutMs: 0, now: 0 }), operators: p.operators };
}

/**
 * Runs the events; every `every` events a keyed checkpoint is written, and at the `crashAt` indexes the
 * pipeline is thrown away and rebuilt from the last checkpoint (events since it are replayed, as a
 * restarted job re-reads them). Returns the output and the rows each checkpoint wrote.
 */
function run(query: string, evs: readonly Ev[], every: number, crashAt: ReadonlySet<number>, store?: CheckpointStore): { rows: string[]; late: number; written: number[]; fullWrites: number } {
  const plan = planGolden({ file: 'keyed', setup: SETUP, query, inputs: [] });
  const out: Row[] = [];
  let counters: OpCounters = { late: 0, bad: 0, lastError: null };
  let p = pipeline(query, out, counters);
  const written: number[] = [];
  let id = 0;
  let lastCp = { index: 0, outLen: 0, late: 0 };
  const crashed = new Set<number>();
  let fullWrites = 0;
  for (let i = 0; i < evs.length; i++) {
    if (store && i > 0 && i % every === 0 && i !== lastCp.index) {
      // As the job does: every entry when the store wants its deltas replaced.
      const operators = p.operators.map((op, k) => {
        const all = store.wantsFull(k);
        const state = checkpointState(op, all);
        if (all && isKeyedChanges(state) && state.full) fullWrites++;
        return state;
      });
      store.write(++id, { offsets: { 0: i }, endOffsets: undefined, watermarks: p.stage.watermarks.snapshot(), operators }, 'COMPLETED');
      written.push(store.lastWrite.rows);
      lastCp = { index: i, outLen: out.length, late: counters.late };
    }
    if (store && crashAt.has(i) && !crashed.has(i) && id > 0) {
      crashed.add(i);
      // Output after the checkpoint is dropped (an exactly-once sink aborts it), then the input after it is read again.
      out.length = lastCp.outLen;
      counters = { late: lastCp.late, bad: 0, lastError: null };
      p = pipeline(query, out, counters);
      const back = store.load(id);
      p.stage.watermarks.restore(back.watermarks);
      back.operators.forEach((s, k) => restoreState(p.operators[k]!, s));
      i = lastCp.index - 1;
      continue;
    }
    const e = evs[i]!;
    p.stage.push(e.p, [[...e.row]], 0);
    p.stage.advance(0);
  }
  p.stage.end();
  return { rows: out.map((r) => formatRow(r, plan.schema)), late: counters.late, written, fullWrites };
}

describe('WindowAggregateOp with keyed checkpoints', () => {
  for (const [name, query] of Object.entries(QUERIES)) {
    it(`${name}: restore from keyed checkpoints equals a straight run, also across the full writes the store asks for`, () => {
      const evs = input(7, 6000, 40);
      const straight = run(query, evs, 0, new Set());
      expect(straight.rows.length).toBeGreaterThan(100);
      const store = CheckpointStore.open(dir, 'job');
      try {
        const r = rng(99);
        const crashes = new Set(Array.from({ length: 5 }, () => 300 + Math.floor(r() * (evs.length - 400))));
        // Low, so that the deltas of this small state soon outweigh its base and the store asks for full writes.
        const compactAfter = CheckpointStore.compactAfterBytes;
        CheckpointStore.compactAfterBytes = 4096;
        const restored = run(query, evs, 250, crashes, store);
        expect(restored.rows).toEqual(straight.rows);
        expect(restored.late).toBe(straight.late);
        expect(restored.fullWrites).toBeGreaterThan(0);
        CheckpointStore.compactAfterBytes = compactAfter;
      } finally {
        store.close();
      }
    });
  }

  it('keyed entries copied as JSON (e.g. into the catalog) restore, and the next checkpoint is full', () => {
    const query = QUERIES['TUMBLE']!;
    const evs = input(3, 800, 10);
    const straight = run(query, evs, 0, new Set());
    const out: Row[] = [];
    const counters: OpCounters = { late: 0, bad: 0, lastError: null };
    const a = pipeline(query, out, counters);
    for (const e of evs.slice(0, 400)) {
      a.stage.push(e.p, [[...e.row]], 0);
      a.stage.advance(0);
    }
    const store = CheckpointStore.open(dir, 'job');
    store.write(1, { offsets: {}, endOffsets: undefined, watermarks: a.stage.watermarks.snapshot(), operators: a.operators.map((op) => checkpointState(op)) }, 'COMPLETED');
    const copy = JSON.parse(JSON.stringify(store.load(1))) as CheckpointData;
    store.close();
    const b = pipeline(query, out, counters);
    b.stage.watermarks.restore(copy.watermarks);
    copy.operators.forEach((s, k) => restoreState(b.operators[k]!, s));
    const win = b.operators.find((o): o is WindowAggregateOp => o instanceof WindowAggregateOp)!;
    expect(win.keyedChanges().full).toBe(true); // the copy is not what a store holds: write everything
    for (const e of evs.slice(400)) {
      b.stage.push(e.p, [[...e.row]], 0);
      b.stage.advance(0);
    }
    b.stage.end();
    const plan = planGolden({ file: 'keyed', setup: SETUP, query, inputs: [] });
    expect(out.map((r) => formatRow(r, plan.schema))).toEqual(straight.rows);
  });

  it('a checkpoint writes the groups that received rows, not the whole state', () => {
    const cfgQuery = QUERIES['TUMBLE']!;
    const out: Row[] = [];
    const { stage, operators } = pipeline(cfgQuery, out, { late: 0, bad: 0, lastError: null });
    const win = operators.find((o): o is WindowAggregateOp => o instanceof WindowAggregateOp)!;
    const store = CheckpointStore.open(dir, 'job');
    const t0 = 1_700_000_000_000;
    // 5000 keys in one window (its end is far away): the first checkpoint writes them all, plus the watermark entry.
    stage.push(0, Array.from({ length: 5000 }, (_, i) => [`k${i}`, i, 1, t0]), 0);
    stage.push(1, [['k0', 0, 1, t0]], 0);
    stage.advance(0);
    const write = (id: number): number => {
      store.write(id, { offsets: {}, endOffsets: undefined, watermarks: stage.watermarks.snapshot(), operators: operators.map((op) => checkpointState(op)) }, 'COMPLETED');
      return store.lastWrite.rows;
    };
    expect(write(1)).toBe(5001);
    expect(win.openGroups()).toBe(5000);
    // Three keys change: three rows.
    stage.push(0, [['k1', 1, 1, t0 + 1], ['k2', 1, 1, t0 + 2], ['k1', 1, 1, t0 + 3]], 0);
    stage.advance(0);
    expect(write(2)).toBe(2);
    expect(write(3)).toBe(0);
    // The window fires: its groups are deleted (closed, no rows written), the watermark entry changes.
    stage.push(0, [['k9', 1, 1, t0 + 60_000]], 0);
    stage.push(1, [['k9', 1, 1, t0 + 60_000]], 0);
    stage.advance(0);
    expect(out).toHaveLength(5000);
    expect(write(4)).toBe(2); // the new window's group k9, and the watermark
    const back = store.load(4).operators.find(isKeyedEntries)!;
    expect([...back.entries.keys()].sort()).toEqual([`${Math.floor((t0 + 60_000) / 3000) * 3000}/["k9"]`, 'wm'].sort());
    store.close();
  });

  it('fired windows give their groups\' places in the state back: a long run holds no more than its open windows need', () => {
    const out: Row[] = [];
    const { stage, operators } = pipeline(QUERIES['TUMBLE']!, out, { late: 0, bad: 0, lastError: null });
    const win = operators.find((o): o is WindowAggregateOp => o instanceof WindowAggregateOp)!;
    const t0 = 1_700_000_000_000;
    // 200 windows of 3 s, 300 keys each, one after the other on both partitions: each fires as the next fills.
    for (let w = 0; w < 200; w++) {
      const rows = Array.from({ length: 300 }, (_, i) => [`k${i}`, i, 1, t0 + w * 3000 + (i % 3000)]);
      stage.push(0, rows, 0);
      stage.push(1, rows.slice(0, 1), 0);
      stage.advance(0);
    }
    expect(out.length).toBeGreaterThan(190 * 300);
    expect(win.openGroups()).toBeLessThanOrEqual(3 * 300);
    expect(win.columnSlots()).toBeLessThanOrEqual(4 * 300);
  });

  it('a checkpoint writes every group a batch updated, also one that created thousands of groups among the updates', () => {
    const out: Row[] = [];
    const { stage, operators } = pipeline(QUERIES['TUMBLE']!, out, { late: 0, bad: 0, lastError: null });
    const store = CheckpointStore.open(dir, 'job');
    const t0 = 1_700_000_000_000;
    const write = (id: number): number => {
      store.write(id, { offsets: {}, endOffsets: undefined, watermarks: stage.watermarks.snapshot(), operators: operators.map((op) => checkpointState(op)) }, 'COMPLETED');
      return store.lastWrite.rows;
    };
    // 5,000 groups in one window (looked up ahead of their rows), checkpointed: none changed since.
    stage.push(0, Array.from({ length: 5000 }, (_, i) => [`k${i}`, i, 1, t0]), 0);
    stage.advance(0);
    expect(write(1)).toBe(5001);
    // One batch: 4,000 new groups, each followed by an update of an old one.
    stage.push(0, Array.from({ length: 4000 }, (_, i) => [[`k${5000 + i}`, i, 1, t0 + 1], [`k${i}`, i, 1, t0 + 2]]).flat(), 0);
    stage.advance(0);
    expect(write(2)).toBe(8000);
    store.close();
  });
});

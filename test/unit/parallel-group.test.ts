// A non-windowed GROUP BY with parallel instances (engine/parallel): each instance pre-aggregates its
// partition's batch (LocalGroupAggregate) and GroupAggregateOp.mergePartials folds the partials in, poll by
// poll in batch order, as Job.processParallel() does. Against the job's own thread (each batch pushed
// through one pipeline, as Job.process() does), at parallelism 2 and 3: the emitted changelog (in order),
// bad counts, the last error, the aggregate's keyed-state changes at every "checkpoint" and its snapshot
// must be identical; and the final view state must equal an independent computation in plain code.
// (Values are integers or quarters: partial sums add in another order, exact only when nothing rounds.)
import { describe, expect, it } from 'vitest';
import { buildPipeline } from '../../engine/ops/build.ts';
import type { Change, ChangeDownstream } from '../../engine/ops/changelog.ts';
import { GroupAggregateOp, partialPieces } from '../../engine/ops/group-aggregate.ts';
import type { Downstream, OpCounters, Row } from '../../engine/ops/operator.ts';
import { SourceStage } from '../../engine/ops/source-stage.ts';
import { frontOutputTarget } from '../../engine/parallel/deliver.ts';
import { PipelineFront } from '../../engine/parallel/front.ts';
import { TUNINGS, withTuning } from '../support/pre-aggregation.ts';
import { splitPlan } from '../../engine/parallel/split.ts';
import type { PlanNode } from '../../engine/plan/plan.ts';
import { rng } from '../../examples/weibo/generator.ts';
import { formatRow, planGolden } from '../support/golden.ts';

type Poll = { partition: number; rows: Row[] }[];

interface Outcome {
  changes: string[];
  bad: number;
  lastError: string | null;
  /** keyedChanges() of the (first) GROUP BY after every fifth poll, and its snapshot at the end. */
  checkpoints: unknown[];
  snapshot: unknown;
}

const TABLE = `CREATE TABLE s (k STRING, v INT, d DOUBLE, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 's');`;

function plan(sink: string, query: string, ttlMs = 0): PlanNode {
  const root = planGolden({ file: 'parallel-group', setup: `${TABLE}\n${sink}`, query, inputs: [] });
  return ttlMs > 0 ? withTtl(root, ttlMs) : root;
}

/** The plan with a state TTL on its GROUP BYs (as SET 'table.exec.state.ttl' would give). */
function withTtl(n: PlanNode, ttlMs: number): PlanNode {
  if (n.kind === 'source') return n;
  const input = withTtl(n.input, ttlMs);
  return n.kind === 'groupAggregate' ? { ...n, input, stateTtlMs: ttlMs } : { ...n, input };
}

function sourceTable(root: PlanNode) {
  let n = root;
  while (n.kind !== 'source') n = n.input;
  return n.table;
}

function harness(root: PlanNode, partitions: readonly number[], clock: { t: number }) {
  const changes: string[] = [];
  const counters: OpCounters = { late: 0, bad: 0, lastError: null };
  const sink: Downstream & ChangeDownstream = {
    push: () => {
      throw new Error('an updating plan emits changes');
    },
    pushChanges: (cs: Change[]) => changes.push(...cs.map((c) => `${c.op} | ${formatRow(c.row, root.schema)}`)),
    watermark: () => undefined,
  };
  const pipeline = buildPipeline(root, sink, counters, 'UTC', { now: () => clock.t });
  const stage = new SourceStage(sourceTable(root), partitions, pipeline.entry, counters, { timeZone: 'UTC', idleTimeoutMs: 0, now: 0 });
  const agg = pipeline.operators.find((o): o is GroupAggregateOp => o instanceof GroupAggregateOp)!;
  return { changes, counters, sink, pipeline, stage, agg };
}

const copy = (polls: Poll[]): Poll[] => polls.map((poll) => poll.map((b) => ({ partition: b.partition, rows: b.rows.map((r) => [...r]) })));

/** Polls 5, 10, ...: the aggregate's keyed changes, as a checkpoint takes them. */
function checkpointAfter(i: number, agg: GroupAggregateOp, out: unknown[]): void {
  if (i % 5 === 4) out.push(structuredClone(agg.keyedChanges()));
}

function inThread(root: PlanNode, partitions: readonly number[], polls: Poll[]): Outcome {
  const clock = { t: 0 };
  const h = harness(root, partitions, clock);
  const checkpoints: unknown[] = [];
  copy(polls).forEach((poll, i) => {
    clock.t = i * 100;
    for (const b of poll) h.stage.push(b.partition, b.rows, 0);
    h.stage.advance(0);
    checkpointAfter(i, h.agg, checkpoints);
  });
  h.stage.end();
  return { changes: h.changes, bad: h.counters.bad, lastError: h.counters.lastError, checkpoints, snapshot: structuredClone(h.agg.snapshot()) };
}

function parallel(root: PlanNode, partitions: readonly number[], polls: Poll[], instances: number): Outcome {
  const clock = { t: 0 };
  const h = harness(root, partitions, clock);
  const fronts = Array.from({ length: instances }, () => new PipelineFront(root, 'UTC'));
  const deliver = frontOutputTarget(root, h.pipeline.operators, h.sink);
  const checkpoints: unknown[] = [];
  copy(polls).forEach((poll, i) => {
    clock.t = i * 100;
    const results = poll.map((b) => fronts[partitions.indexOf(b.partition) % instances]!.run(b.rows));
    poll.forEach((b, j) => {
      const r = results[j]!;
      expect(r.output.kind).toBe('groupPartials');
      if (r.bad > 0) {
        h.counters.bad += r.bad;
        h.counters.lastError = r.lastError;
      }
      h.stage.observe(b.partition, r.maxWatermark, 0);
      // Through structured clone, as between threads.
      deliver(structuredClone(r.output));
    });
    h.stage.advance(0);
    checkpointAfter(i, h.agg, checkpoints);
  });
  h.stage.end();
  return { changes: h.changes, bad: h.counters.bad, lastError: h.counters.lastError, checkpoints, snapshot: structuredClone(h.agg.snapshot()) };
}

/** The rows a changelog leaves in a view (a multiset, sorted). */
function viewState(changes: readonly string[]): string[] {
  const rows = new Map<string, number>();
  for (const c of changes) {
    const [op, row] = [c.slice(0, 2), c.slice(5)];
    rows.set(row, (rows.get(row) ?? 0) + (op === '+I' || op === '+U' ? 1 : -1));
  }
  for (const [r, n] of rows) expect(n === 0 || n === 1, `row ${r} is in the view ${n} times`).toBe(true);
  return [...rows].filter(([, n]) => n === 1).map(([r]) => r).sort();
}

/** Random polls over four partitions: keys with NULLs, values with NULLs, some keys that are no number. */
function randomPolls(seed: number, polls = 120): Poll[] {
  const r = rng(seed);
  const out: Poll[] = [];
  for (let i = 0; i < polls; i++) {
    const poll: Poll = [];
    for (const p of [0, 1, 2, 3]) {
      if (r() < 0.3) continue;
      const rows: Row[] = [];
      const n = Math.floor(r() * 25);
      for (let j = 0; j < n; j++) {
        const k = r() < 0.07 ? null : r() < 0.04 ? 'x' : String(Math.floor(r() * 12));
        rows.push([k, r() < 0.08 ? null : Math.floor(r() * 100) - 20, r() < 0.1 ? null : Math.floor(r() * 40) / 4, 1_000_000 + i * 1000 + j]);
      }
      poll.push({ partition: p, rows });
    }
    out.push(poll);
  }
  return out;
}

const OUT = (cols: string) => `CREATE TABLE o (${cols}) WITH ('connector' = 'kafka', 'topic' = 'o');`;

const queries: Record<string, { sink: string; query: string; ttlMs?: number; bad?: boolean }> = {
  'every aggregate, NULL keys': {
    sink: OUT('k STRING, n BIGINT, nv BIGINT, total INT, lo INT, hi INT, av INT, dv BIGINT, sd DOUBLE, ad DOUBLE, dd DOUBLE'),
    query: `INSERT INTO o SELECT k, COUNT(*), COUNT(v), SUM(v), MIN(v), MAX(v), AVG(v), COUNT(DISTINCT v), SUM(d), AVG(d), MAX(d) FROM s GROUP BY k`,
  },
  'HAVING above, a filter below': {
    sink: OUT('k STRING, n BIGINT, total INT'),
    query: `INSERT INTO o SELECT k, COUNT(*), SUM(v) FROM s WHERE v IS NULL OR v <> 13 GROUP BY k HAVING COUNT(*) > 3 AND SUM(v) < 900`,
  },
  'a key expression that fails on some rows, two keys': {
    sink: OUT('ki INT, par INT, n BIGINT, lo DOUBLE'),
    query: `INSERT INTO o SELECT CAST(k AS INT), v % 3, COUNT(*), MIN(d) FROM s GROUP BY CAST(k AS INT), v % 3`,
    bad: true,
  },
  'an argument that fails on some rows, no key': {
    sink: OUT('n BIGINT, total INT, dk BIGINT'),
    query: `INSERT INTO o SELECT COUNT(*), SUM(CAST(k AS INT)), COUNT(DISTINCT k) FROM s`,
    bad: true,
  },
  'an aggregate over an aggregate': {
    sink: OUT('n BIGINT, users BIGINT, hi INT'),
    query: `INSERT INTO o SELECT n, COUNT(*), MAX(total) FROM (SELECT k, COUNT(*) AS n, SUM(v) AS total FROM s GROUP BY k) GROUP BY n`,
  },
  'state TTL: keys expire between polls': {
    sink: OUT('k STRING, n BIGINT, total INT'),
    query: `INSERT INTO o SELECT k, COUNT(*), SUM(v) FROM s GROUP BY k`,
    ttlMs: 150,
  },
  // Sweeps of expired keys happen in a batch's push, also one whose rows all fail or a filter removes: the
  // keyed-state deletes a checkpoint takes must come at the same polls.
  'state TTL, a filter below, a key that fails': {
    sink: OUT('ki INT, n BIGINT'),
    query: `INSERT INTO o SELECT CAST(k AS INT), COUNT(*) FROM s WHERE v IS NULL OR v > 60 GROUP BY CAST(k AS INT)`,
    ttlMs: 150,
    bad: true,
  },
};


describe('a GROUP BY pre-aggregated in parallel instances', () => {
  for (const [what, q] of Object.entries(queries)) {
    for (const seed of [1, 2, 3]) {
      it(`${what}: parallelism 2 and 3 give parallelism 1's changelog and state, seed ${seed}`, () => {
        const root = plan(q.sink, q.query, q.ttlMs);
        expect(splitPlan(root).output).toBe('groupPartials');
        const partitions = [0, 1, 2, 3];
        const polls = randomPolls(seed);
        const want = inThread(root, partitions, polls);
        expect(want.changes.length).toBeGreaterThan(0);
        expect(want.changes.some((c) => c.startsWith('-U'))).toBe(true);
        if (q.bad) expect(want.bad).toBeGreaterThan(0);
        else expect(want.bad).toBe(0);
        for (const n of [2, 3]) for (const tuning of TUNINGS) withTuning(tuning, () => expect(parallel(root, partitions, polls, n), JSON.stringify(tuning)).toEqual(want));
      });
    }
  }

  it('many integer keys (the state\'s columns grow while a poll is merged): parallelism 2 and 3 give parallelism 1\'s changelog and state', () => {
    const root = plan(OUT('v INT, n BIGINT, sd DOUBLE'), `INSERT INTO o SELECT v, COUNT(*), SUM(d) FROM s GROUP BY v`);
    const r = rng(41);
    const polls: Poll[] = [];
    let keys = 1;
    for (let i = 0; i < 16; i++) {
      polls.push(
        [0, 1, 2, 3].map((partition) => ({
          partition,
          // New keys and keys held since earlier polls, each row twice in its batch.
          rows: Array.from({ length: 150 }, (_, j) => {
            const v = r() < 0.5 ? keys++ : Math.floor(r() * keys);
            return [[null, v, j / 4, 1_000_000 + i * 1000 + j], [null, v, 1, 1_000_000 + i * 1000 + j]];
          }).flat(),
        })),
      );
    }
    expect(keys).toBeGreaterThan(4096);
    const want = inThread(root, [0, 1, 2, 3], polls);
    for (const n of [2, 3]) for (const tuning of TUNINGS) withTuning(tuning, () => expect(parallel(root, [0, 1, 2, 3], polls, n), JSON.stringify(tuning)).toEqual(want));
  });

  it('leave in the view what an independent computation over the rows gives', () => {
    const { sink, query } = queries['every aggregate, NULL keys']!;
    const root = plan(sink, query);
    const polls = randomPolls(7);
    const groups = new Map<string | null, { n: number; vs: number[]; ds: number[] }>();
    for (const poll of polls)
      for (const b of poll)
        for (const [k, v, d] of b.rows) {
          const key = k as string | null;
          if (!groups.has(key)) groups.set(key, { n: 0, vs: [], ds: [] });
          const g = groups.get(key)!;
          g.n++;
          if (v !== null) g.vs.push(v as number);
          if (d !== null) g.ds.push(d as number);
        }
    const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
    const want = [...groups].map(([k, g]) =>
      formatRow(
        [
          k,
          g.n,
          g.vs.length,
          g.vs.length ? sum(g.vs) : null,
          g.vs.length ? Math.min(...g.vs) : null,
          g.vs.length ? Math.max(...g.vs) : null,
          g.vs.length ? Math.trunc(sum(g.vs) / g.vs.length) : null,
          new Set(g.vs).size,
          g.ds.length ? sum(g.ds) : null,
          g.ds.length ? sum(g.ds) / g.ds.length : null,
          g.ds.length ? Math.max(...g.ds) : null,
        ],
        root.schema,
      ),
    );
    expect(groups.has(null)).toBe(true);
    for (const n of [2, 3]) for (const tuning of TUNINGS) withTuning(tuning, () => expect(viewState(parallel(root, [0, 1, 2, 3], polls, n).changes)).toEqual(want.sort()));
  });

  it('pre-aggregate one batch into column-wise partials, keys in first-appearance order', () => {
    const root = plan(OUT('k STRING, n BIGINT, total INT, lo INT'), `INSERT INTO o SELECT k, COUNT(*), SUM(v), MIN(v) FROM s GROUP BY k`);
    const front = new PipelineFront(root, 'UTC');
    const r = front.run([
      ['b', 2, null, 1],
      ['a', 5, null, 2],
      [null, 1, null, 3],
      ['b', null, null, 4],
      ['b', 3, null, 5],
    ]);
    expect(r.output).toEqual({ kind: 'groupPartials', partials: { kind: 'partials', keys: ['b', 'a', null], accs: [3, 5, 2, 1, 5, 5, 1, 1, 1], rows: [3, 1, 1] } });
    // Nothing is kept between batches.
    expect(front.run([['a', 1, null, 6]]).output).toEqual({ kind: 'groupPartials', partials: { kind: 'partials', keys: ['a'], accs: [1, 1, 1], rows: [1] } });
  });

  it('hand over the rows\' inputs instead when a batch\'s keys barely repeat, and try pre-aggregating again later', () => {
    const root = plan(OUT('k STRING, n BIGINT, total INT'), `INSERT INTO o SELECT k, COUNT(*), SUM(CAST(v AS INT)) FROM s GROUP BY k`);
    withTuning({ inputsAbove: 0.5, minRows: 4, probeEvery: 2 }, () => {
      const front = new PipelineFront(root, 'UTC');
      const run = (rows: Row[]) => front.run(rows).output;
      // 2 keys in 4 rows: pre-aggregating pays, and stays on.
      expect(run([['a', 1, null, 1], ['b', 2, null, 2], ['a', 3, null, 3], ['b', 4, null, 4]])).toEqual({ kind: 'groupPartials', partials: { kind: 'partials', keys: ['a', 'b'], accs: [2, 4, 2, 6], rows: [2, 2] } });
      // 3 rows only: too few to decide, whatever their keys.
      expect(run([['a', 1, null, 1], ['b', 2, null, 2], ['c', 3, null, 3]])).toMatchObject({ partials: { kind: 'partials' } });
      // 4 keys in 5 rows: the next two batches go as inputs, in row order, a bad row left out.
      expect(run([['a', 1, null, 1], ['b', 2, null, 2], ['c', 3, null, 3], ['d', 4, null, 4], ['a', 5, null, 5]])).toMatchObject({ partials: { kind: 'partials', keys: ['a', 'b', 'c', 'd'] } });
      const inputs = front.run([['x', 7, null, 1], [null, null, null, 2], ['x', 8, null, 3]]);
      expect(inputs.output).toEqual({ kind: 'groupPartials', partials: { kind: 'inputs', keys: ['x', null, 'x'], args: [undefined, 7, undefined, null, undefined, 8], count: 3 } });
      expect(run([['y', 1, null, 1]])).toMatchObject({ partials: { kind: 'inputs', count: 1 } });
      // Then a batch pre-aggregated again: its keys repeat, so pre-aggregating stays on.
      expect(run([['a', 1, null, 1], ['a', 2, null, 2], ['a', 3, null, 3], ['b', 4, null, 4]])).toMatchObject({ partials: { kind: 'partials', keys: ['a', 'b'], rows: [3, 1] } });
      expect(run([['z', 1, null, 1]])).toMatchObject({ partials: { kind: 'partials' } });
    });
  });

  it('sweep expired keys at the same batches as parallelism 1: not when no row reaches the aggregate', () => {
    const { sink, query } = queries['state TTL, a filter below, a key that fails']!;
    const root = plan(sink, query, 150);
    // One row for key 1, then 14 polls (1.4 s on the harness's clock) whose rows the filter removes: one
    // thread never calls the aggregate again, so key 1 stays in state (expired, not swept) and no
    // checkpoint deletes it.
    const polls: Poll[] = [[{ partition: 0, rows: [['1', 99, null, 1]] }], ...Array.from({ length: 14 }, (_, i): Poll => [{ partition: i % 2, rows: [['2', 5, null, 2 + i]] }])];
    const want = inThread(root, [0, 1], polls);
    expect(want.snapshot).toMatchObject({ groups: [[[1], [1], 1, 0]] });
    for (const n of [2, 3]) expect(parallel(root, [0, 1], polls, n)).toEqual(want);
  });

  it('tell a batch that reached the aggregate with only bad rows from one that did not reach it', () => {
    const root = plan(OUT('ki INT, n BIGINT'), `INSERT INTO o SELECT CAST(k AS INT), COUNT(*) FROM s WHERE v > 10 GROUP BY CAST(k AS INT)`);
    const front = new PipelineFront(root, 'UTC');
    const bad = front.run([['x', 20, null, 1]]);
    expect(bad.output).toEqual({ kind: 'groupPartials', partials: { kind: 'partials', keys: [], accs: [], rows: [] } });
    expect(bad.bad).toBe(1);
    // Filtered out: GroupAggregateOp.push would not have been called at all.
    expect(front.run([['1', 5, null, 2]]).output).toEqual({ kind: 'groupPartials', partials: null });
  });
});

/**
 * Instances that read their own partitions (jobs/parallel/owned.ts): each keeps its partial groups across
 * batches (PipelineFront with holdGroups) until the job flushes, here every `flushEvery` polls; the job
 * merges each instance's groups, in pieces of at most `piece` groups (partialPieces).
 */
function owned(root: PlanNode, partitions: readonly number[], polls: Poll[], instances: number, flushEvery: number, piece: number): Outcome {
  const clock = { t: 0 };
  const h = harness(root, partitions, clock);
  const fronts = Array.from({ length: instances }, () => new PipelineFront(root, 'UTC', true));
  const deliver = frontOutputTarget(root, h.pipeline.operators, h.sink);
  const flush = (): void => {
    for (const f of fronts) for (const p of partialPieces(structuredClone(f.takeHeld()), piece)) deliver({ kind: 'groupPartials', partials: p });
  };
  copy(polls).forEach((poll, i) => {
    clock.t = i * 100;
    for (const b of poll) {
      const r = fronts[partitions.indexOf(b.partition) % instances]!.run(b.rows);
      expect(r.output).toEqual({ kind: 'groupPartials', partials: null });
      if (r.bad > 0) {
        h.counters.bad += r.bad;
        h.counters.lastError = r.lastError;
      }
    }
    if (i % flushEvery === flushEvery - 1) flush();
  });
  flush();
  h.stage.end();
  return { changes: h.changes, bad: h.counters.bad, lastError: h.counters.lastError, checkpoints: [], snapshot: structuredClone(h.agg.snapshot()) };
}

describe('a GROUP BY whose instances keep their groups until the job flushes them', () => {
  const untimed = Object.entries(queries).filter(([, q]) => q.ttlMs === undefined);
  for (const [what, q] of untimed) {
    it(`${what}: the view parallelism 1 leaves, at parallelism 2 and 3, flushed every 1 or 7 polls`, () => {
      const root = plan(q.sink, q.query);
      const polls = randomPolls(11);
      const want = inThread(root, [0, 1, 2, 3], polls);
      for (const n of [2, 3])
        for (const every of [1, 7]) {
          const got = owned(root, [0, 1, 2, 3], polls, n, every, 5);
          expect(viewState(got.changes), `p=${n}, every ${every}`).toEqual(viewState(want.changes));
          expect(got.bad).toBe(want.bad);
        }
    });
  }

  it('merge the same in pieces as whole (partialPieces keeps the groups\' order)', () => {
    const { sink, query } = queries['every aggregate, NULL keys']!;
    const root = plan(sink, query);
    const polls = randomPolls(12);
    const whole = owned(root, [0, 1, 2, 3], polls, 2, 5, Number.MAX_SAFE_INTEGER);
    expect(owned(root, [0, 1, 2, 3], polls, 2, 5, 3)).toEqual(whole);
    expect(partialPieces({ kind: 'partials', keys: ['a', 'b', 'c'], accs: [1, 10, 2, 20, 3, 30], rows: [1, 2, 3] }, 2)).toEqual([
      { kind: 'partials', keys: ['a', 'b'], accs: [1, 10, 2, 20], rows: [1, 2] },
      { kind: 'partials', keys: ['c'], accs: [3, 30], rows: [3] },
    ]);
    expect(partialPieces(null, 2)).toEqual([null]);
  });

  it('hold one plain integer key\'s groups in an int table across batches (the view\'s case)', () => {
    const root = plan(OUT('v INT, n BIGINT, total INT'), `INSERT INTO o SELECT v, COUNT(*), SUM(v) FROM s GROUP BY v`);
    const front = new PipelineFront(root, 'UTC', true);
    front.run([[null, 3, null, 1], [null, null, null, 2], [null, 3, null, 3]]);
    front.run([[null, -0, null, 4], [null, 0, null, 5], [null, 7, null, 6]]);
    // NULL is one key; -0 and 0 are one key (as in a Map, and SQL); groups in first-appearance order.
    expect(front.takeHeld()).toEqual({ kind: 'partials', keys: [3, null, -0, 7], accs: [2, 6, 1, null, 2, 0, 1, 7], rows: [2, 1, 2, 1] });
    expect(front.takeHeld()).toBeNull();
  });
});

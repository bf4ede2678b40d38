// Parallel pipeline instances (engine/parallel) against the job's own thread, without threads or Kafka:
// the same polls run (a) through one pipeline as Job.process() does (each batch through the source stage,
// then the watermark), and (b) as Job.processParallel() does, each partition's batches through its own
// PipelineFront (two or three instances, as worker threads would), their results merged in poll order into
// the one pipeline that owns the state. Output rows (in order), late, bad counts and the last error must be
// identical: over every golden SQL case and over random out-of-order input with late rows. (DOUBLE values
// are quarters here: partial sums add in another order, exact only when no rounding happens.)
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createJsonDecoder } from '../../connectors/formats/json.ts';
import { buildPipeline } from '../../engine/ops/build.ts';
import type { Change, ChangeDownstream } from '../../engine/ops/changelog.ts';
import type { Downstream, OpCounters, Row } from '../../engine/ops/operator.ts';
import { SourceStage } from '../../engine/ops/source-stage.ts';
import { frontOutputTarget } from '../../engine/parallel/deliver.ts';
import { PipelineFront } from '../../engine/parallel/front.ts';
import { splitPlan } from '../../engine/parallel/split.ts';
import type { PlanNode } from '../../engine/plan/plan.ts';
import { rng } from '../../examples/weibo/generator.ts';
import { formatRow, planGolden, readGolden } from '../support/golden.ts';

type Poll = { partition: number; rows: Row[] }[];

interface Outcome {
  out: string[];
  late: number;
  bad: number;
  lastError: string | null;
}

function sourceTable(root: PlanNode) {
  let n = root;
  while (n.kind !== 'source') n = n.input;
  return n.table;
}

function harness(root: PlanNode, partitions: readonly number[]) {
  const out: string[] = [];
  const counters: OpCounters = { late: 0, bad: 0, lastError: null };
  const sink: Downstream & ChangeDownstream = {
    push: (rows: Row[]) => out.push(...rows.map((r) => formatRow(r, root.schema))),
    pushChanges: (cs: Change[]) => out.push(...cs.map((c) => `${c.op} | ${formatRow(c.row, root.schema)}`)),
    watermark: () => undefined,
  };
  const p = buildPipeline(root, sink, counters, 'UTC');
  const stage = new SourceStage(sourceTable(root), partitions, p.entry, counters, { timeZone: 'UTC', idleTimeoutMs: 0, now: 0 });
  return { out, counters, sink, pipeline: p, stage };
}

const copy = (polls: Poll[]): Poll[] => polls.map((poll) => poll.map((b) => ({ partition: b.partition, rows: b.rows.map((r) => [...r]) })));

function inThread(root: PlanNode, partitions: readonly number[], polls: Poll[]): Outcome {
  const h = harness(root, partitions);
  for (const poll of copy(polls)) {
    for (const b of poll) h.stage.push(b.partition, b.rows, 0);
    h.stage.advance(0);
  }
  h.stage.end();
  return { out: h.out, ...h.counters };
}

function parallel(root: PlanNode, partitions: readonly number[], polls: Poll[], instances: number): Outcome {
  const h = harness(root, partitions);
  const fronts = Array.from({ length: instances }, () => new PipelineFront(root, 'UTC'));
  const deliver = frontOutputTarget(root, h.pipeline.operators, h.sink);
  for (const poll of copy(polls)) {
    // Instances work on a poll's batches in any order; the results are merged in batch order.
    const results = poll.map((b) => fronts[partitions.indexOf(b.partition) % instances]!.run(b.rows));
    poll.forEach((b, i) => {
      const r = results[i]!;
      if (r.bad > 0) {
        h.counters.bad += r.bad;
        h.counters.lastError = r.lastError;
      }
      h.stage.observe(b.partition, r.maxWatermark, 0);
      // Through structured clone, as between threads.
      deliver(structuredClone(r.output));
    });
    h.stage.advance(0);
  }
  h.stage.end();
  return { out: h.out, ...h.counters };
}

describe('parallel pipeline instances give the output of one pipeline', () => {
  const dir = join(import.meta.dirname, '..', 'sql');
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.sql')).sort()) {
    const c = readGolden(join(dir, f));
    if (c.error) continue;
    it(`golden case ${f}`, () => {
      const root = planGolden(c);
      const table = sourceTable(root);
      const decode = createJsonDecoder(table.physical, { ignoreParseErrors: table.options['json.ignore-parse-errors'] === 'true', timestampStandard: 'SQL' });
      const partitions = [...new Set(c.inputs.map((i) => i.partition))];
      const batches = c.inputs.map((input) => ({
        partition: input.partition,
        rows: input.lines.flatMap((l) => {
          try {
            return [decode(l)].filter((r): r is Row => r !== null);
          } catch {
            return [];
          }
        }),
      }));
      const parts = partitions.length ? partitions : [0];
      // One batch per poll (as the golden driver runs), and two batches per poll.
      for (const polls of [batches.map((b) => [b]), batches.reduce<Poll[]>((acc, b, i) => (i % 2 === 0 ? [...acc, [b]] : (acc[acc.length - 1]!.push(b), acc)), [])]) {
        const want = inThread(root, parts, polls);
        expect(parallel(root, parts, polls, 2)).toEqual(want);
      }
    });
  }

  const table = `CREATE TABLE s (k STRING, v INT, d DOUBLE, ts TIMESTAMP(3), kn AS CAST(k AS INT) + 1, WATERMARK FOR ts AS ts - INTERVAL '2' SECOND) WITH ('connector' = 'kafka', 'topic' = 's');`;
  const queries: Record<string, { sink: string; query: string }> = {
    'HOP, every aggregate, HAVING': {
      sink: `CREATE TABLE o (ws TIMESTAMP(3), k STRING, n BIGINT, nv BIGINT, total INT, lo INT, hi INT, av INT, dd BIGINT, ds DOUBLE) WITH ('connector' = 'kafka', 'topic' = 'o');`,
      query: `INSERT INTO o SELECT window_start, k, COUNT(*), COUNT(v), SUM(v), MIN(v), MAX(v), AVG(v), COUNT(DISTINCT v), AVG(d)
FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '15' SECOND)) WHERE v IS NULL OR v <> 13 GROUP BY window_start, window_end, k HAVING COUNT(*) > 1`,
    },
    'TUMBLE over a computed column that fails on some rows, no key': {
      sink: `CREATE TABLE o (ws TIMESTAMP(3), we TIMESTAMP(3), n BIGINT, kmax INT, dmin DOUBLE) WITH ('connector' = 'kafka', 'topic' = 'o');`,
      query: `INSERT INTO o SELECT window_start, window_end, COUNT(*), MAX(kn), MIN(d) FROM TABLE(TUMBLE(TABLE s, DESCRIPTOR(ts), INTERVAL '10' SECOND)) GROUP BY window_start, window_end`,
    },
    'stateless filter and projection': {
      sink: `CREATE TABLE o (k STRING, v2 INT, ts TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'o');`,
      query: `INSERT INTO o SELECT UPPER(k), v * 2, ts FROM s WHERE CAST(k AS INT) > 1 OR v > 50`,
    },
    'window TVF without aggregate': {
      sink: `CREATE TABLE o (k STRING, ws TIMESTAMP(3), we TIMESTAMP(3)) WITH ('connector' = 'kafka', 'topic' = 'o');`,
      query: `INSERT INTO o SELECT k, window_start, window_end FROM TABLE(HOP(TABLE s, DESCRIPTOR(ts), INTERVAL '5' SECOND, INTERVAL '10' SECOND))`,
    },
  };
  for (const [what, q] of Object.entries(queries)) {
    for (const seed of [1, 2, 3]) {
      it(`${what}: random out-of-order input with late rows, seed ${seed}`, () => {
        const root = planGolden({ file: what, setup: `${table}\n${q.sink}`, query: q.query, inputs: [] });
        const r = rng(seed);
        const partitions = [0, 1, 2, 3];
        const clock = [0, 0, 0, 0];
        const polls: Poll[] = [];
        let lateCandidates = 0;
        for (let i = 0; i < 300; i++) {
          const poll: Poll = [];
          for (const p of partitions) {
            if (r() < 0.3) continue;
            const rows: Row[] = [];
            const n = Math.floor(r() * 20);
            for (let j = 0; j < n; j++) {
              clock[p]! += Math.floor(r() * 150);
              const late = r() < 0.03;
              if (late) lateCandidates++;
              const k = r() < 0.05 ? null : r() < 0.05 ? 'x' : String(Math.floor(r() * 6));
              const ts = r() < 0.01 ? null : 1_000_000 + clock[p]! - (late ? 20_000 : Math.floor(r() * 1500));
              rows.push([k, r() < 0.05 ? null : Math.floor(r() * 100), r() < 0.1 ? null : Math.floor(r() * 40) / 4, ts]);
            }
            poll.push({ partition: p, rows });
          }
          polls.push(poll);
        }
        expect(lateCandidates).toBeGreaterThan(0);
        const want = inThread(root, partitions, polls);
        expect(want.out.length).toBeGreaterThan(0);
        expect(want.bad).toBeGreaterThan(0);
        if (splitPlan(root).output === 'partials') expect(want.late).toBeGreaterThan(0);
        for (const n of [2, 3]) expect(parallel(root, partitions, polls, n)).toEqual(want);
      });
    }
  }
});

// Projections that only rename their input's columns hand the rows (or changes) on as they are; any other
// projection still computes its own rows. Both give the rows a user expects.
import { describe, expect, it } from 'vitest';
import { buildPipeline } from '../../engine/ops/build.ts';
import type { Change, ChangeDownstream } from '../../engine/ops/changelog.ts';
import { GroupAggregateOp } from '../../engine/ops/group-aggregate.ts';
import type { Downstream, OpCounters, Row } from '../../engine/ops/operator.ts';
import { ProjectOp } from '../../engine/ops/stateless.ts';
import { planGolden } from '../support/golden.ts';

const SETUP = `CREATE TABLE posts (uid BIGINT, att INT) WITH ('connector' = 'kafka', 'topic' = 'posts');
CREATE TABLE out2 (a BIGINT, b BIGINT) WITH ('connector' = 'kafka', 'topic' = 'out2');
CREATE TABLE same (a BIGINT, b INT) WITH ('connector' = 'kafka', 'topic' = 'same');`;

const counters = (): OpCounters => ({ late: 0, bad: 0, lastError: null });

/** Runs the rows through the query's pipeline; returns what the sink got and what the aggregate emitted. */
function runUpdating(query: string, rows: Row[]): { sink: Change[]; emitted: Change[] } {
  const plan = planGolden({ file: 'projection', setup: SETUP, query, inputs: [] });
  const sink: Change[] = [];
  const out: Downstream & ChangeDownstream = { push: () => undefined, pushChanges: (cs) => sink.push(...cs), watermark: () => undefined };
  const p = buildPipeline(plan, out, counters(), 'UTC');
  // What the aggregate hands to the operator above it, seen by wrapping that operator's pushChanges.
  const agg = p.operators.find((o): o is GroupAggregateOp => o instanceof GroupAggregateOp)!;
  const above = (agg as unknown as { out: ChangeDownstream }).out;
  const emitted: Change[] = [];
  const pushChanges = above.pushChanges.bind(above);
  above.pushChanges = (cs) => {
    emitted.push(...cs);
    pushChanges(cs);
  };
  p.entry.push(rows);
  p.entry.watermark(Number.MAX_SAFE_INTEGER);
  return { sink, emitted };
}

describe('projection', () => {
  it('a projection that renames an aggregate\'s columns hands its changes on unchanged', () => {
    const { sink, emitted } = runUpdating('INSERT INTO out2 SELECT uid, COUNT(*) AS posts FROM posts GROUP BY uid', [
      [1, 5],
      [2, 6],
      [1, 7],
    ]);
    expect(sink.map((c) => [c.op, ...c.row])).toEqual([
      ['+I', 1, 2],
      ['+I', 2, 1],
    ]);
    expect(sink.length).toBe(emitted.length);
    for (let i = 0; i < sink.length; i++) expect(sink[i]).toBe(emitted[i]);
  });

  it('a projection that reorders or repeats columns computes its rows', () => {
    const { sink, emitted } = runUpdating('INSERT INTO out2 SELECT COUNT(*), uid FROM posts GROUP BY uid', [
      [1, 5],
      [2, 6],
      [1, 7],
    ]);
    expect(sink.map((c) => [c.op, ...c.row])).toEqual([
      ['+I', 2, 1],
      ['+I', 1, 2],
    ]);
    expect(sink[0]).not.toBe(emitted[0]);
    const same = runUpdating('INSERT INTO out2 SELECT uid AS a, uid AS b FROM (SELECT uid, COUNT(*) AS n FROM posts GROUP BY uid)', [[3, 1]]);
    expect(same.sink.map((c) => [c.op, ...c.row])).toEqual([['+I', 3, 3]]);
  });

  it('only a projection of every input column in order hands rows on', () => {
    const build = (query: string, got: Row[]) =>
      buildPipeline(planGolden({ file: 'projection', setup: SETUP, query, inputs: [] }), { push: (rs) => got.push(...rs), watermark: () => undefined }, counters(), 'UTC');
    const input = (): Row[] => [
      [1, 2],
      [3, 0],
    ];
    // Every column of the source in order (the sink's types equal the source's: no cast): the rows themselves.
    const kept: Row[] = [];
    const plain = build('INSERT INTO same SELECT uid, att FROM posts WHERE att > 0', kept);
    const rows = input();
    plain.entry.push(rows);
    expect(kept).toEqual([[1, 2]]);
    expect(kept[0]).toBe(rows[0]);
    // Swapped, or cast to the sink's BIGINT: rows of its own, with the right values.
    const swapped: Row[] = [];
    const s = build('INSERT INTO out2 SELECT att, uid FROM posts', swapped);
    const rows2 = input();
    s.entry.push(rows2);
    expect(swapped).toEqual([
      [2, 1],
      [0, 3],
    ]);
    expect(swapped[0]).not.toBe(rows2[0]);
    const cast: Row[] = [];
    const c = build('INSERT INTO out2 SELECT uid, att FROM posts', cast);
    const rows3 = input();
    c.entry.push(rows3);
    expect(cast).toEqual(input());
    expect(c.operators.some((o) => o instanceof ProjectOp)).toBe(true);
  });
});

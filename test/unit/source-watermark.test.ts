// A batch's watermark candidate (SourceStage.complete): the greatest value of the WATERMARK expression over
// its rows. For an expression that only shifts the event time by a constant it is taken from the greatest
// event time; any other expression is evaluated row by row. Both must give what evaluating every row gives.
import { describe, expect, it } from 'vitest';
import { SourceStage } from '../../engine/ops/source-stage.ts';
import type { Row } from '../../engine/ops/operator.ts';
import { planGolden } from '../support/golden.ts';
import { sourceOf } from '../../engine/plan/plan.ts';
import { compileExpr } from '../../engine/expr/index.ts';
import { rng } from '../support/rng.ts';

const table = (watermark: string, extra = '') =>
  sourceOf(
    planGolden({
      file: 'wm',
      setup: `CREATE TABLE s (k BIGINT, ts TIMESTAMP(3)${extra}, WATERMARK FOR ${watermark}) WITH ('connector' = 'kafka', 'topic' = 's');
CREATE TABLE o (k BIGINT) WITH ('connector' = 'kafka', 'topic' = 'o');`,
      query: 'INSERT INTO o SELECT k FROM s',
      inputs: [],
    }),
  ).table;

function stageOf(t: ReturnType<typeof table>): SourceStage {
  return new SourceStage(t, [0], { push: () => undefined, watermark: () => undefined }, { late: 0, bad: 0, lastError: null }, { timeZone: 'UTC', idleTimeoutMs: 0, now: 0 });
}

/** The candidate as every row's expression gives it. */
function rowByRow(t: ReturnType<typeof table>, rows: readonly Row[]): number | undefined {
  const fn = compileExpr(t.watermark!.expr, { timeZone: 'UTC' });
  let max: number | undefined;
  for (const r of rows) {
    const w = fn(r);
    if (typeof w === 'number' && (max === undefined || w > max)) max = w;
  }
  return max;
}

describe('a batch\'s watermark candidate', () => {
  const cases: [string, string, string][] = [
    ['ts - INTERVAL', "ts AS ts - INTERVAL '5' SECOND", ''],
    ['ts itself', 'ts AS ts', ''],
    ['ts + INTERVAL', "ts AS ts + INTERVAL '1' MINUTE", ''],
    ['a computed column', "t2 AS t2 - INTERVAL '2' SECOND", ', t2 AS ts + INTERVAL \'1\' HOUR'],
    ['not a shift (a CASE)', "ts AS CASE WHEN k > 5 THEN ts - INTERVAL '1' SECOND ELSE ts - INTERVAL '9' SECOND END", ''],
  ];
  for (const [name, watermark, extra] of cases) {
    it(`equals the greatest of every row's expression: ${name}`, () => {
      const t = table(watermark, extra);
      const rand = rng(name.length);
      for (let batch = 0; batch < 50; batch++) {
        const rows: Row[] = [];
        for (let i = Math.floor(rand() * 20); i > 0; i--) {
          const r = rand();
          rows.push([Math.floor(rand() * 10), r < 0.15 ? null : r < 0.2 ? undefined : 1_700_000_000_000 + Math.floor(rand() * 1e7)]);
        }
        const stage = stageOf(t);
        const { rows: full, maxWatermark } = stage.complete(rows.map((r) => [...r]));
        expect(maxWatermark).toBe(rowByRow(t, full));
      }
    });
  }

  it('takes a shifted event time from the greatest event time, without evaluating every row', () => {
    const t = table("ts AS ts - INTERVAL '5' SECOND");
    const stage = stageOf(t);
    expect((stage as unknown as { wmColumn: number }).wmColumn).toBe(1);
    expect(stage.complete([[1, 10_000], [2, 30_000], [3, null], [4, 20_000]]).maxWatermark).toBe(25_000);
    expect(stage.complete([[1, null]]).maxWatermark).toBeUndefined();
    expect((stageOf(table("ts AS CASE WHEN k > 5 THEN ts ELSE ts END")) as unknown as { wmColumn: number }).wmColumn).toBe(-1);
  });
});

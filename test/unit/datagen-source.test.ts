import { describe, expect, it } from 'vitest';
import { DatagenSource, parseDatagenOptions, rowsOfPartition } from '../../connectors/datagen/index.ts';
import { OptionError } from '../../connectors/types.ts';
import type { SourceSpec } from '../../connectors/types.ts';
import { T } from '../../engine/plan/types.ts';
import { WeiboGenerator } from '../../examples/weibo/generator.ts';
import { describeSourceConformance } from '../support/source-conformance.ts';

const columns = [
  { name: 'tid', type: T.bigint },
  { name: 'uid', type: T.bigint },
  { name: 'time', type: T.timestamp },
  { name: 'text', type: T.string },
  { name: 'nope', type: T.string },
];

function spec(options: Record<string, string>, resume?: { startOffsets: Record<number, number>; endOffsets?: Record<number, number> }): SourceSpec {
  return { table: 'weibo', options, columns, brokers: '', jobName: 'test', timeZone: 'UTC', ...(resume ?? {}) };
}

describeSourceConformance("datagen 'weibo', 3 partitions, bounded", {
  open: async (resume) => new DatagenSource(spec({ connector: 'weibo', 'number-of-rows': '6000', partitions: '3', seed: '5', 'bad-rate': '0.01' }, resume)),
  key: (r) => JSON.stringify(r),
  rows: 5959,
  bounded: true,
});

describeSourceConformance("datagen kind weibo, unbounded at 20000 rows/s", {
  open: async (resume) => new DatagenSource(spec({ connector: 'datagen', kind: 'weibo', 'rows-per-second': '20000', seed: '9' }, resume)),
  key: (r) => String(r[0]),
  rows: 600,
  bounded: false,
});

describe('datagen source', () => {
  it('produces the events of `weir gen weibo` for the seed, decoded by column name', async () => {
    const src = new DatagenSource(spec({ connector: 'weibo', 'number-of-rows': '50', seed: '42' }));
    const rows = (await src.poll(10)).flatMap((b) => b.rows);
    const gen = new WeiboGenerator({ seed: 42, startMs: Date.UTC(2026, 10, 25, 8), stepMs: 10, jitterMs: 2000, users: 5000, badRate: 0 });
    const want = Array.from({ length: 50 }, () => gen.next()).map((e) => (typeof e === 'string' ? e : [e.tid, e.uid, e.text]));
    expect(rows.map((r) => [r[0], r[1], r[3]])).toEqual(want);
    expect(rows.every((r) => r[4] === null && typeof r[2] === 'number')).toBe(true);
    expect(src.finished()).toBe(true);
  });

  it('keeps to rows-per-second', async () => {
    const src = new DatagenSource(spec({ connector: 'weibo', 'rows-per-second': '200' }));
    const t0 = Date.now();
    let n = 0;
    while (Date.now() - t0 < 500) for (const b of await src.poll(20)) n += b.rows.length;
    expect(n).toBeGreaterThan(50);
    expect(n).toBeLessThanOrEqual(110);
  });

  it('splits the rows over partitions', () => {
    expect([0, 1, 2].map((p) => rowsOfPartition(10, p, 3))).toEqual([4, 3, 3]);
    expect(rowsOfPartition(1, 2, 3)).toBe(0);
  });

  it('checks its options', () => {
    const bad = (o: Record<string, string>) => {
      try {
        parseDatagenOptions(o);
      } catch (e) {
        return e instanceof OptionError ? e.option : 'other';
      }
      return undefined;
    };
    expect(bad({ connector: 'datagen' })).toBe('kind');
    expect(bad({ connector: 'datagen', kind: 'nexmark' })).toBe('kind');
    expect(bad({ connector: 'weibo', 'rows-per-second': 'fast' })).toBe('rows-per-second');
    expect(bad({ connector: 'weibo', 'number-of-rows': '-1' })).toBe('number-of-rows');
    expect(bad({ connector: 'weibo', topic: 'x' })).toBe('topic');
    expect(bad({ connector: 'weibo', 'start-time': 'yesterday' })).toBe('start-time');
    expect(bad({ connector: 'weibo', seed: '1', partitions: '2' })).toBeUndefined();
  });
});

// The view store and the view sink without a broker: upserts by key (NULL keys included), the changelog
// they report, the checkpoint id committed with the rows, and the sink's two-phase answers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ViewSink } from '../../connectors/sqlite/sink.ts';
import { encodeValue, sqliteType } from '../../connectors/sqlite/values.ts';
import { ViewStore } from '../../connectors/sqlite/view-store.ts';
import type { ViewChange } from '../../connectors/sqlite/view-store.ts';
import { T } from '../../engine/plan/types.ts';
import { viewKey } from '../../jobs/materialized-views.ts';
import type { PlanNode } from '../../engine/plan/plan.ts';

const dirs: string[] = [];
const tmp = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'weir-views-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const COLS = [
  { name: 'k', type: 'STRING', sqliteType: 'TEXT' as const },
  { name: 'n', type: 'BIGINT', sqliteType: 'INTEGER' as const },
];

describe('ViewStore', () => {
  it('upserts by key, a NULL key being one row, and reports +I / -U +U', () => {
    const store = ViewStore.open(join(tmp(), 'views.db'));
    try {
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: ['k'] });
      const seen: ViewChange[] = [];
      const sub = store.subscribe('v', (cs) => seen.push(...cs))!;
      expect(sub.snapshot).toEqual([]);
      store.commit('v', 'j', 1, [['a', 1], [null, 2]], '2026-01-01 00:00:00.000');
      store.commit('v', 'j', 2, [[null, 3], ['a', 1]], undefined);
      expect(store.rowCount('v')).toBe(2);
      expect(seen).toEqual([
        { op: '+I', row: { k: 'a', n: 1 } },
        { op: '+I', row: { k: null, n: 2 } },
        { op: '-U', row: { k: null, n: 2 } },
        { op: '+U', row: { k: null, n: 3 } },
      ]);
      const m = store.meta('v')!;
      expect(m.checkpointId).toBe(2);
      expect(m.watermark).toBe('2026-01-01 00:00:00.000');
      expect(store.lastCheckpoint('v', 'j')).toBe(2);
      expect(store.lastCheckpoint('v', 'other')).toBeUndefined();
      sub.unsubscribe();
    } finally {
      store.close();
    }
  });

  it('appends without a key and replaces a stale table of the same name', () => {
    const store = ViewStore.open(join(tmp(), 'views.db'));
    try {
      store.create({ name: 'v', jobId: 'j', columns: COLS, key: null });
      store.commit('v', 'j', 1, [['a', 1], ['a', 1]], undefined);
      expect(store.rowCount('v')).toBe(2);
      store.create({ name: 'v', jobId: 'j2', columns: COLS, key: null });
      expect(store.rowCount('v')).toBe(0);
      expect(() => store.commit('v', 'j', 2, [], undefined)).toThrow(/belongs to job j2/);
    } finally {
      store.close();
    }
  });
});

describe('ViewSink', () => {
  it('commits rows only with their checkpoint and answers recover() from the stored checkpoint id', async () => {
    const path = join(tmp(), 'views.db');
    const store = ViewStore.open(path);
    store.create({ name: 'v', jobId: 'j', columns: COLS, key: null });
    const columns = [{ name: 'k', type: T.string }, { name: 'n', type: T.bigint }];
    const sink = new ViewSink(ViewStore.open(path), 'v', 'j', columns);
    expect(await sink.committer.recover(undefined)).toBe(false);
    sink.write([['a', 1]]);
    await sink.flush();
    expect(store.rowCount('v')).toBe(0);
    await sink.committer.prepare(1);
    expect(store.rowCount('v')).toBe(0);
    await sink.committer.commit(1);
    expect(store.rowCount('v')).toBe(1);
    sink.write([['b', 2]]);
    await sink.committer.prepare(2);
    // The process "dies" here: checkpoint 2 is PENDING but the view does not hold it.
    await sink.close();
    const again = new ViewSink(ViewStore.open(path), 'v', 'j', columns);
    expect(await again.committer.recover(2)).toBe(false);
    expect(await again.committer.recover(1)).toBe(true);
    expect(store.rowCount('v')).toBe(1);
    await again.close();
    store.close();
  });
});

describe('stored values', () => {
  it('encodes as issue 4 says', () => {
    expect(encodeValue(Date.UTC(2026, 0, 2, 3, 4, 5, 6), T.timestamp)).toBe('2026-01-02 03:04:05.006');
    expect(encodeValue(true, T.boolean)).toBe(1);
    expect(encodeValue(false, T.boolean)).toBe(0);
    expect(encodeValue(1.5, T.decimal(10, 2))).toBe('1.50');
    expect(encodeValue(2 ** 40, T.bigint)).toBe(2 ** 40);
    expect(encodeValue(null, T.int)).toBeNull();
    expect([T.timestamp, T.bigint, T.int, T.double, T.decimal(5, 1), T.boolean, T.string].map(sqliteType)).toEqual(['TEXT', 'INTEGER', 'INTEGER', 'REAL', 'TEXT', 'INTEGER', 'TEXT']);
  });

  it('encodes each timestamp as its own text, repeated or alternating (the last one is kept)', () => {
    const t0 = Date.UTC(2026, 10, 26, 23, 59, 59, 999);
    const times = [t0, t0, t0 + 1, t0, -1, -1, 0, t0 + 1, t0 + 1];
    expect(times.map((ms) => encodeValue(ms, T.timestamp))).toEqual([
      '2026-11-26 23:59:59.999',
      '2026-11-26 23:59:59.999',
      '2026-11-27 00:00:00.000',
      '2026-11-26 23:59:59.999',
      '1969-12-31 23:59:59.999',
      '1969-12-31 23:59:59.999',
      '1970-01-01 00:00:00.000',
      '2026-11-27 00:00:00.000',
      '2026-11-27 00:00:00.000',
    ]);
  });

  it('encodes window_start and window_end of row after row as formatTimestamp does (the last two are kept)', () => {
    const { formatTimestamp } = { formatTimestamp: (ms: number) => new Date(ms).toISOString().replace('T', ' ').replace('Z', '') };
    const start = Date.UTC(2026, 10, 26, 22, 0);
    const times: number[] = [];
    for (let i = 0; i < 200; i++) {
      // Rows of one window, then of the next, now and then one of an older window or another timestamp.
      const ws = start + 60_000 * Math.floor(i / 50) - (i % 17 === 0 ? 60_000 : 0);
      times.push(ws, ws + 60_000);
      if (i % 23 === 0) times.push(start + i, ws);
    }
    expect(times.map((ms) => encodeValue(ms, T.timestamp))).toEqual(times.map(formatTimestamp));
  });
});

describe('viewKey', () => {
  const agg = {
    kind: 'windowAggregate',
    input: { kind: 'source' },
    keys: [{ kind: 'windowStart' }, { kind: 'windowEnd' }, { kind: 'expr' }],
    aggs: [{}],
    schema: [],
  } as unknown as PlanNode;
  const project = (idx: number[], names: string[]): PlanNode =>
    ({ kind: 'project', input: agg, exprs: idx.map((index) => ({ kind: 'input', index })), schema: names.map((name) => ({ name, type: T.bigint })) }) as unknown as PlanNode;

  it('is the projected GROUP BY columns of a window aggregate, else none (append-only)', () => {
    expect(viewKey(project([0, 1, 2, 3], ['ws', 'we', 'uid', 'n']))).toEqual(['ws', 'we', 'uid']);
    expect(viewKey(project([3, 2, 0, 1], ['n', 'uid', 'ws', 'we']))).toEqual(['ws', 'we', 'uid']);
    expect(viewKey(project([0, 3], ['ws', 'n']))).toBeNull();
    expect(viewKey({ kind: 'project', input: { kind: 'source' }, exprs: [], schema: [] } as unknown as PlanNode)).toBeNull();
  });
});
